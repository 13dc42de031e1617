// ws_node.js - node's ws (Debian's node-ws) as `make bench-ws`'s peer:
// /ws/echo sends every message back with its opcode, /ws/chat?room=R&name=N
// is the chat of GUIDE.md's contract reduced to what the fan-out figure
// uses (join notices, every message to everyone in the room, in JSON).
// Usage: NODE_PATH=/usr/share/nodejs node ws_node.js HOST
// Prints "listening on http://HOST:PORT" (a port the kernel chose).
'use strict';
const { WebSocketServer } = require('ws');

const host = process.argv[2] || '127.0.0.1';
// No compression (ws's default for a server): the kit has none either.
const wss = new WebSocketServer({ host, port: 0, perMessageDeflate: false });
const rooms = new Map();               // room name -> { id, clients: Set }

function post(room, name, text) {
  const r = rooms.get(room);
  r.id += 1;
  const msg = JSON.stringify({ room, name, text, id: r.id, time: Date.now() / 1000 });
  for (const c of r.clients) c.send(msg);
}

wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/ws/echo') {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    return;
  }
  const room = url.searchParams.get('room') || 'lobby';
  const name = url.searchParams.get('name') || 'anonymous';
  if (!rooms.has(room)) rooms.set(room, { id: 0, clients: new Set() });
  rooms.get(room).clients.add(ws);
  post(room, '', `${name} joined`);
  ws.on('message', (data) => {
    try { post(room, name, String(JSON.parse(data).text)); } catch (e) { ws.close(1003); }
  });
  ws.on('close', () => { rooms.get(room).clients.delete(ws); post(room, '', `${name} left`); });
});
wss.on('listening', () => console.log(`listening on http://${host}:${wss.address().port}`));
process.on('SIGTERM', () => process.exit(0));
