#!/usr/bin/python3
"""uvicorn_app.py - article 003's uvicorn peer: an ASGI hello world (the
article ran FastAPI's; this one is the bare ASGI app, uvicorn's own cost).

usage: /usr/bin/python3 uvicorn_app.py HOST PORT

GET / -> 200 text/plain "Hello, World!".  PORT 0 lets the kernel pick:
the script binds the socket itself and hands it to uvicorn, so it can
print "listening on http://HOST:PORT" with the real port.  SIGTERM or
SIGINT stops it with status 0.  No access log, a listen backlog of 1024,
like every server of the benchmarks.
"""
import socket
import sys

import uvicorn


async def app(scope, receive, send):
    if scope['type'] != 'http':
        return
    await send({'type': 'http.response.start', 'status': 200,
                'headers': [(b'content-type', b'text/plain'),
                            (b'content-length', b'13')]})
    await send({'type': 'http.response.body', 'body': b'Hello, World!'})


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    config = uvicorn.Config(app, access_log=False, log_level='warning',
                            lifespan='off')
    print('listening on http://%s:%d' % (host, sock.getsockname()[1]),
          flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == '__main__':
    main()
