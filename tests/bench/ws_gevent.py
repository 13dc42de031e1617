"""ws_gevent.py - gevent-websocket (Debian's python3-gevent-websocket) as
`make bench-ws`'s peer: gevent's pywsgi with its WebSocketHandler, and
/ws/echo sending every message back as it came (text as text, bytes as
bytes).

Usage: python3 ws_gevent.py HOST
Prints "listening on http://HOST:PORT" (a port the kernel chose).
"""
from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402


def app(environ, start_response):
    ws = environ.get("wsgi.websocket")
    if ws is None:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]
    while True:
        message = ws.receive()
        if message is None:            # the client closed
            return []
        ws.send(message, binary=isinstance(message, (bytes, bytearray)))


host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
# log=None: no access log line per connection during the figures.
server = pywsgi.WSGIServer((host, 0), app, handler_class=WebSocketHandler, log=None)
server.start()
print(f"listening on http://{host}:{server.server_port}", flush=True)
server.serve_forever()
