#!/usr/bin/python3
"""wsgiref_server.py - article 000's wsgiref peer: the standard library's
reference WSGI server, one request at a time, a connection per request.

usage: /usr/bin/python3 wsgiref_server.py HOST PORT

GET / -> 200 text/plain "Hello, World!".  PORT 0 lets the kernel pick;
prints "listening on http://HOST:PORT" when ready; SIGTERM or SIGINT
stops it with status 0.  No access log (wsgiref logs every request to
stderr by default), a listen backlog of 1024 (socketserver's default is
5), like every server of the benchmarks.
"""
import signal
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


def hello(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', '13')])
    return [b'Hello, World!']


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Server(WSGIServer):
    request_queue_size = 1024


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    httpd = make_server(host, port, hello, server_class=Server,
                        handler_class=QuietHandler)
    print('listening on http://%s:%d' % (host, httpd.server_port), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
