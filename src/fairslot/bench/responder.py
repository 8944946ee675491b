"""A trivial HTTP responder: the load generator's own yardstick.

It answers every request with the same 2-byte ``200``, from a bare asyncio protocol: no
framework, no parsing beyond finding where a request ends. ``wrk`` driven by the same
Lua script against it shows how many requests a second the generator itself can make
on this machine; a product figure close to that rate is the generator's limit, not the
server's (``bench/phases.py`` refuses to call it a ceiling then).

Run as its own process (``python -m fairslot.bench.responder --port P --workers N``):
``N`` processes share the port through ``SO_REUSEPORT``, as uvicorn's workers share one.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import signal
import socket

ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n"
    b"connection: keep-alive\r\n\r\nok"
)
_END = b"\r\n\r\n"


def requests_in(buffer: bytearray) -> int:
    """Take every whole request (headers and ``content-length`` body) off the front of
    ``buffer``; how many there were."""
    count = 0
    while True:
        end = buffer.find(_END)
        if end < 0:
            return count
        head = bytes(buffer[:end]).lower()
        length = 0
        at = head.find(b"content-length:")
        if at >= 0:
            length = int(head[at + 15 :].split(b"\r\n", 1)[0].strip() or b"0")
        whole = end + len(_END) + length
        if len(buffer) < whole:
            return count
        del buffer[:whole]
        count += 1


class _Answer(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        n = requests_in(self.buffer)
        if n and self.transport is not None:
            self.transport.write(ANSWER * n)


def _serve(sock: socket.socket) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Answer, sock=sock, backlog=4096)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(main())


def _listener(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    return sock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    ctx = mp.get_context("fork")
    children = [
        ctx.Process(target=_serve, args=(_listener(args.port),), daemon=True)
        for _ in range(args.workers)
    ]
    for child in children:
        child.start()
    print(f"responder on 127.0.0.1:{args.port} x{args.workers}", flush=True)

    def stop(*_: object) -> None:
        for child in children:
            if child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()


if __name__ == "__main__":
    main()
