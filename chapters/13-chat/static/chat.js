// chat.js - chapter 13's chat page: join a room, show its messages, send.
//
// Three transports, the best the browser has, the same messages on each:
//   WebSocket            /ws/chat?room=R&name=N   one connection, both ways
//   Server-Sent Events   /events?room=R           the server pushes; we POST
//   long-polling         /poll?room=R&since=ID    we ask, it waits; we POST
// A message is JSON {"room","name","text","id","time"}; name "" marks the
// room's own notices ("alice joined").  Sending without a WebSocket is
// POST /send?room=R&name=N with the body {"text": "..."}.
//
// Two rules keep the page honest:
// - Whatever a stranger typed (a nickname, a message) goes into the page
//   with textContent, never innerHTML: the browser shows it as text and
//   never reads it as markup.  "<img src=x onerror=...>" stays a string.
// - Every message has an id that grows within its room.  We remember the
//   last one shown and skip anything at or below it, so the history that
//   a reconnect sends again is never shown twice.
'use strict';

const ROOM_NAME = /^[A-Za-z0-9_-]{1,32}$/;  // the server's rule (room.h)
const RETRY_FIRST_MS = 500;                 // back-off: 0.5 s, 1 s, 2 s...
const RETRY_MAX_MS = 10000;                 // ...never more than 10 s

const chat = {
  room: '',
  name: '',
  lastId: 0,       // the newest message shown
  lastTime: 0,     // the latest time of a message shown
  send: null,      // the current transport's way to send, or null
  retryMs: 0,      // the next back-off
};

const $ = (id) => document.getElementById(id);

// ---- Showing messages ------------------------------------------------

// An element holding text, safely: textContent never parses markup.
function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], {
    hour: '2-digit', minute: '2-digit',
  });
}

// A steady colour per nickname, so a conversation is easy to follow.
// The colour is computed, never taken from what the user sent.
function nameColour(name) {
  let hash = 0;
  for (const c of name) hash = (hash * 31 + c.codePointAt(0)) % 360;
  return `hsl(${hash}, 55%, 35%)`;
}

// Add li at the bottom; follow it if the reader was at the bottom already
// (someone scrolled up to read the history keeps their place).
function append(li) {
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(li);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function show(msg) {
  // An id already seen is history sent again: skip it, unless the message
  // is newer than any shown: then the server restarted and its ids
  // started over, and we count again from there.
  if (msg.id <= chat.lastId && msg.time <= chat.lastTime) return;
  chat.lastId = msg.id;
  chat.lastTime = Math.max(chat.lastTime, msg.time);

  const li = element('li', msg.name === '' ? 'notice' : 'message');
  const time = element('time', '', clock(msg.time));
  time.dateTime = new Date(msg.time * 1000).toISOString();
  li.append(time);
  if (msg.name !== '') {
    const who = element('span', 'name', msg.name);
    who.style.color = nameColour(msg.name);
    li.append(who);
    if (msg.name === chat.name) li.classList.add('mine');
  }
  li.append(element('span', 'text', msg.text));
  append(li);
}

// A line of our own in the list (a dropped connection), not a message.
function note(text) {
  const li = element('li', 'local');
  li.append(element('time', '', clock(Date.now() / 1000)), element('span', 'text', text));
  append(li);
}

// The status line says which transport carries the chat: data-state and
// data-transport are there for the tests (and for chat.css).
function status(state, text, transport) {
  const line = $('status');
  line.textContent = text;
  line.dataset.state = state;
  line.dataset.transport = transport || '';
}

// ---- Connecting, losing the connection, coming back ------------------

function connected(transport, label, send) {
  chat.retryMs = 0;
  chat.send = send;
  $('send-button').disabled = false;
  status('connected', `${label}: room ${chat.room} as ${chat.name}`, transport);
}

// The connection is gone: try again later, waiting longer each time (with
// some randomness, so that a thousand clients dropped at once by a
// restarting server do not all come back in the same millisecond).
function reconnectLater(why) {
  chat.send = null;
  $('send-button').disabled = true;
  chat.retryMs = Math.min(chat.retryMs ? chat.retryMs * 2 : RETRY_FIRST_MS, RETRY_MAX_MS);
  const wait = chat.retryMs / 2 + Math.random() * chat.retryMs / 2;
  status('reconnecting', `${why}: reconnecting in ${(wait / 1000).toFixed(1)} s`);
  setTimeout(connect, wait);
}

function query(params) {
  return new URLSearchParams(params).toString();
}

function connect() {
  status('connecting', 'Connecting...');
  if ('WebSocket' in window) connectWebSocket();
  else if ('EventSource' in window) connectEventSource();
  else connectPolling();
}

// WebSocket: messages both ways on one connection.  When the server
// drops us it says why in the close frame (code and reason): show it.
function connectWebSocket() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${scheme}//${location.host}/ws/chat?` +
                           query({ room: chat.room, name: chat.name }));
  let opened = false;
  ws.onopen = () => {
    opened = true;
    connected('websocket', 'WebSocket', (text) => ws.send(JSON.stringify({ text })));
  };
  ws.onmessage = (event) => show(JSON.parse(event.data));
  ws.onclose = (event) => {
    // 1006 is no close frame at all: the connection was cut.
    const why = event.code === 1006 ? 'connection lost (no close frame)'
      : `server closed the connection: ${event.code} ${event.reason}`.trim();
    if (opened) note(why);  // a drop goes in the list; a failed retry does not
    reconnectLater(why);
  };
}

// Server-Sent Events: the server pushes, we post.  EventSource reconnects
// by itself and sends Last-Event-ID (the id: of the last event), so the
// server resumes where we were; we only take over when it gives up (an
// error answer instead of a stream).
function connectEventSource() {
  const events = new EventSource('/events?' + query({ room: chat.room }));
  events.onopen = () => connected('sse', 'Server-Sent Events', post);
  events.onmessage = (event) => show(JSON.parse(event.data));
  events.onerror = () => {
    if (events.readyState === EventSource.CLOSED) {
      reconnectLater('the event stream was refused');
    } else {
      status('reconnecting', 'Server-Sent Events: connection lost, the browser reconnects');
    }
  };
}

// Long-polling: ask for what came after the last id; the server answers
// at once if there is something, else waits (up to its limit) for it.
// The first ask of a connection takes the whole history (since=0): the
// server may have restarted, its ids started over, and show() sorts out
// what was seen already.
async function connectPolling() {
  connected('polling', 'Long-polling', post);
  for (let since = 0; ; since = chat.lastId) {
    let messages;
    try {
      const answer = await fetch('/poll?' + query({ room: chat.room, since }));
      if (!answer.ok) throw new Error(`/poll answered ${answer.status}`);
      messages = await answer.json();
    } catch (err) {
      // fetch fails with a TypeError when no answer came at all.
      reconnectLater(err instanceof TypeError ? 'connection lost' : err.message);
      return;
    }
    messages.forEach(show);
  }
}

// Sending without a WebSocket: one POST per message.  What comes back is
// only "accepted": the message itself arrives like everyone else's.
async function post(text) {
  const answer = await fetch('/send?' + query({ room: chat.room, name: chat.name }), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  if (!answer.ok) {
    note(`not sent: the server answered ${answer.status} ${(await answer.text()).trim()}`);
  }
}

// ---- Joining ----------------------------------------------------------

function join(room, name) {
  chat.room = room;
  chat.name = name;
  document.title = `Chat: ${room}`;
  $('room-title').textContent = room;
  $('join').hidden = true;
  $('chat').hidden = false;
  $('text').focus();
  connect();
}

// The room comes from the address (/?room=lobby), the nickname from the
// address (&name=alice) or from the last visit; what is missing is asked.
function start() {
  const params = new URLSearchParams(location.search);
  const room = params.get('room') || 'lobby';
  const name = params.get('name') || localStorage.getItem('chat-name') || '';
  if (ROOM_NAME.test(room) && name !== '') {
    join(room, name);
    return;
  }
  $('join-room').value = room;
  $('join-name').value = name;
  $('join').hidden = false;
  $('join-name').focus();
}

$('join').addEventListener('submit', (event) => {
  event.preventDefault();
  const room = $('join-room').value;
  const name = $('join-name').value;
  localStorage.setItem('chat-name', name);
  history.replaceState(null, '', '/?' + query({ room }));  // a link to share
  join(room, name);
});

$('send').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('text').value;
  if (text === '' || !chat.send) return;
  chat.send(text);
  $('text').value = '';
});

start();
