"""ws_websockets.py - Python's websockets (Debian's python3-websockets) as
`make bench-ws`'s peer: /ws/echo sends every message back as it came
(text as text, bytes as bytes), on asyncio.

Usage: python3 ws_websockets.py HOST
Prints "listening on http://HOST:PORT" (a port the kernel chose).
"""
import asyncio
import signal
import sys

import websockets


async def echo(ws, path=None):    # path: for websockets before 10.1
    async for message in ws:
        await ws.send(message)


async def main(host):
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    # compression=None: the kit has no permessage-deflate either.
    async with websockets.serve(echo, host, 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on http://{host}:{port}", flush=True)
        await stop


asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"))
