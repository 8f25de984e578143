/// The browser test page, served by `switchboard serve` at GET /test (an example, not part of any product).
///
/// Tests/Browser loads it in headless Chromium. Its script connects to
/// `/echo` on the same host and port, checks that the browser negotiated
/// permessage-deflate with its own offer (`ws.extensions`), sends text and
/// binary messages of 10 B, 1 KiB, 64 KiB and 1 MiB, compressible and
/// incompressible, and compares every echo byte for byte. The verdict goes
/// into the DOM: `document.title` becomes `PASS` or `FAIL`, and
/// `<pre id="result">` holds the details as JSON.
public let browserTestPage: String = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>RUNNING</title>
    </head>
    <body>
    <h1>Switchboard browser test</h1>
    <p>Echo over <code>/echo</code> with the browser's own permessage-deflate offer.</p>
    <pre id="log"></pre>
    <pre id="result"></pre>
    <script>
    "use strict";
    (async function main() {
      const SIZES = [10, 1024, 64 * 1024, 1024 * 1024];
      const result = { ok: false, url: null, extensions: null, protocol: null, cases: [], close: null, error: null };
      const logEl = document.getElementById("log");
      const log = (line) => { logEl.textContent += line + "\n"; };

      // A seeded xorshift32: the same payloads on every run, so a failure can be replayed.
      let seed = 0x9E3779B9;
      function rand() {
        seed ^= seed << 13; seed >>>= 0;
        seed ^= seed >>> 17;
        seed ^= seed << 5; seed >>>= 0;
        return seed;
      }

      // Binary: incompressible (random bytes) or compressible (words repeated with small changes).
      function binaryPayload(size, compressible) {
        const bytes = new Uint8Array(size);
        if (!compressible) {
          for (let i = 0; i < size; i++) bytes[i] = rand() & 0xFF;
          return bytes;
        }
        const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"].map((w) => new TextEncoder().encode(w + " "));
        let i = 0;
        while (i < size) {
          const w = words[rand() % words.length];
          for (let j = 0; j < w.length && i < size; j++) bytes[i++] = w[j];
          if (i < size && rand() % 16 === 0) bytes[i++] = rand() & 0xFF;
        }
        return bytes;
      }

      // Text of exactly `size` UTF-8 bytes: incompressible (random code points of 1 to 4
      // bytes, surrogate range excluded) or compressible (JSON-like records).
      function textPayload(size, compressible) {
        const parts = [];
        let bytes = 0;
        if (compressible) {
          let n = 0;
          while (bytes < size) {
            const record = '{"id":' + (n++) + ',"name":"caf\u00e9 ' + (rand() % 100) + '","tags":["a","b"]}\n';
            parts.push(record);
            bytes += new TextEncoder().encode(record).length;
          }
          let text = parts.join("");
          // Trim to `size` bytes on an ASCII boundary: the records end in ASCII.
          while (new TextEncoder().encode(text).length > size) {
            const over = new TextEncoder().encode(text).length - size;
            text = text.slice(0, Math.max(0, text.length - over));
          }
          while (new TextEncoder().encode(text).length < size) text += "x";
          return text;
        }
        while (bytes < size) {
          const room = size - bytes;
          let cp;
          const pick = rand() % 4;
          if (pick === 0 || room < 2) cp = 0x20 + (rand() % 0x5F);               // 1 byte
          else if (pick === 1 || room < 3) cp = 0x80 + (rand() % (0x800 - 0x80)); // 2 bytes
          else if (pick === 2 || room < 4) {                                     // 3 bytes, no surrogates
            do { cp = 0x800 + (rand() % (0x10000 - 0x800)); } while (cp >= 0xD800 && cp <= 0xDFFF);
          } else cp = 0x10000 + (rand() % (0x110000 - 0x10000));                // 4 bytes
          const s = String.fromCodePoint(cp);
          parts.push(s);
          bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
        return parts.join("");
      }

      function sameBytes(a, b) {
        if (a.length !== b.length) return -2;
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
        return -1;
      }

      try {
        const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/echo";
        result.url = url;
        const ws = new WebSocket(url);
        ws.binaryType = "arraybuffer";
        const inbox = [];
        const waiters = [];
        let closed = null;
        ws.onmessage = (event) => {
          if (waiters.length) waiters.shift().resolve(event.data); else inbox.push(event.data);
        };
        ws.onclose = (event) => {
          closed = { code: event.code, reason: event.reason, wasClean: event.wasClean };
          while (waiters.length) waiters.shift().reject(new Error("connection closed: " + JSON.stringify(closed)));
        };
        const next = () => inbox.length ? Promise.resolve(inbox.shift())
          : new Promise((resolve, reject) => {
              if (closed) reject(new Error("connection closed: " + JSON.stringify(closed)));
              else waiters.push({ resolve, reject });
            });

        await new Promise((resolve, reject) => {
          ws.onopen = resolve;
          ws.onerror = () => reject(new Error("WebSocket error before open"));
        });
        result.extensions = ws.extensions;
        result.protocol = ws.protocol;
        log("open, extensions: " + ws.extensions);
        if (!/^permessage-deflate(;|$)/.test(ws.extensions)) throw new Error("permessage-deflate not negotiated: '" + ws.extensions + "'");

        for (const size of SIZES) {
          for (const kind of ["text", "binary"]) {
            for (const compressible of [true, false]) {
              const name = kind + " " + size + " B " + (compressible ? "compressible" : "incompressible");
              const sent = kind === "text" ? textPayload(size, compressible) : binaryPayload(size, compressible);
              const started = performance.now();
              ws.send(sent);
              const got = await next();
              const ms = Math.round(performance.now() - started);
              const entry = { name, kind, size, compressible, ok: false, ms };
              if (kind === "text") {
                const sentBytes = new TextEncoder().encode(sent);
                if (typeof got !== "string") entry.error = "echo is not text";
                else {
                  const gotBytes = new TextEncoder().encode(got);
                  const at = sameBytes(sentBytes, gotBytes);
                  entry.bytes = sentBytes.length;
                  if (sentBytes.length !== size) entry.error = "generated " + sentBytes.length + " bytes, not " + size;
                  else if (at === -2) entry.error = "echo has " + gotBytes.length + " bytes";
                  else if (at >= 0) entry.error = "echo differs at byte " + at;
                  else entry.ok = true;
                }
              } else {
                if (!(got instanceof ArrayBuffer)) entry.error = "echo is not binary";
                else {
                  const gotBytes = new Uint8Array(got);
                  const at = sameBytes(sent, gotBytes);
                  entry.bytes = sent.length;
                  if (at === -2) entry.error = "echo has " + gotBytes.length + " bytes";
                  else if (at >= 0) entry.error = "echo differs at byte " + at;
                  else entry.ok = true;
                }
              }
              result.cases.push(entry);
              log(name + ": " + (entry.ok ? "ok" : "FAIL " + entry.error) + " (" + ms + " ms)");
            }
          }
        }

        ws.close(1000, "done");
        await new Promise((resolve) => {
          if (closed) resolve(); else { const prev = ws.onclose; ws.onclose = (e) => { prev(e); resolve(); }; }
        });
        result.close = closed;
        result.ok = result.cases.length === SIZES.length * 4 && result.cases.every((c) => c.ok)
          && closed !== null && closed.code === 1000 && closed.wasClean;
        if (!result.ok && !result.error) result.error = "see cases and close";
      } catch (e) {
        result.error = String(e && e.stack || e);
      }
      document.getElementById("result").textContent = JSON.stringify(result);
      document.title = result.ok ? "PASS" : "FAIL";
    })();
    </script>
    </body>
    </html>
    """#
