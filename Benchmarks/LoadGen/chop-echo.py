#!/usr/bin/env python3
"""A deliberately awkward WebSocket echo server, to test ws-load's echo parser and checks.

    chop-echo.py [--port 0] [--fault none|corrupt|extra|close|ping|opcode|short]

Echoes every message split into 1 to 4 frames (continuation frames, some of them empty),
with 7-, 16- or 64-bit length fields chosen at random (not always the shortest), and
writes its bytes in random pieces of 1 to 40 bytes with pauses, so that frame headers and
payloads arrive split over many reads and several frames arrive in one read. --fault
breaks it on purpose once about 200 messages have been echoed, and ws-load must then fail:
corrupt flips one payload byte, extra echoes a message twice, close closes the
connection, ping sends a ping, opcode echoes with the wrong opcode, short drops the last
byte. Prints `listening on 127.0.0.1:PORT` on stderr. Standard library only; slow.
"""
import argparse, asyncio, base64, hashlib, os, random, struct, sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def header(fin, opcode, n, rng):
    b0 = (0x80 if fin else 0) | opcode
    choice = rng.random()
    if n < 126 and choice < 0.6:
        return bytes([b0, n])
    if n < 65536 and choice < 0.85:
        return bytes([b0, 126]) + struct.pack("!H", n)
    return bytes([b0, 127]) + struct.pack("!Q", n)


def frames_of(opcode, payload, rng):
    pieces = rng.randint(1, 4)
    cuts = sorted(rng.randint(0, len(payload)) for _ in range(pieces - 1))
    parts = [payload[a:b] for a, b in zip([0] + cuts, cuts + [len(payload)])]
    out = b""
    for i, part in enumerate(parts):
        out += header(i == len(parts) - 1, opcode if i == 0 else 0, len(part), rng) + part
    return out


async def read_frame(reader):
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    mask = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
    data = bytearray(await reader.readexactly(n))
    for i in range(n):
        data[i] ^= mask[i & 3]
    return b0 >> 7, b0 & 0x0F, bytes(data)


async def handle(reader, writer, fault):
    rng = random.Random(os.urandom(8))
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(l.split(b":", 1)[1].strip() for l in head.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        count, message, opcode = 0, b"", 0
        while True:
            fin, op, data = await read_frame(reader)
            if op == 8:
                writer.write(bytes([0x88, len(data)]) + data)
                await writer.drain()
                break
            if op != 0:
                opcode = op
            message += data
            if not fin:
                continue
            count += 1
            out_opcode = opcode
            if count == 200 and fault == "corrupt" and message:
                i = rng.randrange(len(message))
                message = message[:i] + bytes([message[i] ^ 0x01]) + message[i + 1:]
            if count == 200 and fault == "opcode":
                out_opcode = 3 - opcode
            if count == 200 and fault == "short" and message:
                message = message[:-1]
            if count == 200 and fault == "close":
                break
            if count == 200 and fault == "ping":
                writer.write(bytes([0x89, 0]))
            out = frames_of(out_opcode, message, rng)
            if count == 200 and fault == "extra":
                out += out
            message = b""
            i = 0
            while i < len(out):
                n = rng.randint(1, 40) if rng.random() < 0.7 else rng.randint(1, 70000)
                writer.write(out[i:i + n])
                i += n
                if rng.random() < 0.3:
                    await writer.drain()
                    await asyncio.sleep(0.0002)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--fault", default="none", choices=["none", "corrupt", "extra", "close", "ping", "opcode", "short"])
    args = p.parse_args()
    server = await asyncio.start_server(lambda r, w: handle(r, w, args.fault), "127.0.0.1", args.port)
    print(f"listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
