#!/usr/bin/env python3
"""demo.py - what `make chapter13` shows: three clients of one room, each
on another transport, see each other's messages.

    ann  WebSocket          /ws/chat?room=demo&name=ann
    bob  long-polling       /poll?room=demo&since=ID, talks with POST /send
    cat  Server-Sent Events /events?room=demo, talks with POST /send

Then a flood: a client over the rate limit is closed 1008.  Python's
standard library only (a WebSocket client is forty lines on a socket).
Last, it stops the server (SIGTERM to SERVER_PID) and shows the
WebSocket closed 1001.  Usage: python3 demo.py PORT SERVER_PID
"""
import base64, json, os, signal, socket, struct, sys, threading, time, urllib.request

PORT, SERVER = int(sys.argv[1]), int(sys.argv[2])
BASE = f"http://127.0.0.1:{PORT}"
seen = {"ann": [], "bob": [], "cat": []}     # what each client received
lock = threading.Lock()


def got(who, msg):
    with lock:
        seen.setdefault(who, []).append(msg)


# ---- A WebSocket client, on a plain socket (RFC 6455) -----------------------

class WebSocket:
    def __init__(self, path):
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101 "), head

    def send(self, text, opcode=1):
        data, mask = text.encode(), os.urandom(4)
        n = len(data)
        head = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126
                                         else bytes([0x80 | 126]) + struct.pack("!H", n))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _need(self, n):
        while len(self.buf) < n:
            more = self.sock.recv(65536)
            if not more:
                raise EOFError
            self.buf += more

    def recv(self):
        """(opcode, payload) of the next frame."""
        self._need(2)
        n, at = self.buf[1] & 0x7f, 2
        if n == 126:
            self._need(4)
            n, at = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, at = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(at + n)
        frame, self.buf = self.buf[:at + n], self.buf[at + n:]
        return frame[0] & 0x0f, frame[at:]


def ws_reader(ws, who):
    try:
        while True:
            opcode, payload = ws.recv()
            if opcode == 1:
                got(who, json.loads(payload))
            elif opcode == 8:
                code = struct.unpack("!H", payload[:2])[0]
                print(f"  [{who}] closed by the server: {code} {payload[2:].decode()}")
                return
    except (EOFError, OSError):
        return


# ---- Long-polling and SSE --------------------------------------------------

def post(name, text):
    req = urllib.request.Request(f"{BASE}/send?room=demo&name={name}",
                                 data=json.dumps({"text": text}).encode(), method="POST")
    return urllib.request.urlopen(req, timeout=10).status


def poller(who):
    since = 0
    while True:
        try:
            with urllib.request.urlopen(f"{BASE}/poll?room=demo&since={since}", timeout=30) as r:
                for msg in json.load(r):
                    got(who, msg)
                    since = msg["id"]
        except OSError:
            return


def sse(who):
    try:
        with urllib.request.urlopen(f"{BASE}/events?room=demo", timeout=30) as r:
            for line in r:
                if line.startswith(b"data: "):
                    got(who, json.loads(line[6:]))
    except OSError:
        return


# ---- The story ------------------------------------------------------------

def step(what, text):
    """Wait until all three have `text`, then print what each saw."""
    print(f"==> {what}")
    deadline = time.time() + 10
    while time.time() < deadline:
        with lock:
            have = {w: next((m for m in seen[w] if m["text"] == text), None) for w in seen}
        if all(have.values()):
            break
        time.sleep(0.02)
    for who, how in (("ann", "WebSocket"), ("bob", "long-poll"), ("cat", "SSE      ")):
        m = have[who]
        print(f"  {who} ({how}) got: " + (f"#{m['id']} {m['name'] or '(room)'}: {m['text']}"
                                            if m else "nothing (!)"))


def main():
    threading.Thread(target=poller, args=("bob",), daemon=True).start()
    threading.Thread(target=sse, args=("cat",), daemon=True).start()
    time.sleep(0.3)                         # both are waiting in the room now
    ann = WebSocket("/ws/chat?room=demo&name=ann")
    ann_reader = threading.Thread(target=ws_reader, args=(ann, "ann"), daemon=True)
    ann_reader.start()
    step("ann joins over WebSocket: the room says so to everyone", "ann joined")
    ann.send(json.dumps({"text": "hello from a WebSocket"}))
    step("ann types (a WebSocket text frame)", "hello from a WebSocket")
    post("bob", "hello from long-polling")
    step("bob types (POST /send; his /poll answers)", "hello from long-polling")
    post("cat", "hello from <b>SSE</b>")
    step("cat types (POST /send; markup stays text, escaped as JSON)", "hello from <b>SSE</b>")

    print("==> a flood: a client sends 40 messages at once (limit: 10 a second, bursts of 20)")
    bot = WebSocket("/ws/chat?room=flood&name=bot")
    for _ in range(40):
        bot.send(json.dumps({"text": "spam"}))
    ws_reader(bot, "bot")
    print("==> the server stops (SIGTERM): the WebSocket client is told")
    sys.stdout.flush()
    os.kill(SERVER, signal.SIGTERM)
    ann_reader.join(10)


if __name__ == "__main__":
    main()
