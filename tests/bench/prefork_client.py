#!/usr/bin/python3
"""prefork_client.py - the client of chapter 12's balance, reload and crash
figures (tests/bench/prefork.sh): it asks GET /pid, so that every answer
says which worker served it.  Plain sockets and threads: nothing here
shares a loop with what it measures.

usage:
  prefork_client.py balance PORT REQUESTS CLIENTS
      REQUESTS requests, CLIENTS at a time (each client one after the
      other), each on a new connection (Connection: close): one accept
      per request.  Prints
        balance: requests=N failed=F PID=COUNT PID=COUNT ...
  prefork_client.py load PORT SECONDS CLIENTS [--hup PID@T,T,...] [--kill PID@T]
      CLIENTS clients for SECONDS: half on a new connection per request,
      half on one kept-alive connection each (a new one when it closes).
      --hup sends SIGHUP to the master PID at each T (seconds after the
      start); --kill sends SIGKILL to the worker PID at T.  Prints
        load: requests=N answered=A failed=F ...
      (the fields are explained where they are computed, in report()).

A request fails when its connection is refused, reset or closed before
the whole answer, when the answer is not a 200, or after 5 s.  A
kept-alive connection that is closed before any byte of the next answer
is the keep-alive race every HTTP/1.1 client knows: the server closed it
as idle (a worker stopping gracefully does) while the request was on its
way.  Clients retry such a request on a new connection (RFC 9112, 9.3.1;
browsers, curl and nginx do); with --hup this one does too, once, and
counts it.  With --kill it never retries: the figure is what fails.
"""
import os
import signal
import socket
import sys
import threading
import time

HOST = '127.0.0.1'
TIMEOUT = 5.0


class Unread(Exception):
    """A kept-alive connection closed before any byte of the answer."""


def read_answer(sock, keep_alive):
    """(the answer's body: the worker's pid, whether the server said
    Connection: close) after a 200; raises otherwise."""
    data = b''
    while b'\r\n\r\n' not in data:
        try:
            piece = sock.recv(4096)
        except ConnectionResetError:
            piece = b''             # reset: closed with our request unread
        if not piece and not data:
            raise Unread() if keep_alive else OSError('closed before the answer')
        if not piece:
            raise OSError('closed mid-answer')
        data += piece
    head, body = data.split(b'\r\n\r\n', 1)
    lines = head.split(b'\r\n')
    if b' 200 ' not in lines[0] + b' ':
        raise OSError('answer: ' + lines[0].decode(errors='replace'))
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            length = int(value)
        if name.strip().lower() == b'connection' and value.strip().lower() == b'close':
            close = True            # a stopping worker says so: obey it
    while len(body) < length:
        piece = sock.recv(4096)
        if not piece:
            raise OSError('closed mid-body')
        body += piece
    return int(body[:length]), close


def connect():
    sock = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def ask_once():
    """GET /pid on a new connection, Connection: close: the worker's pid."""
    with connect() as sock:
        sock.sendall(b'GET /pid HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n')
        return read_answer(sock, keep_alive=False)[0]


# ---- balance -------------------------------------------------------------------

def balance(requests, clients):
    counts, failed, lock = {}, [0], threading.Lock()
    def client(n):
        for _ in range(n):
            try:
                pid = ask_once()
            except (OSError, ValueError):
                with lock:
                    failed[0] += 1
                continue
            with lock:
                counts[pid] = counts.get(pid, 0) + 1
    share = [requests // clients + (i < requests % clients) for i in range(clients)]
    threads = [threading.Thread(target=client, args=(n,)) for n in share]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print('balance: requests=%d failed=%d %s' % (requests, failed[0],
          ' '.join('%d=%d' % kv for kv in sorted(counts.items()))), flush=True)


# ---- load, with signals ----------------------------------------------------------

# One record per request: (kind, start, end, ok, pid, why).  kind is
# "new" or "kept"; pid is the worker that answered, or for a kept-alive
# connection the worker that answered its earlier requests (a connection
# stays with the worker that accepted it); why says how it failed.
records = []
stop_at = 0.0


def new_connection_client(lock):
    while time.monotonic() < stop_at:
        start = time.monotonic()
        try:
            pid, ok, why = ask_once(), True, ''
        except (OSError, ValueError) as e:
            pid, ok, why = None, False, str(e).replace(' ', '_') or type(e).__name__
        with lock:
            records.append(('new', start, time.monotonic(), ok, pid, why))


def kept_alive_client(lock, retry):
    sock, pid = None, None
    while time.monotonic() < stop_at:
        start = time.monotonic()
        try:
            if sock is None:
                sock, pid, reused = connect(), None, False
            else:
                reused = True
            sock.sendall(b'GET /pid HTTP/1.1\r\nHost: bench\r\n\r\n')
            pid, close = read_answer(sock, keep_alive=reused)
            ok, why = True, ''
            if close:                   # HTTP/1.1: the next request goes on
                sock.close()            # a new connection
                sock = None
        except Unread:
            ok, why = False, 'unread'
        except (OSError, ValueError) as e:
            ok, why = False, type(e).__name__
        if not ok and why == 'unread' and retry:
            with lock:
                records.append(('kept', start, time.monotonic(), False, pid, 'retried'))
            sock.close()
            sock = None
            continue                    # the same request again, on a new connection
        with lock:
            records.append(('kept', start, time.monotonic(), ok, pid, why))
        if not ok:
            sock.close()
            sock = None
    if sock is not None:
        sock.close()


def signals_at(plan, t0):
    """plan: [(seconds after t0, signal, pid)]; returns {index: (before, after)}:
    when each signal was sent and when its effect was certain (for a
    SIGKILL, when the worker was gone: its connections were closed)."""
    when = {}
    for i, (at, sig, pid) in enumerate(sorted(plan)):
        time.sleep(max(0.0, t0 + at - time.monotonic()))
        before = time.monotonic()
        os.kill(pid, sig)
        if sig == signal.SIGKILL:
            while dead_or_zombie(pid) is False:
                time.sleep(0.001)
        when[i] = (before, time.monotonic())
    return when


def dead_or_zombie(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] in 'ZX'
    except OSError:
        return True


def load(seconds, clients, hup, kill):
    global stop_at
    plan = [(t, signal.SIGHUP, hup[0]) for t in hup[1]]
    if kill:
        plan.append((kill[1][0], signal.SIGKILL, kill[0]))
    lock = threading.Lock()
    t0 = time.monotonic()
    stop_at = t0 + seconds
    threads = [threading.Thread(target=new_connection_client, args=(lock,))
               for _ in range(clients - clients // 2)]
    threads += [threading.Thread(target=kept_alive_client, args=(lock, not kill))
                for _ in range(clients // 2)]
    for t in threads:
        t.start()
    when = signals_at(plan, t0)
    for t in threads:
        t.join()
    report(seconds, when, kill)


def report(seconds, when, kill):
    done = [r for r in records if r[5] != 'retried']
    answered = [r for r in done if r[3]]
    failed = [r for r in done if not r[3]]
    # retried: kept-alive requests a stopping worker closed unread, asked
    # again on a new connection (their second try is counted in done).
    retried = sum(1 for r in records if r[5] == 'retried')
    fields = ['requests=%d' % len(done), 'answered=%d' % len(answered),
              'failed=%d' % len(failed), 'retried=%d' % retried,
              'rps=%.0f' % (len(answered) / seconds)]
    # The workers that answered in the first and in the last tenth of the
    # run: after a reload, none of the first should be left.
    first = min(r[1] for r in records) if records else 0
    last = max(r[2] for r in records) if records else 0
    tenth = (last - first) / 10
    fields.append('pids_first=' + ','.join(sorted({str(r[4]) for r in answered if r[1] < first + tenth})))
    fields.append('pids_last=' + ','.join(sorted({str(r[4]) for r in answered if r[2] > last - tenth})))
    if kill:
        # In flight at the kill: sent before the worker was gone, not
        # answered before the kill was sent.  Its failures: requests in
        # flight on its kept-alive connections (their worker is known) or
        # on new connections (whose worker we cannot know: another
        # answers them); and requests sent on its kept-alive connections
        # after it died, before the client saw them closed.  Any other
        # failure is one the kill should not have caused.
        victim = kill[0]
        before, gone = when[len(when) - 1]
        in_flight = [r for r in done if r[1] <= gone and r[2] >= before]
        on_victim = [r for r in failed if r[4] == victim or
                     (r[4] is None and r[1] <= gone and r[2] >= before)]
        late = [r for r in on_victim if r[1] > gone]
        fields += ['in_flight=%d' % len(in_flight),
                   'in_flight_kept_on_victim=%d' % sum(1 for r in in_flight if r[0] == 'kept' and r[4] == victim),
                   'failed_in_flight_on_victim=%d' % (len(on_victim) - len(late)),
                   'failed_sent_on_dead_connection=%d' % len(late),
                   'failed_otherwise=%d' % (len(failed) - len(on_victim))]
        # How soon a new connection was served again: the first answer on
        # a connection opened after the kill.
        after = [r[2] - gone for r in answered if r[0] == 'new' and r[1] > gone]
        fields.append('first_new_answer_ms=%.1f' % (1000 * min(after)) if after else 'first_new_answer_ms=-')
    reasons = {}
    for r in failed:
        reasons[r[0] + ':' + r[5]] = reasons.get(r[0] + ':' + r[5], 0) + 1
    fields.append('why=' + (','.join('%s:%d' % kv for kv in sorted(reasons.items())) or '-'))
    print('load: ' + ' '.join(fields), flush=True)
    if os.environ.get('PREFORK_CLIENT_DEBUG'):
        signals = sorted(when.values())
        for r in failed:
            print('failed: %s start=%.4f end=%.4f pid=%s why=%s; signals at %s' % (
                r[0], r[1], r[2], r[4], r[5],
                ' '.join('%.4f-%.4f' % w for w in signals)), file=sys.stderr)


def times(text):
    pid, _, at = text.partition('@')
    return int(pid), [float(t) for t in at.split(',')]


if __name__ == '__main__':
    if len(sys.argv) < 5 or sys.argv[1] not in ('balance', 'load'):
        sys.exit(__doc__)
    PORT = int(sys.argv[2])
    if sys.argv[1] == 'balance':
        balance(int(sys.argv[3]), int(sys.argv[4]))
    else:
        opts = dict(zip(sys.argv[5::2], sys.argv[6::2]))
        load(float(sys.argv[3]), int(sys.argv[4]),
             times(opts['--hup']) if '--hup' in opts else (0, []),
             times(opts['--kill']) if '--kill' in opts else None)
