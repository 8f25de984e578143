// The XML element model is part of SOAP's API (header blocks, untyped bodies, fault
// details): a user who imports SOAP gets it. The rest of the XML toolkit stays `package`.
@_exported import SwitchboardXML
