#!/usr/bin/python3
"""twisted_server.py - article 000's Twisted peer: twisted.web serving a
WSGI hello-world app through WSGIResource (the app runs in Twisted's
thread pool, as in the article).

usage: /usr/bin/python3 twisted_server.py HOST PORT

GET / -> 200 text/plain "Hello, World!".  PORT 0 lets the kernel pick;
prints "listening on http://HOST:PORT" when ready; SIGTERM or SIGINT
stops it with status 0.  No access log, a listen backlog of 1024, like
every server of the benchmarks.
"""
import sys

from twisted.internet import reactor
from twisted.web import server
from twisted.web.wsgi import WSGIResource


def hello(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', '13')])
    return [b'Hello, World!']


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    resource = WSGIResource(reactor, reactor.getThreadPool(), hello)
    site = server.Site(resource)
    site.log = lambda request: None          # no access log
    listening = reactor.listenTCP(port, site, backlog=1024, interface=host)
    print('listening on http://%s:%d' % (host, listening.getHost().port),
          flush=True)
    reactor.run()                            # stops on SIGTERM and SIGINT


if __name__ == '__main__':
    main()
