#!/usr/bin/env python3
"""picows echo server: the Python (Cython) reference of scripts/bench-compare.sh (issue 20).

    Benchmarks/Picows/.venv/bin/python Benchmarks/Picows/picows_echo.py [--host 127.0.0.1] [--port 9001]
        [--loop uvloop|asyncio]

picows' core API (ws_create_server and a WSListener): one process, one event
loop (uvloop, as picows' own examples use, unless --loop asyncio), any path,
no subprotocol, no extension (picows' core API has no permessage-deflate), no
auto-ping; pings are answered by picows (enable_auto_pong).

picows hands the listener frames, not messages, so each data frame is echoed as
it comes, with its opcode (text, binary or continuation) and FIN bit: a
fragmented message comes back fragmented the same way, message boundaries kept.
The payload is passed as a memoryview of picows' read buffer; send() frames it
into picows' write buffer, so no copy of the application's own. Pipelined
messages are echoed in order as they are parsed. The write side is bounded:
when the transport's write buffer passes WRITE_HIGH bytes (pause_writing),
reading from that connection stops until it is down to WRITE_LOW
(resume_writing).

Prints "picows-echo listening on HOST:PORT" on standard error once listening
(--port 0 picks a free port); logs errors only.
"""
import argparse
import asyncio
import logging
import sys

from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

WRITE_HIGH = 1024 * 1024
WRITE_LOW = 256 * 1024
MAX_FRAME = 16 * 1024 * 1024

_DATA = (WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION)
_CLOSE = WSMsgType.CLOSE


class EchoListener(WSListener):
    __slots__ = ("transport",)

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        transport.underlying_transport.set_write_buffer_limits(high=WRITE_HIGH, low=WRITE_LOW)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        msg_type = frame.msg_type
        if msg_type in _DATA:
            transport.send(msg_type, frame.get_payload_as_memoryview(), frame.fin)
        elif msg_type == _CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
        # PING is answered by picows itself; PONG is ignored.

    def pause_writing(self) -> None:
        self.transport.underlying_transport.pause_reading()

    def resume_writing(self) -> None:
        self.transport.underlying_transport.resume_reading()


def listener_factory(request: WSUpgradeRequest) -> EchoListener:
    return EchoListener()


async def serve(host: str, port: int) -> None:
    server = await ws_create_server(
        listener_factory, host, port,
        enable_auto_ping=False,
        enable_auto_pong=True,
        max_frame_size=MAX_FRAME,
    )
    bound = server.sockets[0].getsockname()
    print(f"picows-echo listening on {bound[0]}:{bound[1]}, loop {type(asyncio.get_running_loop()).__module__}",
          file=sys.stderr, flush=True)
    await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("picows").setLevel(logging.ERROR)
    try:
        if args.loop == "uvloop":
            import uvloop
            uvloop.run(serve(args.host, args.port))
        else:
            asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
