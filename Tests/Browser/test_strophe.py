"""Strophe.js in headless Chromium against our XMPP-over-WebSocket server (RFC 7395).

`switchboard serve --xmpp-user alice:wonderland --xmpp-user bob:builder` serves XMPP
for the domain `localhost` at ws://127.0.0.1:PORT/xmpp (subprotocol `xmpp`). Chromium
opens the same-origin page http://127.0.0.1:PORT/ (a plain page, no script), the test
injects the Debian package `libjs-strophe` (/usr/share/javascript/strophe/strophe.js,
1.2.14: SCRAM-SHA-1 and PLAIN, no SCRAM-SHA-256) as a <script> element and drives two
Strophe connections in that page with execute_async_script, one phase at a time:

  1. alice (Strophe's default mechanisms: it picks SCRAM-SHA-1, priority 50, over the
     PLAIN the server also offers to loopback peers) and bob (only Strophe.SASLSHA1
     registered) reach Strophe.Status.CONNECTED; both authenticated with SCRAM-SHA-1,
     and Strophe checked the server signature (v=) of each <success/>;
  2. alice sends directed presence to bob's full JID (no roster subscription) and
     bob's presence handler receives it;
  3. alice sends a chat message to bob's full JID, bob's handler gets the body and
     answers, alice's handler gets the answer (bodies with XML specials and non-ASCII);
  4. both call connection.disconnect() and reach Strophe.Status.DISCONNECTED.

Every frame is logged twice: Strophe's rawInput/rawOutput hooks, and a WebSocket
subclass installed before Strophe (the wire log, with the negotiated subprotocol and
the close event). Strophe 1.2.14's disconnect() sends <close/> and closes the socket
in the same tick, so the browser would drop the server's <close/> unread; the wire
socket holds the native close() back until the server's <close/> frame arrives (at most
CLOSE_LINGER_MS) and hides frames from Strophe from then on, so the test can check that
the server answers <close/> with exactly the frame Strophe's _onMessage compares
against. On any failure the message shows the status history and all frames.

Needs the Debian packages `chromium`, `chromium-driver` and `libjs-strophe` (.ci/run
installs them) and selenium (Tests/Browser/requirements.txt). Nothing is skipped.
The paths can be changed with CHROMEDRIVER, CHROMIUM and STROPHE_JS.

Run: .venv-interop/bin/python -m pytest Tests/Browser/test_strophe.py   (scripts/test.sh stage 5)
"""
from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

import pytest

from conftest import Serve, browser_console
from selenium import webdriver

REPO_ROOT = Path(__file__).resolve().parents[2]
STROPHE_JS = Path(os.environ.get("STROPHE_JS", "/usr/share/javascript/strophe/strophe.js"))
USERS = {"alice": "wonderland", "bob": "builder"}
DOMAIN = "localhost"
# RFC 7395 §3.6; Strophe 1.2.14's _onMessage recognises the server's <close/> only by
# comparing the whole frame with this string.
STROPHE_CLOSE_FRAME = '<close xmlns="urn:ietf:params:xml:ns:xmpp-framing" />'
PHASE_MS = 15000        # each in-page phase gives up after this (the script timeout is longer)
CLOSE_LINGER_MS = 3000  # how long the wire socket waits for the server's <close/>
SCRIPT_TIMEOUT = 30     # selenium's bound on one execute_async_script
ALICE_TO_BOB = "hello bob <from> alice & \"strophe\" \u00e9\u2603"
BOB_TO_ALICE = "hi alice, bob here: 'ack' \u2713"


# --- the server and the browser (as in test_browser.py) --------------------------------

@pytest.fixture
def serve():
    users = [arg for name, password in USERS.items() for arg in ("--xmpp-user", f"{name}:{password}")]
    server = Serve(*users)
    yield server
    server.stop()


@pytest.fixture
def strophe_chromium(chromium):
    chromium.set_script_timeout(SCRIPT_TIMEOUT)
    return chromium


# --- the in-page harness ------------------------------------------------------------------

# Installed after strophe.js. window.sbx holds the connections, every status change, the
# frames from Strophe's rawInput/rawOutput hooks and Strophe.log warnings/errors, the
# wire log of every WebSocket, and what the stanza handlers received. Each phase returns
# a Promise that settles within PHASE_MS.
HARNESS = r"""
(function (PHASE_MS, CLOSE_LINGER_MS) {
  const sbx = window.sbx = {
    conns: {}, statuses: [], raw: [], strophe_log: [], sockets: [], got: {},
    mechanisms_tried: {},
  };
  const statusName = {};
  for (const k in Strophe.Status) statusName[Strophe.Status[k]] = k;
  sbx.statusName = statusName;
  Strophe.log = function (level, msg) {
    if (level >= Strophe.LogLevel.WARN) sbx.strophe_log.push({level: level, msg: String(msg)});
  };

  // The wire log: every frame each way, the negotiated subprotocol, the close event.
  // close() is held back until the server's <close/> (or CLOSE_LINGER_MS): Strophe 1.2.14
  // closes right after sending its own <close/>, and a CLOSING socket drops what arrives.
  // Frames arriving after Strophe asked to close are recorded but not passed to Strophe.
  const NativeWebSocket = window.WebSocket;
  class WireSocket extends NativeWebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      const rec = this.sbxRec = {who: null, url: String(url), offered: protocols, protocol: null,
                                 frames: [], close: null, closeRequestedAt: null, lingerEnded: null};
      sbx.sockets.push(rec);
      this.addEventListener("open", () => { rec.protocol = this.protocol; });
      this.addEventListener("message", (e) => {
        const data = String(e.data);
        rec.frames.push({dir: "in", data: data, afterCloseRequest: rec.closeRequestedAt !== null});
        if (rec.closeRequestedAt !== null) {
          e.stopImmediatePropagation();
          if (data.indexOf("<close") === 0) this.sbxFinishClose("server <close/>");
        }
      });
      this.addEventListener("close", (e) => {
        rec.close = {code: e.code, reason: e.reason, wasClean: e.wasClean};
        if (this.sbxTimer) clearTimeout(this.sbxTimer);
      });
    }
    send(data) {
      this.sbxRec.frames.push({dir: "out", data: String(data)});
      return super.send(data);
    }
    close() {
      const rec = this.sbxRec;
      if (rec.closeRequestedAt !== null) return;
      rec.closeRequestedAt = Date.now();
      if (this.readyState !== NativeWebSocket.OPEN) { this.sbxFinishClose("not open"); return; }
      this.sbxTimer = setTimeout(() => this.sbxFinishClose("linger timeout"), CLOSE_LINGER_MS);
    }
    sbxFinishClose(why) {
      if (this.sbxTimer) clearTimeout(this.sbxTimer);
      if (this.sbxRec.lingerEnded === null) this.sbxRec.lingerEnded = why;
      if (this.readyState === NativeWebSocket.OPEN || this.readyState === NativeWebSocket.CONNECTING) {
        super.close();
      }
    }
  }
  window.WebSocket = WireSocket;

  function waitFor(pred, label) {
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + PHASE_MS;
      (function poll() {
        let v;
        try { v = pred(); } catch (e) { reject(new Error(label + ": " + e)); return; }
        if (v) { resolve(v); return; }
        if (Date.now() > deadline) { reject(new Error("timed out after " + PHASE_MS + " ms waiting for " + label)); return; }
        setTimeout(poll, 20);
      })();
    });
  }
  function lastStatus(who) {
    const mine = sbx.statuses.filter((s) => s.who === who);
    return mine.length ? mine[mine.length - 1].status : null;
  }
  const FAILED = ["ERROR", "CONNFAIL", "AUTHFAIL", "CONNTIMEOUT", "DISCONNECTED"];

  sbx.connect = function (who, url, password, mechanisms) {
    const options = mechanisms ? {mechanisms: mechanisms.map((m) => Strophe[m])} : {};
    const conn = new Strophe.Connection(url, options);
    sbx.conns[who] = conn;
    sbx.got[who] = {presence: [], message: []};
    conn.rawInput = (data) => sbx.raw.push({who: who, dir: "in", data: String(data)});
    conn.rawOutput = (data) => sbx.raw.push({who: who, dir: "out", data: String(data)});
    conn.connect(who + "@" + "localhost", password, (status, condition) => {
      sbx.statuses.push({who: who, status: statusName[status] || String(status),
                         condition: condition == null ? null : String(condition)});
    });
    const sock = conn._proto.socket;
    if (sock && sock.sbxRec) sock.sbxRec.who = who;
    return waitFor(() => {
      const s = lastStatus(who);
      if (s === "CONNECTED") return true;
      if (FAILED.indexOf(s) >= 0) throw new Error(who + " reached " + s);
      return false;
    }, who + " CONNECTED").then(() => {
      const mech = conn._sasl_mechanism;
      sbx.mechanisms_tried[who] = mech ? (mech.mechname || mech.name) : null;
      conn.addHandler((st) => {
        sbx.got[who].presence.push({from: st.getAttribute("from"), to: st.getAttribute("to"),
                                    type: st.getAttribute("type"),
                                    status: (st.getElementsByTagName("status")[0] || {textContent: null}).textContent});
        return true;
      }, null, "presence");
      conn.addHandler((st) => {
        const body = st.getElementsByTagName("body")[0];
        sbx.got[who].message.push({from: st.getAttribute("from"), to: st.getAttribute("to"),
                                   type: st.getAttribute("type"),
                                   body: body ? body.textContent : null});
        return true;
      }, null, "message");
      return {jid: conn.jid, authenticated: conn.authenticated, mechanism: sbx.mechanisms_tried[who]};
    });
  };

  sbx.presence = function (from, to, status) {
    const conn = sbx.conns[from], peer = sbx.conns[to];
    conn.send($pres({to: peer.jid}).c("status").t(status).tree());
    return waitFor(() => sbx.got[to].presence.find((p) => p.from === conn.jid), to + " receiving " + from + "'s presence");
  };

  sbx.message = function (from, to, body) {
    const conn = sbx.conns[from], peer = sbx.conns[to];
    conn.send($msg({to: peer.jid, type: "chat", id: "m-" + from}).c("body").t(body).tree());
    return waitFor(() => sbx.got[to].message.find((m) => m.from === conn.jid), to + " receiving " + from + "'s message");
  };

  sbx.disconnect = function (who) {
    const conn = sbx.conns[who];
    const sock = conn._proto.socket;
    conn.disconnect("test done");
    return waitFor(() => {
      const s = lastStatus(who);
      if (s === "DISCONNECTED") return true;
      if (s !== "DISCONNECTING") throw new Error(who + " reached " + s);
      return false;
    }, who + " DISCONNECTED").then(() => waitFor(() => sock && sock.sbxRec.close, who + "'s WebSocket close event"))
      .then(() => ({status: lastStatus(who), close: sock.sbxRec.close, lingerEnded: sock.sbxRec.lingerEnded}));
  };

  sbx.dump = function () {
    return {statuses: sbx.statuses, raw: sbx.raw, strophe_log: sbx.strophe_log, sockets: sbx.sockets,
            got: sbx.got, mechanisms_tried: sbx.mechanisms_tried};
  };
})(arguments[0], arguments[1]);
return [typeof window.sbx, typeof window.WebSocket.prototype.sbxFinishClose];
"""

# Runs one phase: `sbx.<fn>(...args)` and returns {"ok": value} or {"error": message}.
PHASE = """
const done = arguments[arguments.length - 1];
const fn = arguments[0], args = arguments[1];
try {
  Promise.resolve(window.sbx[fn].apply(null, args))
    .then((v) => done({ok: v === undefined ? null : v}), (e) => done({error: String(e && e.message || e)}));
} catch (e) { done({error: String(e && e.message || e)}); }
"""


class Page:
    """The Strophe page in `driver`; failures carry the whole in-page record."""

    def __init__(self, driver, server: Serve):
        self.driver, self.server = driver, server

    def dump(self) -> dict:
        try:
            return self.driver.execute_script("return window.sbx ? window.sbx.dump() : null") or {}
        except Exception as exc:  # noqa: BLE001 - diagnostics only
            return {"dump failed": str(exc)}

    def detail(self) -> str:
        d = self.dump()
        lines = [f"statuses: {json.dumps(d.get('statuses'))}",
                 f"mechanisms: {json.dumps(d.get('mechanisms_tried'))}",
                 f"received by handlers: {json.dumps(d.get('got'), ensure_ascii=False)}",
                 f"Strophe warnings/errors: {json.dumps(d.get('strophe_log'))}",
                 "frames (Strophe rawInput/rawOutput):"]
        lines += [f"  {r['who']:5} {'<<' if r['dir'] == 'in' else '>>'} {r['data']}" for r in d.get("raw") or []]
        for sock in d.get("sockets") or []:
            lines.append(f"wire socket {sock.get('who')} {sock.get('url')} protocol={sock.get('protocol')!r} "
                         f"close={sock.get('close')} linger={sock.get('lingerEnded')}")
            lines += [f"  {'<<' if f['dir'] == 'in' else '>>'}{' (after close())' if f.get('afterCloseRequest') else ''}"
                      f" {f['data']}" for f in sock.get("frames") or []]
        lines += ["console:", browser_console(self.driver), self.server.output()]
        return "\n".join(lines)

    def phase(self, fn: str, *args):
        result = self.driver.execute_async_script(PHASE, fn, list(args))
        if not isinstance(result, dict) or "error" in result:
            pytest.fail(f"phase {fn}{args!r} failed: {result!r}\n{self.detail()}", pytrace=False)
        return result["ok"]


@pytest.mark.timeout(180)
def test_strophe_scram_presence_message_and_close(serve, strophe_chromium):
    chromium = strophe_chromium
    assert STROPHE_JS.is_file(), f"{STROPHE_JS} missing: apt-get install libjs-strophe (or set STROPHE_JS)"
    url = f"ws://127.0.0.1:{serve.port}/xmpp"
    chromium.get(f"http://127.0.0.1:{serve.port}/")  # same origin: a page from elsewhere may not reach loopback
    loaded = chromium.execute_script(
        "const s = document.createElement('script'); s.text = arguments[0]; document.head.appendChild(s);"
        "return [typeof window.Strophe, window.Strophe && Strophe.VERSION, typeof window.$msg,"
        " typeof window.$pres, typeof (window.Strophe && Strophe.SASLSHA1)];",
        STROPHE_JS.read_text(encoding="utf-8"))
    assert loaded[0] == "object" and loaded[2:] == ["function", "function", "function"], \
        f"strophe.js did not load: {loaded}\n{browser_console(chromium)}"
    assert chromium.execute_script(HARNESS, PHASE_MS, CLOSE_LINGER_MS) == ["object", "function"]
    page = Page(chromium, serve)

    # 1. Both log in. alice keeps Strophe's default mechanisms (PLAIN among them); bob has
    #    only SCRAM-SHA-1. Reaching CONNECTED means Strophe accepted the server's v=.
    alice = page.phase("connect", "alice", url, USERS["alice"], None)
    bob = page.phase("connect", "bob", url, USERS["bob"], ["SASLSHA1"])
    detail = page.detail()
    for who, info in (("alice", alice), ("bob", bob)):
        assert info["authenticated"] is True, detail
        assert info["mechanism"] == "SCRAM-SHA-1", detail
        assert info["jid"].startswith(f"{who}@{DOMAIN}/") and len(info["jid"]) > len(f"{who}@{DOMAIN}/"), detail
    assert alice["jid"] != bob["jid"], detail

    d = page.dump()
    for who in ("alice", "bob"):
        frames = [r for r in d["raw"] if r["who"] == who]
        out = [r["data"] for r in frames if r["dir"] == "out"]
        into = [r["data"] for r in frames if r["dir"] == "in"]
        auths = [f for f in out if f.startswith("<auth ")]
        assert len(auths) == 1 and re.search(r"\bmechanism=['\"]SCRAM-SHA-1['\"]", auths[0]), detail
        assert any(f.startswith("<challenge ") for f in into), detail
        assert any(f.startswith("<success ") for f in into), detail
        assert not any("<failure" in f or "stream:error" in f for f in into), detail
        # RFC 7395 framing: the stream is opened twice (before and after SASL), with <open/>.
        assert sum(1 for f in into if f.startswith("<open ")) == 2, detail
    alice_in = [r["data"] for r in d["raw"] if r["who"] == "alice" and r["dir"] == "in"]
    first_features = next(f for f in alice_in if "<mechanisms" in f)
    # The choice was Strophe's: PLAIN was on offer too (we are a loopback peer).
    for mech in ("SCRAM-SHA-1", "PLAIN"):
        assert f"<mechanism>{mech}</mechanism>" in first_features, detail
    for sock in d["sockets"]:
        assert sock["url"] == url and sock["protocol"] == "xmpp", detail

    # 2. Directed presence, alice -> bob's full JID.
    pres = page.phase("presence", "alice", "bob", "alice is here")
    assert pres["from"] == alice["jid"] and pres["to"] == bob["jid"], page.detail()
    assert pres["type"] is None and pres["status"] == "alice is here", page.detail()

    # 3. A chat message each way, full JID to full JID.
    got = page.phase("message", "alice", "bob", ALICE_TO_BOB)
    assert got == {"from": alice["jid"], "to": bob["jid"], "type": "chat", "body": ALICE_TO_BOB}, page.detail()
    got = page.phase("message", "bob", "alice", BOB_TO_ALICE)
    assert got == {"from": bob["jid"], "to": alice["jid"], "type": "chat", "body": BOB_TO_ALICE}, page.detail()

    # 4. Both disconnect; the server answers each <close/> with its own.
    for who in ("alice", "bob"):
        result = page.phase("disconnect", who)
        detail = page.detail()
        assert result["status"] == "DISCONNECTED", detail
        assert result["lingerEnded"] == "server <close/>", detail
        assert result["close"]["wasClean"] is True, detail

    d = page.dump()
    detail = page.detail()
    for who in ("alice", "bob"):
        sock = next(s for s in d["sockets"] if s["who"] == who)
        out = [f["data"] for f in sock["frames"] if f["dir"] == "out"]
        late = [f["data"] for f in sock["frames"] if f["dir"] == "in" and f["afterCloseRequest"]]
        assert out[-1].startswith("<close ") and "urn:ietf:params:xml:ns:xmpp-framing" in out[-1], detail
        assert late and late[-1] == STROPHE_CLOSE_FRAME, detail
        statuses = [s["status"] for s in d["statuses"] if s["who"] == who]
        assert statuses[-2:] == ["DISCONNECTING", "DISCONNECTED"], detail
        assert statuses.count("CONNECTED") == 1 and statuses.count("DISCONNECTED") == 1, detail
        assert not any(s in statuses for s in ("ERROR", "CONNFAIL", "AUTHFAIL", "CONNTIMEOUT")), detail
    assert d["strophe_log"] == [], detail
