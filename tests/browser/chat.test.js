// chat.test.js - chapter 13's chat in a real browser (headless Chromium).
// make test-browser13 runs it; it starts the server and the browser itself.
//
//   websocket    two pages join a room and talk both ways over WebSocket
//   sse          a page without WebSocket talks over Server-Sent Events
//   polling      a page without WebSocket nor EventSource: long-polling
//   reconnect    the server restarts: the pages come back by themselves
//   flood        the rate limit drops a page (1008, shown); it comes
//                back and shows nothing twice; over POST, a 429 is shown
//   markup       a nickname and a message made of markup show as text,
//                and no script of theirs runs
//   screenshot   build/browser/chat.png, the picture the lesson shows
//   wss          the server over HTTPS (--cert, --key): the page opens
//                wss://, a page without WebSocket uses SSE over https://
//   redis        pages on different processes see each other's messages:
//                only with CHAT_REDIS=1 (make test-browser13 REDIS=1)
//
// A failure says what the page was expected to show, and what it shows.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const h = require('./harness');

const WEBSOCKET = { transport: 'websocket' };
const SSE = { without: ['WebSocket'], transport: 'sse' };
const POLLING = { without: ['WebSocket', 'EventSource'], transport: 'polling' };

let browser;
let server;

before(async () => {
  server = await h.startServer();
  browser = await h.launchBrowser();
});

after(async () => {
  await browser?.close();
  await h.stop(server?.child);
});

// No dialog opened, no uncaught error: checked on every page at the end.
function assertQuiet(...pages) {
  for (const page of pages) {
    assert.deepStrictEqual(page.problems, [], 'expected a page with no script of a stranger ' +
      'running and no error (the lesson: "never innerHTML")');
  }
}

// Each page says something, and every page sees every line once.
async function converse(pages, lines) {
  for (const [page, name, text] of lines) {
    await h.say(page, text);
    for (const other of pages) await h.waitForMessage(other, name, text);
  }
  for (const page of pages) {
    const shown = await h.shownMessages(page);
    for (const [, name, text] of lines) {
      const times = shown.filter((m) => m.name === name && m.text === text).length;
      assert.strictEqual(times, 1, `expected ${name}'s "${text}" shown once, shown ${times} times`);
    }
  }
}

test('websocket: two pages join a room and talk both ways', async () => {
  const room = h.newRoom('ws');
  const alice = await h.openChat(browser, server.url, { room, name: 'alice', ...WEBSOCKET });
  const bob = await h.openChat(browser, server.url, { room, name: 'bob', ...WEBSOCKET });
  await h.waitForMessage(alice, '', 'bob joined');
  await converse([alice, bob], [
    [alice, 'alice', 'hello bob'],
    [bob, 'bob', 'hi alice, héllo in UTF-8 ✓'],
  ]);
  // The room's notices are set apart from the messages (chat.css).
  const kind = (await h.shownMessages(alice)).find((m) => m.text === 'bob joined').kind;
  assert.strictEqual(kind, 'notice', `expected "bob joined" in an li.notice, got li.${kind}`);
  assertQuiet(alice, bob);
  await alice.context().close();
  await h.waitForMessage(bob, '', 'alice left');
  await bob.context().close();
});

test('sse: a page without WebSocket talks to a WebSocket page', async () => {
  const room = h.newRoom('sse');
  const carol = await h.openChat(browser, server.url, { room, name: 'carol', ...SSE });
  const dave = await h.openChat(browser, server.url, { room, name: 'dave', ...WEBSOCKET });
  await converse([carol, dave], [
    [carol, 'carol', 'posted, then pushed back as an event'],
    [dave, 'dave', 'sent over a WebSocket, read as an event'],
  ]);
  assertQuiet(carol, dave);
  await carol.context().close();
  await dave.context().close();
});

test('polling: a page without WebSocket nor EventSource long-polls', async () => {
  const room = h.newRoom('poll');
  const erin = await h.openChat(browser, server.url, { room, name: 'erin', ...POLLING });
  const frank = await h.openChat(browser, server.url, { room, name: 'frank', ...WEBSOCKET });
  await converse([erin, frank], [
    [erin, 'erin', 'the oldest way: ask, wait, ask again'],
    [frank, 'frank', 'and it still works'],
    [erin, 'erin', 'no message twice'],
  ]);
  assertQuiet(erin, frank);
  await erin.context().close();
  await frank.context().close();
});

// A server that stops and starts again (a student's edit, a deploy): the
// pages notice, back off, reconnect by themselves, and show nothing twice.
// The new server's ids start over: the SSE page's Last-Event-ID is beyond
// them (the server then resumes from its newest), and the page shows
// what is newer than anything it has shown, whatever its id.
test('reconnect: the server restarts, the pages come back by themselves', async () => {
  let own = await h.startServer();
  try {
    const room = h.newRoom('again');
    const gus = await h.openChat(browser, own.url, { room, name: 'gus', ...WEBSOCKET });
    const hal = await h.openChat(browser, own.url, { room, name: 'hal', ...POLLING });
    const ida = await h.openChat(browser, own.url, { room, name: 'ida', ...SSE });
    const pages = [gus, hal, ida];
    await converse(pages, [[gus, 'gus', 'before the restart']]);
    for (const page of pages) await h.watchStates(page);
    await h.stop(own.child);
    for (const page of pages) await h.waitForState(page, 'reconnecting');
    own = await h.startServer([], own.port);
    for (const page of pages) await h.connected(page);
    // A server that stops says so in its close frame (chat_app.h).
    await h.waitForNote(gus, 'server closed the connection: 1001 going away');
    await converse(pages, [
      [hal, 'hal', 'after the restart'],
      [gus, 'gus', 'welcome back'],
      [ida, 'ida', 'the event stream resumed too'],
    ]);
    for (const page of pages) {
      const shown = await h.shownMessages(page);
      const before = shown.filter((m) => m.text === 'before the restart').length;
      assert.strictEqual(before, 1, `expected the message from before the restart shown once, ` +
        `shown ${before} times: a reconnect must not show old messages again`);
    }
    assertQuiet(...pages);
    for (const page of pages) await page.context().close();
  } finally {
    await h.stop(own.child);
  }
});

// A page that floods the room is dropped by the server's rate limit with
// a close code, which the page shows; it then reconnects, gets the
// history again, and shows none of it twice.
test('flood: dropped with 1008, the page says so, comes back, no duplicates', async () => {
  const room = h.newRoom('flood');
  const ivy = await h.openChat(browser, server.url, { room, name: 'ivy', ...WEBSOCKET });
  const joe = await h.openChat(browser, server.url, { room, name: 'joe', ...WEBSOCKET });
  await h.watchStates(ivy);
  // 100 messages as fast as the form takes them: far over any burst.
  await ivy.evaluate(() => {
    for (let i = 1; i <= 100; i++) {
      document.getElementById('text').value = `flood ${i}`;
      document.getElementById('send').requestSubmit();
    }
  });
  try {
    await h.waitForNote(ivy, 'server closed the connection: 1008 too many messages');
  } catch (err) {
    // Seen while the server's writer greenlet shut the socket down as soon
    // as a send failed with EPIPE (the reader's close frame was out): the
    // flood still arriving made close() a TCP reset, and a reset throws
    // away the close frame the browser had not read yet.
    if (err.message.includes('no close frame')) {
      err.message = 'the server cut the connection before the close handshake ended ' +
        '(RFC 6455 7.1.1: wait for the client\'s close): look at what ends a WebSocket ' +
        'in chapters/13-chat/chat_ws.h\n' + err.message;
    }
    throw err;
  }
  await h.waitForState(ivy, 'reconnecting');
  await h.connected(ivy, 'websocket');
  await h.waitForMessage(ivy, '', 'ivy left');  // sent after the history: it is all here
  await converse([ivy, joe], [[ivy, 'ivy', 'sorry, calm again']]);
  for (const page of [ivy, joe]) {
    const shown = (await h.shownMessages(page)).filter((m) => m.text.startsWith('flood '));
    const twice = shown.filter((m, i) => shown.findIndex((o) => o.text === m.text) !== i);
    assert.ok(shown.length > 0, 'expected the first of the flood shown (the burst the rate allows)');
    assert.deepStrictEqual(twice.map((m) => m.text), [],
      'expected no message shown twice: the history sent again on reconnecting is skipped by id');
  }
  assertQuiet(ivy, joe);
  await ivy.context().close();
  await joe.context().close();
});

// Without a WebSocket there is no connection to close: each POST over
// the limit is refused (429), and the page says which were not sent.
test('flood over POST: refused messages are said to be not sent', async () => {
  const room = h.newRoom('flood-post');
  const kim = await h.openChat(browser, server.url, { room, name: 'kim', ...SSE });
  await kim.evaluate(() => {
    for (let i = 1; i <= 60; i++) {
      document.getElementById('text').value = `flood ${i}`;
      document.getElementById('send').requestSubmit();
    }
  });
  await h.waitForMessage(kim, 'kim', 'flood 1');
  await h.waitFor(kim, 'a note "not sent: the server answered 429 ..."',
                  () => [...document.querySelectorAll('#messages li.local .text')]
                    .some((el) => el.textContent.startsWith('not sent: the server answered 429')));
  assertQuiet(kim);
  await kim.context().close();
});

test('markup: a nickname and a message of markup show as text', async () => {
  const room = h.newRoom('xss');
  const nick = '<img src=x onerror=alert(1)>';
  const text = '<b>bold?</b><script>alert(2)</script>';
  const watcher = await h.openChat(browser, server.url, { room, name: 'watcher', ...WEBSOCKET });
  // The stranger joins through the form, as a person would.
  const stranger = await h.openChat(browser, server.url, { room, join: false });
  await stranger.fill('#join-name', nick);
  await stranger.click('#join button');
  await h.connected(stranger, 'websocket');
  await h.say(stranger, text);
  for (const page of [watcher, stranger]) {
    await h.waitForMessage(page, nick, text);
    await h.waitForMessage(page, '', `${nick} joined`);
    const injected = await page.locator('#messages img, #messages b, #messages script').count();
    assert.strictEqual(injected, 0, `expected no element made from what the stranger typed, ` +
      `found ${injected}: the page used innerHTML where textContent belongs`);
  }
  assertQuiet(watcher, stranger);
  await watcher.context().close();
  await stranger.context().close();
});

test('screenshot: build/browser/chat.png', async () => {
  const room = 'lobby';
  const viewport = { width: 720, height: 480 };
  const ada = await h.openChat(browser, server.url, { room, name: 'ada', ...WEBSOCKET });
  const grace = await h.openChat(browser, server.url, { room, name: 'grace', ...SSE });
  const linus = await h.openChat(browser, server.url, { room, name: 'linus', viewport, ...WEBSOCKET });
  await converse([ada, grace, linus], [
    [ada, 'ada', 'Is everyone on the new server?'],
    [grace, 'grace', 'I am, over Server-Sent Events: my browser has no WebSocket.'],
    [linus, 'linus', 'WebSocket here. One greenlet reads, one writes.'],
    [ada, 'ada', 'And 10,000 of us fit in one process.'],
  ]);
  await ada.context().close();
  await h.waitForMessage(linus, '', 'ada left');
  await linus.fill('#text', 'Nice work!');
  const file = path.join(h.ROOT, 'build/browser/chat.png');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await linus.screenshot({ path: file });
  console.log(`# the chat page: ${path.relative(process.cwd(), file)}`);
  assertQuiet(grace, linus);
  await grace.context().close();
  await linus.context().close();
});

// ---- Over TLS: https:// and wss:// ------------------------------------
// The same server with --cert and --key (chapter 4's TLS on chapter 11's
// server).  A page served over https:// may only open wss://, so the page
// itself picks the scheme (chat.js); the test checks the browser did.
test('wss: over https://, one page chats through wss://, another over SSE', async () => {
  const certs = h.makeCertificates();
  const tls = await h.startServer(['--cert', certs.cert, '--key', certs.key]);
  try {
    assert.match(tls.url, /^https:/, `expected the server to say "listening on https://", it printed:\n${tls.child.output}`);
    const room = h.newRoom('wss');
    const sockets = [];
    const alice = await h.openChat(browser, tls.url, { room, name: 'alice', join: false });
    alice.on('websocket', (ws) => sockets.push(ws.url()));
    await alice.goto(`${tls.url}/?${new URLSearchParams({ room, name: 'alice' })}`);
    await h.connected(alice, 'websocket');
    const bob = await h.openChat(browser, tls.url, { room, name: 'bob', ...SSE });
    await converse([alice, bob], [
      [alice, 'alice', 'sealed in TLS records'],
      [bob, 'bob', 'read by OpenSSL, one greenlet at a time'],
    ]);
    assert.ok(sockets.length > 0 && sockets.every((u) => u.startsWith('wss://')),
              `expected the page to open wss:// only, it opened: ${sockets.join(', ') || 'nothing'}`);
    assertQuiet(alice, bob);
    await alice.context().close();
    await bob.context().close();
  } finally {
    await h.stop(tls.child);
    fs.rmSync(certs.dir, { recursive: true, force: true });
  }
});

// ---- More than one process: Redis -----------------------------------
// CHAT_REDIS=1 starts Debian's redis-server on a free port; CHAT_REDIS=URL
// uses a running one.  Two servers, each with two workers, share it: a
// page on one and a page on the other are in different processes for
// sure, and must see each other's messages.  (Which worker of a server a
// WebSocket landed on, a page cannot tell: /pid shows the workers exist.)
const REDIS = process.env.CHAT_REDIS || '';
const NEEDS_REDIS = 'needs the Redis wiring (--redis URL in chapter 13\'s server) and ' +
  'redis-server: make test-browser13 REDIS=1';

test('redis: pages on different processes see each other', { skip: REDIS ? false : NEEDS_REDIS },
  async () => {
    let redis = null;
    const servers = [];
    try {
      let url = REDIS;
      if (REDIS === '1') {
        const port = await h.freePort();
        redis = await h.startProgram('redis-server',
          ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
          /Ready to accept connections/, 'redis-server');
        url = `redis://127.0.0.1:${port}`;
      }
      for (let i = 0; i < 2; i++) servers.push(await h.startServer(['--workers', '2', '--redis', url]));
      const pids = await h.pidsOf(servers[0].url, 40);
      assert.strictEqual(pids.length, 2, `expected 2 workers answering /pid, got ${pids.join(', ')}`);
      const room = h.newRoom('redis');
      const one = await h.openChat(browser, servers[0].url, { room, name: 'one', ...WEBSOCKET });
      const two = await h.openChat(browser, servers[1].url, { room, name: 'two', ...WEBSOCKET });
      const three = await h.openChat(browser, servers[1].url, { room, name: 'three', ...POLLING });
      try {
        await converse([one, two, three], [
          [one, 'one', 'from the first server'],
          [two, 'two', 'from the second, through Redis'],
          [three, 'three', 'long-polling the second'],
        ]);
      } catch (err) {
        err.message = 'pages on two servers sharing Redis did not see each other\'s messages: ' +
          'is --redis wired in (lib/13-chat/room_redis.h, green_room_redis_start)?\n' + err.message +
          servers.map((s, i) => `\nserver ${i + 1} printed:\n${s.child.output}`).join('');
        throw err;
      }
      assertQuiet(one, two, three);
      for (const page of [one, two, three]) await page.context().close();
    } finally {
      for (const s of servers) await h.stop(s.child);
      await h.stop(redis);
    }
  });
