"""A simple round-robin load balancer for the benchmarks: each TCP connection goes to the next
backend in turn, its bytes piped both ways (as a TCP-mode balancer such as HAProxy's does).
The load generator opens one connection per request, so consecutive requests of one person
reach different processes.

    python -m bench.round_robin 127.0.0.1:3001 127.0.0.1:3002 ...

prints its port on the first line of stdout and serves until stdin is closed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
from typing import Any


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def _serve(backends: list[tuple[str, int]]) -> None:
    turn = itertools.cycle(backends)
    held: set[asyncio.Task[Any]] = set()  # tasks are kept only weakly by the loop

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        if me is not None:
            held.add(me)
        host, port = next(turn)
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return
        # HTTP clients do not half-close: when either side is done, the exchange is over.
        pipes = {
            asyncio.create_task(_pipe(reader, up_writer)),
            asyncio.create_task(_pipe(up_reader, writer)),
        }
        held.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for each in (up_writer, writer):
                each.close()
            for pipe in pipes:
                pipe.cancel()
            held.difference_update({*pipes, me})

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    server.close()
    others = asyncio.all_tasks() - {asyncio.current_task()}
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backends", nargs="+", help="HOST:PORT of each backend")
    args = parser.parse_args()
    backends = [(text.rsplit(":", 1)[0], int(text.rsplit(":", 1)[1])) for text in args.backends]
    asyncio.run(_serve(backends))


if __name__ == "__main__":
    main()
