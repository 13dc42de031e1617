// harness.js - what chat.test.js needs around a real browser: chapter 13's
// server on a free port, Debian's Chromium driven by playwright-core, and
// a page per user that joins a room.
//
// Everything waits for a condition (a message shown, a line printed),
// never for a fixed time: on a slow, loaded machine the same test only
// takes longer.  WAIT_MS bounds each wait; a wait that runs out says what
// it was waiting for.
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
// One pin for the whole kit: the playwright-core that make deps-slides
// installs for the slides (slides/check/package.json).
let chromium;
try {
  ({ chromium } = require(path.join(ROOT, 'slides/check/node_modules/playwright-core')));
} catch (err) {
  console.error('playwright-core is missing (slides/check/node_modules): make deps-slides');
  process.exit(1);
}

const WAIT_MS = Number(process.env.WAIT_MS || 30000);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// The flags keep Chromium off the network (the machine has none but
// loopback) and off the GPU (there is none).
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const SERVER = process.env.CHAT_SERVER ||
  path.join(ROOT, 'build/asm/chapters/13-chat/server');

// Chromium with a new, empty profile (playwright-core makes one in a
// temporary folder and removes it): nothing a person's browser remembers
// changes what the tests see.  Each user gets a context of its own, as if
// on a machine of its own (its own storage, its own connections).
function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

// A port nobody listens on now: the kernel picks one, we let it go.
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// Start a program and wait until a line of its output matches `ready`.
// Returns the child process; its output is kept for error messages.
function startProgram(file, args, ready, what) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.output = '';
    const timer = setTimeout(() => fail(`did not print ${ready} within ${WAIT_MS} ms`), WAIT_MS);
    function fail(why) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${what} (${file} ${args.join(' ')}) ${why}; it printed:\n${child.output}`));
    }
    function read(chunk) {
      child.output += chunk;
      if (ready.test(child.output)) {
        clearTimeout(timer);
        resolve(child);
      }
    }
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('error', (err) => fail(`could not start: ${err.message}`));
    child.on('exit', (code, signal) => {
      if (!ready.test(child.output)) fail(`exited (${signal || code}) before it was ready`);
    });
  });
}

// Chapter 13's server on 127.0.0.1 and a free port (or `port`); more
// arguments (--workers 2 --redis URL, --cert F --key F) as given.  Returns
// { url, port, child }; url is https:// when the server says so.
async function startServer(extra = [], port = 0) {
  if (!fs.existsSync(SERVER)) {
    throw new Error(`chapter 13's server ${SERVER} is not built: make test-browser13 builds it`);
  }
  port = port || await freePort();
  const child = await startProgram(SERVER, ['--host', '127.0.0.1', '--port', String(port), ...extra],
                                   /listening on https?:/, "chapter 13's server");
  const scheme = child.output.match(/listening on (https?):/)[1];
  return { url: `${scheme}://127.0.0.1:${port}`, port, child };
}

// Throwaway certificates for 127.0.0.1 (tests/tls-certs.sh, the same as
// the C tests'), in a new temporary folder.  Returns { cert, key }.
function makeCertificates() {
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'chat-tls-'));
  execFileSync('sh', [path.join(ROOT, 'tests/tls-certs.sh'), dir], { stdio: 'inherit' });
  return { dir, cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
}

// The process ids that answer GET /pid over `tries` new connections (a
// server with workers: each connection lands on one of them).
async function pidsOf(base, tries) {
  const pids = new Set();
  for (let i = 0; i < tries; i++) {
    const answer = await fetch(`${base}/pid`, { headers: { Connection: 'close' } });
    pids.add((await answer.text()).trim());
  }
  return [...pids];
}

// SIGTERM, then wait for the exit (SIGKILL if it takes too long).
function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.on('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

// A user: a page of its own that opens the chat.  `without` lists what to
// take away from the page before its scripts run (['WebSocket'] makes it
// a browser without WebSocket).  Unless `join` is false, it waits until
// the status line says connected, and checks the transport.
async function openChat(browser, base, { room, name, without = [], transport, join = true,
                                         viewport = { width: 800, height: 600 } }) {
  // Over https://, the test's certificate is signed by the test's own CA,
  // which Chromium does not know: this context alone is told to accept it.
  const context = await browser.newContext({ viewport, ignoreHTTPSErrors: base.startsWith('https:') });
  const page = await context.newPage();
  // What the page must never do, kept for the tests to check.
  page.problems = [];
  page.on('dialog', (dialog) => {
    page.problems.push(`a script ran and opened a ${dialog.type()} saying "${dialog.message()}"`);
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (err) => page.problems.push(`uncaught error in the page: ${err.message}`));
  if (without.length > 0) {
    await page.addInitScript((names) => { for (const n of names) delete window[n]; }, without);
  }
  const query = new URLSearchParams(join ? { room, name } : { room });
  await page.goto(`${base}/?${query}`);
  if (join) await connected(page, transport);
  return page;
}

// Wait until the page's status line says connected, over `transport`.
async function connected(page, transport) {
  await waitFor(page, 'the status line to say "connected"',
                () => document.getElementById('status').dataset.state === 'connected');
  const got = await page.locator('#status').getAttribute('data-transport');
  if (transport && got !== transport) {
    throw new Error(`expected the page to chat over ${transport}, got ${got} ` +
                    `(status line: "${await page.locator('#status').textContent()}")`);
  }
}

// page.waitForFunction with a message that says what never happened.
async function waitFor(page, what, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, { timeout: WAIT_MS });
  } catch (err) {
    const shown = await shownMessages(page).catch(() => []);
    throw new Error(`waited ${WAIT_MS} ms for ${what}; the page shows:\n` +
                    (shown.map((m) => `  ${m.kind}: ${m.name} ${m.text}`).join('\n') || '  nothing') +
                    `\n(status line: "${await page.locator('#status').textContent().catch(() => '?')}")`);
  }
}

// From now on, remember every state the status line goes through
// (page.states()): a state that lasts a moment is not missed.
async function watchStates(page) {
  await page.evaluate(() => {
    const line = document.getElementById('status');
    window.states = [];
    new MutationObserver(() => window.states.push(line.dataset.state))
      .observe(line, { attributes: true, attributeFilter: ['data-state'] });
  });
}

// Wait until the status line has said `state` since watchStates.
function waitForState(page, state) {
  return waitFor(page, `the status line to say "${state}"`, (s) => window.states.includes(s), state);
}

// Type a message and press Send (once the page can send).
async function say(page, text) {
  await page.locator('#send-button:enabled').waitFor({ timeout: WAIT_MS });
  await page.fill('#text', text);
  await page.click('#send-button');
}

// Wait until the page shows `name`'s message `text` (a notice when name
// is '').
function waitForMessage(page, name, text) {
  return waitFor(page, name === '' ? `the notice "${text}"` : `${name}'s message "${text}"`,
                 ([n, t]) => [...document.querySelectorAll('#messages li')].some((li) =>
                   (li.querySelector('.name')?.textContent ?? '') === n &&
                   li.querySelector('.text')?.textContent === t),
                 [name, text]);
}

// Wait until the page shows a note of its own (li.local) saying `text`.
function waitForNote(page, text) {
  return waitFor(page, `the page's note "${text}"`,
                 (t) => [...document.querySelectorAll('#messages li.local .text')]
                   .some((el) => el.textContent === t), text);
}

// What the page shows, in order: [{kind, name, text}].
function shownMessages(page) {
  return page.$$eval('#messages li', (items) => items.map((li) => ({
    kind: li.className,
    name: li.querySelector('.name')?.textContent ?? '',
    text: li.querySelector('.text')?.textContent ?? '',
  })));
}

// A room name no earlier run or test used: every test starts empty.
let rooms = 0;
function newRoom(prefix) {
  rooms += 1;
  return `${prefix}-${process.pid}-${rooms}`;
}

module.exports = {
  ROOT, WAIT_MS, launchBrowser, freePort, startProgram, startServer, makeCertificates, pidsOf, stop,
  openChat, connected, watchStates, waitForState, waitFor, say, waitForMessage, waitForNote, shownMessages, newRoom,
};
