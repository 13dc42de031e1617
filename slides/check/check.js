#!/usr/bin/env node
// check.js - the slides as a room sees them, in headless Chromium.
//
//   node check.js check DIR   every slide of every deck DIR/NN-*.html, at
//                             1280x720 and at 1024x768 (a 16:9 and a 4:3
//                             projector): a PNG of each in DIR/png/, and a
//                             failure for each slide that overflows or is
//                             blank.  Exit status 1 when any slide fails.
//   node check.js pdf DIR     one PDF per deck in DIR/pdf/, a slide a page.
//
// make slides-check and make slides-pdf run it (slides/slides.mk).  Why a
// browser: only a browser knows where the text wraps and how tall a
// picture ends up, so only a browser can say whether a slide fits.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const SIZES = [
  { width: 1280, height: 720 },
  { width: 1024, height: 768 },
];
// The PDF's page: 16:9, as kit.css's @page says.
const PDF_PAGE = { width: 1280, height: 720 };

// Debian's Chromium, not a browser build of Playwright's own (none is
// downloaded: the kit installs only what the distribution ships).  The
// flags keep it off the network and the GPU.  CHROMIUM=PATH picks another.
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

// A picture may not be shown smaller than this share of its drawn size,
// nor code set smaller than this (px at 1024x768): the back of the room
// must read both.  Too much for a slide is split, never shrunk.
const MIN_PICTURE_SCALE = 0.9;
const MIN_CODE_PX = 19.5;

// A slide or a picture counts as blank when fewer pixels than this differ
// from its most common colour: nothing shows, or it is all one colour.  A
// screenshot is exact (no noise), and a full stop alone is about 20.
const BLANK_PIXELS = 12;

async function main() {
  const [mode, dir] = process.argv.slice(2);
  if (!['check', 'pdf'].includes(mode) || !dir) {
    console.error('usage: check.js check|pdf DIR   (make slides-check, make slides-pdf)');
    process.exit(2);
  }
  const decks = fs.readdirSync(dir).filter((f) => /^[0-9].*\.html$/.test(f)).sort();
  if (decks.length === 0) {
    console.error(`slides: no deck in ${dir}: run make slides first`);
    process.exit(2);
  }
  // A new, empty profile each run: nothing a person's browser remembers
  // (zoom, fonts, extensions) can change what the check sees.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'slides-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    if (mode === 'check') {
      process.exitCode = await checkAll(browser, dir, decks);
    } else {
      await printAll(browser, dir, decks);
    }
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

// ---- make slides-check ------------------------------------------------

async function checkAll(browser, dir, decks) {
  const pngDir = path.join(dir, 'png');
  fs.rmSync(pngDir, { recursive: true, force: true });  // no PNG of a slide since removed
  fs.mkdirSync(pngDir, { recursive: true });
  // A page of its own to count pixels in, so that the decks stay as shipped.
  const scratch = await browser.newPage();
  const failures = [];  // one line per problem
  let slides = 0;               // slides of all decks, at one size
  let checks = 0, failed = 0;   // a slide at one size, the arrow keys of a deck
  for (const size of SIZES) {
    const page = await browser.newPage();
    await page.setViewportSize(size);
    const label = `${size.width}x${size.height}`;
    for (const deck of decks) {
      const name = deck.replace(/\.html$/, '');
      const count = await openDeck(page, path.join(dir, deck));
      checks++;
      if (!await arrowsWork(page, count)) {
        failures.push(`slides/${name}.md, at ${label}: the arrow keys do not move between slides`);
        failed++;
      }
      for (let n = 1; n <= count; n++) {
        await showSlide(page, n);
        const seen = await page.evaluate(inspectSlide, [n, MIN_PICTURE_SCALE, MIN_CODE_PX]);
        const png = await page.screenshot({
          path: path.join(pngDir, `${name}-${String(n).padStart(2, '0')}-${label}.png`),
        });
        const problems = seen.problems;
        if (problems.length === 0 && await looksBlank(scratch, png, seen.rest)) {
          problems.push('blank: all one colour (below the title, if any)');
        }
        for (const pic of seen.pictures) {
          if (await looksBlank(scratch, png, pic)) {
            problems.push(`blank: the picture${pic.alt ? ` "${pic.alt}"` : ''} is all one colour`);
          }
        }
        for (const p of problems) {
          failures.push(`slides/${name}.md, slide ${n} "${seen.title}", at ${label}: ${p}`);
        }
        if (problems.length) failed++;
        checks++;
        if (size === SIZES[0]) slides++;
      }
    }
    await page.close();
  }
  writeContactSheet(pngDir);
  for (const f of failures) console.log(`FAIL ${f}`);
  const bad = new Set(failures.map((f) => f.replace(/, at \d+x\d+: .*/, ''))).size;
  console.log(`slides-check: ${slides} slides in ${decks.length} decks, `
    + `at ${SIZES.map((s) => `${s.width}x${s.height}`).join(' and ')}: `
    + (bad ? `${bad} ${bad === 1 ? 'slide fails' : 'slides fail'} (see FAIL above)` : 'every slide fits')
    + `; PNGs in ${pngDir}/ (index.html shows them all)`);
  // The closing line CI reads.
  console.log(`${checks - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

// png/index.html: every PNG on one page, deck by deck, for a person to
// look through in a browser (a slide can fit and still look wrong).
function writeContactSheet(pngDir) {
  const pngs = fs.readdirSync(pngDir).filter((f) => f.endsWith('.png')).sort();
  const items = pngs.map((f) => `<figure><img src="${f}" loading="lazy" width="320">`
    + `<figcaption>${f}</figcaption></figure>`);
  fs.writeFileSync(path.join(pngDir, 'index.html'), '<!DOCTYPE html><meta charset="utf-8">'
    + '<title>Slides, as make slides-check saw them</title><style>body{font:14px sans-serif;'
    + 'display:flex;flex-wrap:wrap;gap:8px} img{border:1px solid #999} figure{margin:0}</style>'
    + `${items.join('\n')}\n`);
}

// Open a deck and wait until everything it draws is ready: fonts, and
// pictures decoded (they are data: URLs, so nothing is fetched).
async function openDeck(page, file) {
  await page.goto('file://' + path.resolve(file));
  await page.evaluate(async () => {
    await document.fonts.ready;
    await Promise.all([...document.images].map((i) => i.decode().catch(() => {})));
  });
  return page.evaluate(() => document.querySelectorAll('body > section').length);
}

// The presenter's keys: Right goes to slide 2, Left comes back to 1.
// dzslides moves through the address (#2.0), a moment after the key.
async function arrowsWork(page, count) {
  if (count < 2) return true;
  const reaches = (n) => page.waitForFunction(
    (n) => document.querySelectorAll('body > section')[n - 1].hasAttribute('aria-selected'),
    n, { timeout: 2000 }).then(() => true, () => false);
  await page.keyboard.press('ArrowRight');
  if (!await reaches(2)) return false;
  await page.keyboard.press('ArrowLeft');
  return reaches(1);
}

// dzslides shows slide N for the address #N.0, as a person gets there with
// the arrow keys; then wait for the frame to be drawn.
async function showSlide(page, n) {
  await page.evaluate((n) => { window.location.hash = `#${n}.0`; }, n);
  await page.waitForFunction(
    (n) => document.querySelectorAll('body > section')[n - 1].hasAttribute('aria-selected'), n);
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

// Runs in the page: what is wrong with slide n as laid out.  The slide's
// box is the section minus its padding (the slide number lives there).
// Every element and every line of text must be inside it, and nothing may
// scroll; a slide must show some text or a picture.
function inspectSlide([n, MIN_PICTURE_SCALE, MIN_CODE_PX]) {
  const slide = document.querySelectorAll('body > section')[n - 1];
  const heading = slide.querySelector('h1');
  const title = (heading && heading.textContent.trim().replace(/\s+/g, ' ')) || '(no title)';
  const style = getComputedStyle(slide);
  const r = slide.getBoundingClientRect();
  const box = {
    left: r.left + parseFloat(style.paddingLeft),
    top: r.top + parseFloat(style.paddingTop),
    right: r.right - parseFloat(style.paddingRight),
    bottom: r.bottom - parseFloat(style.paddingBottom),
  };
  const problems = [];

  if (r.left < -1 || r.top < -1 || r.right > innerWidth + 1 || r.bottom > innerHeight + 1) {
    problems.push(`the slide (${Math.round(r.width)}x${Math.round(r.height)}) is larger than the window`);
  }

  // What overflows is reported once per block of the slide (a listing, a
  // table, a picture: the section's children), with its worst side.
  const block = (el) => {
    while (el.parentElement && el.parentElement !== slide) el = el.parentElement;
    return el;
  };
  const name = (el) => {
    const kind = el.matches('div.sourceCode, pre') ? 'code listing'
      : { TABLE: 'table', FIGURE: 'picture', UL: 'list', OL: 'list', P: 'paragraph',
        H1: 'title', BLOCKQUOTE: 'quote' }[el.tagName] || `<${el.tagName.toLowerCase()}>`;
    const text = el.textContent.trim().replace(/\s+/g, ' ');
    return `the ${kind}${text ? ` "${text.slice(0, 30)}${text.length > 30 ? '...' : ''}"` : ''}`;
  };
  const worst = new Map();  // block -> [side, px]
  const check = (el, q) => {
    const sides = [['bottom', q.bottom - box.bottom], ['right', q.right - box.right],
      ['top', box.top - q.top], ['left', box.left - q.left]];
    for (const [side, px] of sides) {
      const b = block(el);
      if (px > 1 && px > (worst.get(b) || ['', 0])[1]) worst.set(b, [side, px]);
    }
  };
  const cut = new Set();  // blocks that scroll or hide part of themselves

  let visible = false;
  const walker = document.createTreeWalker(slide, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeType === Node.TEXT_NODE) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const q of range.getClientRects()) {
        if (q.width === 0 || q.height === 0) continue;
        visible = true;
        check(node.parentElement, q);
      }
      continue;
    }
    const cs = getComputedStyle(node);
    if (cs.display === 'none' || cs.visibility === 'hidden') continue;
    const q = node.getBoundingClientRect();
    if (q.width === 0 || q.height === 0) continue;
    if (node.tagName === 'IMG' || node.tagName === 'svg') visible = true;
    check(node, q);
    // A box too small for what it holds scrolls or cuts it off: the room
    // would see part of it.
    const clips = (a) => a !== 'visible';
    if ((node.scrollHeight > node.clientHeight + 1 && clips(cs.overflowY))
      || (node.scrollWidth > node.clientWidth + 1 && clips(cs.overflowX))) {
      cut.add(block(node));
    }
  }
  for (const [b, [side, px]] of worst) {
    problems.push(`${name(b)} runs ${Math.ceil(px)} px past the ${side} edge`);
  }
  for (const b of cut) {
    if (!worst.has(b)) problems.push(`${name(b)} is cut off or scrolls`);
  }
  // Pictures.  Their labels are drawn at 12-15 px: shrunk below
  // MIN_PICTURE_SCALE of the drawn size (in the slide's unit, kit.css's
  // --u: 1 px at 1024x768) they are too small to read.  The pixel test
  // looks at the part a picture paints: object-fit centres it in its box.
  const u = Math.min(innerWidth / 1024, innerHeight / 768);
  const pictures = [];
  for (const img of slide.querySelectorAll('img')) {
    const q = img.getBoundingClientRect();
    if (q.width < 1 || q.height < 1) continue;
    const scale = Math.min(q.width / img.naturalWidth, q.height / img.naturalHeight);
    if (scale / u < MIN_PICTURE_SCALE) {
      problems.push(`the picture${img.alt ? ` "${img.alt}"` : ''} is shrunk to ${Math.round(scale / u * 100)}% `
        + 'of its drawn size, too small to read: give it a slide of its own');
    }
    const w = img.naturalWidth * scale, h = img.naturalHeight * scale;
    const left = q.left + (q.width - w) / 2, top = q.top + (q.height - h) / 2;
    pictures.push({ alt: img.alt, left, top, right: left + w, bottom: top + h });
  }
  for (const pre of slide.querySelectorAll('pre')) {
    const px = parseFloat(getComputedStyle(pre).fontSize) / u;
    if (px < MIN_CODE_PX) {
      problems.push(`${name(block(pre))} is set at ${px.toFixed(1)} px (at 1024x768), `
        + `under ${MIN_CODE_PX}: too small to read; split the slide instead`);
    }
  }
  if (!visible) problems.push('blank: no text and no picture');
  // For the pixel test: what is below the title, unless the title is all
  // the slide has (a title slide, a divider).
  const rest = { ...box };
  const shown = [...slide.children].filter((c) => getComputedStyle(c).display !== 'none');
  if (heading && heading.parentElement === slide && shown.length > 1) {
    rest.top = Math.max(box.top, heading.getBoundingClientRect().bottom);
  }
  return { title, problems, rest, pictures };
}

// Count, in the screenshot, the pixels of a box that differ from its most
// common colour.  Done in a scratch page's canvas, so that the
// check needs nothing but playwright-core.
async function looksBlank(scratch, png, box) {
  const differ = await scratch.evaluate(async ({ b64, box }) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    // 1 px inside the box: its edges blend with what is beside it.
    const x = Math.max(0, Math.ceil(box.left) + 1), y = Math.max(0, Math.ceil(box.top) + 1);
    const w = Math.min(img.width, Math.floor(box.right) - 1) - x;
    const h = Math.min(img.height, Math.floor(box.bottom) - 1) - y;
    if (w <= 0 || h <= 0) return 0;  // nothing to see
    const px = ctx.getImageData(x, y, w, h).data;
    const counts = new Map();
    for (let i = 0; i < px.length; i += 4) {
      const c = (px[i] << 16) | (px[i + 1] << 8) | px[i + 2];
      counts.set(c, (counts.get(c) || 0) + 1);
    }
    return w * h - Math.max(...counts.values());
  }, { b64: png.toString('base64'), box });
  return differ < BLANK_PIXELS;
}

// ---- make slides-pdf --------------------------------------------------

// Chromium's own print to PDF: kit.css's print style puts each slide on a
// 1280x720 page of its own.
async function printAll(browser, dir, decks) {
  const pdfDir = path.join(dir, 'pdf');
  fs.mkdirSync(pdfDir, { recursive: true });
  const page = await browser.newPage();
  await page.setViewportSize(PDF_PAGE);
  for (const deck of decks) {
    const count = await openDeck(page, path.join(dir, deck));
    const out = path.join(pdfDir, deck.replace(/\.html$/, '.pdf'));
    await page.pdf({ path: out, preferCSSPageSize: true, printBackground: true });
    console.log(`slides-pdf: ${out} (${count} slides)`);
  }
  await page.close();
}

main().catch((err) => {
  console.error(`slides: ${err.message}`);
  if (/launch/i.test(err.message)) console.error(`slides: Chromium (${CHROMIUM}) did not start: make deps-slides`);
  process.exit(2);
});
