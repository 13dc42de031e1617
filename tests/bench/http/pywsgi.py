#!/usr/bin/python3
"""pywsgi.py - the peer: gevent's pywsgi WSGIServer serving hello world.

usage: /usr/bin/python3 pywsgi.py HOST PORT [spawn-none]

GET / -> 200 text/plain "Hello, World!".  PORT 0 lets the kernel pick;
prints "listening on http://HOST:PORT" when ready; SIGTERM or SIGINT
stops it with status 0.  Like the kit's servers it writes no access log
(pywsgi's default logs every request to stderr), and it sets TCP_NODELAY
on every accepted connection.  "spawn-none" handles each connection in
the accept loop itself, no greenlet per connection: article 000's
WSGIServer(..., spawn=None).
"""
import signal
import socket
import sys

from gevent import pywsgi


def hello(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', '13')])
    return [b'Hello, World!']


class NoDelayServer(pywsgi.WSGIServer):
    def do_handle(self, sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().do_handle(sock, address)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    spawn = None if sys.argv[3:] == ['spawn-none'] else 'default'
    server = NoDelayServer((host, port), hello, log=None, spawn=spawn,
                           backlog=1024)
    server.init_socket()
    print('listening on http://%s:%d' % (host, server.server_port), flush=True)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.stop(timeout=1))
    server.serve_forever()


if __name__ == '__main__':
    main()
