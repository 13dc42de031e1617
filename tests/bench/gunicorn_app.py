"""gunicorn_app.py - the peer of chapter 12's master: chapter 9's demo app's
cheap routes as a WSGI application, for gunicorn with gevent workers, the
design chapter 12 retells in C:

    gunicorn -k gevent -w 2 --keep-alive 5 --chdir tests/bench gunicorn_app:application

  GET /          200 text/plain "Hello, World!"
  GET /cpu?ms=M  computes for M ms without yielding, then 200 "computed"
  GET /pid       200, the serving worker's process id
  anything else  404

Each answer has a Content-Length, so that gunicorn can keep the
connection alive (its gevent worker does; its default sync worker never
does).  tests/bench/prefork.sh runs it beside the kit's master.
"""
import os
import time
from urllib.parse import parse_qs


def text(start_response, status, body):
    body = body.encode()
    start_response(status, [('Content-Type', 'text/plain'),
                            ('Content-Length', str(len(body)))])
    return [body]


def cpu(environ, start_response):
    # Like demo_cpu(): spin on the clock, never yield to gevent's hub.
    try:
        ms = int(parse_qs(environ.get('QUERY_STRING', '')).get('ms', ['0'])[0])
    except ValueError:
        ms = -1
    if ms < 0 or ms > 60 * 1000:
        return text(start_response, '400 Bad Request', 'usage: /cpu?ms=M\n')
    end = time.monotonic() + ms / 1000.0
    while time.monotonic() < end:
        pass
    return text(start_response, '200 OK', 'computed')


def application(environ, start_response):
    path = environ['PATH_INFO']
    if environ['REQUEST_METHOD'] not in ('GET', 'HEAD'):
        return text(start_response, '404 Not Found', 'Not Found\n')
    if path == '/':
        return text(start_response, '200 OK', 'Hello, World!')
    if path == '/cpu':
        return cpu(environ, start_response)
    if path == '/pid':
        return text(start_response, '200 OK', str(os.getpid()))
    return text(start_response, '404 Not Found', 'Not Found\n')
