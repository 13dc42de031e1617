#!/usr/bin/env python3
"""frames.py - send hand-made WebSocket frames to chapter 13's server and
show its answers, byte by byte: the output quoted in the lesson's
"Frames", "Messages on a taken-over socket" and "Bad input".

Usage: python3 chapters/13-chat/frames.py PORT [echo|chat|slow|pong]
  echo (the default)  frames to /ws/echo, good and bad
  chat                what /ws/chat refuses: a flood, not JSON, too long
  slow                a client that never reads, in a busy room
  pong                a ping from a client whose window is full: where
                      does the pong land among the writer's frames?
  (for slow and pong, run the server with a high rate limit, e.g.
  build/asm/chapters/13-chat/server --port 8001 --rate 100000)

Each line opens a new connection, does the handshake, sends the frames (a
client's: masked, unless the line says otherwise), and prints what came
back: an echo, a pong, or a close frame with its code.  Nothing but the
standard library: the point is to see every byte.
"""
import socket
import sys
import time

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="      # RFC 6455's own example key
MASK = bytes.fromhex("37fa213d")


def frame(opcode, payload, fin=True, masked=True):
    """One client frame: FIN + opcode, MASK + length, the mask, the payload."""
    head = bytes([(0x80 if fin else 0) | opcode])
    m = 0x80 if masked else 0
    n = len(payload)
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([m | 127]) + n.to_bytes(8, "big")
    if not masked:
        return head + payload
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


def connect(port, path="/ws/echo", rcvbuf=0):
    s = socket.socket()
    if rcvbuf:                        # a small window: the server's sends block sooner
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: " + KEY + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        more = s.recv(4096)
        if not more:
            sys.exit("the server closed the connection during the handshake")
        head += more
    if not head.startswith(b"HTTP/1.1 101 "):
        sys.exit("no 101: " + head.split(b"\r\n")[0].decode())
    s.settimeout(1.0)
    return s, head.split(b"\r\n\r\n", 1)[1]


def server_frames(data):
    """The server's frames in data: (opcode, payload) each."""
    while len(data) >= 2:
        opcode, n, head = data[0] & 0x0F, data[1] & 0x7F, 2
        if n == 126:
            n, head = int.from_bytes(data[2:4], "big"), 4
        elif n == 127:
            n, head = int.from_bytes(data[2:10], "big"), 10
        yield opcode, data[head:head + n]
        data = data[head + n:]


def split_frames(data):
    """The server's frames in data, each as its own bytes."""
    out = []
    for opcode, body in server_frames(data):
        out.append(frame(opcode, body, masked=False))
    return out


def answer(data, last_only=False):
    """What the server's frames say: 'close 1002', 'pong "hi"', ..."""
    names = {0x1: "text", 0x2: "binary", 0x8: "close", 0x9: "ping", 0xA: "pong"}
    said = []
    for opcode, body in server_frames(data):
        if opcode == 0x8 and len(body) >= 2:
            reason = body[2:].decode(errors="replace")
            said.append("close %d" % int.from_bytes(body[:2], "big") + (' "%s"' % reason if reason else ""))
        else:
            said.append('%s "%s"' % (names.get(opcode, "?"), body[:40].decode(errors="replace")))
    if last_only:
        said = ["%d frame(s), the last: %s" % (len(said), said[-1])] if said else []
    return ", ".join(said) or "nothing"


def read_all(s, wait=1.0):
    """Everything the server sends until it closes, or is silent for wait s."""
    s.settimeout(wait)
    got = b""
    try:
        while True:
            more = s.recv(65536)
            if not more:
                break
            got += more
    except socket.timeout:
        pass
    return got


def run(port, what, *frames):
    s, got = connect(port)
    for f in frames:
        s.sendall(f)
    got += read_all(s)
    s.close()
    sent = " | ".join(f[:8].hex(" ") + (" ..." if len(f) > 8 else "") for f in frames)
    print("%-36s %s" % (what, answer(got)))
    print("%-36s   sent %s" % ("", sent))
    print("%-36s   got  %s" % ("", got[:12].hex(" ") + (" ..." if len(got) > 12 else "")))


def chat(port, what, *frames):
    """Frames to /ws/chat: what the chat (not the protocol) refuses, and
    how: the close frame that ends the connection (before it come the
    room's history and its notices)."""
    s, got = connect(port, "/ws/chat?room=frames&name=frames")
    for f in frames:
        s.sendall(f)
    got += read_all(s)
    s.close()
    closes = [answer(f) for f in split_frames(got) if f[0] & 0x0F == 0x8]
    print("%-36s %s" % (what, closes[-1] if closes else "no close frame"))


def slow(port):
    """One client never reads; another posts 1,500 messages of 4,000 bytes."""
    lazy, _ = connect(port, "/ws/chat?room=slow&name=lazy", rcvbuf=4096)
    poster, _ = connect(port, "/ws/chat?room=slow&name=poster")
    text = b"y" * 4000
    for _ in range(1500):
        poster.sendall(frame(0x1, b'{"text": "' + text + b'"}'))
    print("1500 posts of 4000 bytes; the client that never read gets:")
    print("  " + answer(read_all(lazy, 3.0), last_only=True))


def pong(port):
    """The reader's pong while the writer is parked in the middle of a frame."""
    lazy, got = connect(port, "/ws/chat?room=pong&name=lazy", rcvbuf=4096)
    poster, _ = connect(port, "/ws/chat?room=pong&name=poster")
    for _ in range(1000):
        poster.sendall(frame(0x1, b'{"text": "' + b"z" * 3000 + b'"}'))
    time.sleep(0.5)
    lazy.sendall(frame(0x9, b"PINGPING"))      # the reader answers it at once
    time.sleep(0.5)
    got += read_all(lazy)
    at = got.find(b"\x8a\x08PINGPING")       # our pong, as the server wrote it
    pos = k = 0
    for opcode, body in server_frames(got):
        k += 1
        head = len(frame(opcode, body, masked=False)) - len(body)
        if pos == at:
            print("the pong is frame %d, between two frames: the frames never mix" % k)
            return
        if pos < at < pos + head + len(body):
            print("the pong is %d bytes inside frame %d (opcode %d, %d bytes): the stream is broken"
                  % (at - pos, k, opcode, len(body)))
            return
        pos += head + len(body)
    print("no pong came back")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[1])
    port = int(sys.argv[1])
    mode = sys.argv[2] if len(sys.argv) == 3 else "echo"
    if mode == "chat":
        chat(port, "40 messages at once", *[frame(0x1, b'{"text": "spam %d"}' % i) for i in range(40)])
        chat(port, "'hello', not JSON", frame(0x1, b"hello"))
        chat(port, "a binary message", frame(0x2, b"\x00\x01"))
        chat(port, "a text of 5000 bytes", frame(0x1, b'{"text": "' + b"x" * 5000 + b'"}'))
        return
    if mode == "slow":
        slow(port)
        return
    if mode == "pong":
        pong(port)
        return
    run(port, "text 'Hello', masked", frame(0x1, b"Hello"))
    run(port, "the same, not masked", frame(0x1, b"Hello", masked=False))
    run(port, "ping 'hi'", frame(0x9, b"hi"))
    run(port, "'Hel', a ping, then 'lo'",
        frame(0x1, b"Hel", fin=False), frame(0x9, b""), frame(0x0, b"lo"))
    run(port, "a continuation, nothing begun", frame(0x0, b"lo"))
    run(port, "RSV1 set", bytes([0xC1]) + frame(0x1, b"x")[1:])
    run(port, "ping of 126 bytes", frame(0x9, b"x" * 126))
    run(port, "text: ce ba e1 bd b9 cf 83 ed a0 80",
        frame(0x1, bytes.fromhex("cebae1bdb9cf83eda080")))
    run(port, "text of 1000 bytes, 6 of them sent",
        frame(0x1, b"ok \xc0\xaf" + b"x" * 995)[:14])
    run(port, "2 MiB announced, nothing sent",
        bytes([0x82, 0x80 | 127]) + (2 << 20).to_bytes(8, "big") + MASK)
    run(port, "close, a 1-byte payload", frame(0x8, b"\x03"))
    run(port, "close 1000 'bye'", frame(0x8, b"\x03\xe8bye"))


if __name__ == "__main__":
    main()
