// The XML element model is part of XMPP's API (stanzas): a user who imports XMPP gets it.
@_exported import SwitchboardXML
