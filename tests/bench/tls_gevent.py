#!/usr/bin/python3
"""tls_gevent.py - `make bench-tls`'s peer: gevent's pywsgi over TLS, the
way article 004 turns it on: WSGIServer(..., keyfile=, certfile=), the
ssl_args that gevent hands to its cooperative ssl module.

usage: /usr/bin/python3 tls_gevent.py HOST CERT KEY

GET / -> 200 text/plain "Hello, World!".  Prints "listening on
https://HOST:PORT" (a port the kernel chose) when ready; SIGTERM or SIGINT
stops it with status 0.  Like the kit's server it writes no access log and
sets TCP_NODELAY on every accepted connection: without it, the response's
second TLS record waits for the client's delayed ACK (Nagle), 40 ms, and
keep-alive drops from about 5,000 requests/s to 1,000.
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
    # With ssl_args, gevent wraps the accepted socket here, before the
    # handler runs: the option must be set first, on the plain socket.
    def wrap_socket_and_handle(self, sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().wrap_socket_and_handle(sock, address)


def main():
    host, cert, key = sys.argv[1:4]
    server = NoDelayServer((host, 0), hello, log=None, backlog=1024,
                           certfile=cert, keyfile=key)
    server.init_socket()
    print('listening on https://%s:%d' % (host, server.server_port), flush=True)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.stop(timeout=1))
    server.serve_forever()


if __name__ == '__main__':
    main()
