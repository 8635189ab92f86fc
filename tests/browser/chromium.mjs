// Drives Debian's /usr/bin/chromium through playwright-core for Parley's interop tests.
//
//   node chromium.mjs <scenario> <baseUrl|url> [outDir]
//
// Prints ONE line of JSON (what the browser observed) on stdout and exits 0, or prints a clear
// error on stderr and exits non-zero. The whole run is bounded by OVERALL_TIMEOUT_MS.
//
// Scenarios:
//   french  <baseUrl> [outDir]  GET baseUrl/ as a French-speaking user; screenshot french.png
//   contact <baseUrl> [outDir]  fill and submit the form at baseUrl/contact; screenshot contact.png
//   live    <baseUrl> [outDir]  open baseUrl/live, wait for its WebSocket, load /contact and /no-such-page in
//           another tab, wait for both to appear in the live table; report its rows; screenshot live.png
//   status  <url>     [outDir]  load a Parley status page at url (plain http), wait for its first redraw, then open a
//           new TCP connection from node and send one request on it (kept alive); wait, without reloading, until
//           the page's table shows that connection idle; report its row, the page's policy, navigations, CSP
//           violations and console problems; screenshot status.png
//   page    <url>     [outDir]  load url; report status, final url, title, body text, headers and every request made
//   layout  <baseUrl> <outDir> <path>...  load each path at a desktop (1280x800) and a phone (390x844)
//           viewport; screenshot each (<name>-desktop.png, <name>-phone.png) and measure the layout faults
//           that can be measured: page wider than the viewport, boxes outside it, text overflowing its box,
//           overlapping block boxes; fetch every link, stylesheet and image once (no redirects followed).
//           A path `submit:/page` fills and submits the form on /page and measures the page it lands on.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';
// PARLEY_BROWSER_TIMEOUT_MS lets a long scenario (layout) ask for more; the caller's own limit must be above it.
const OVERALL_TIMEOUT_MS = Number(process.env.PARLEY_BROWSER_TIMEOUT_MS) || 60_000;
const STEP_TIMEOUT_MS = 20_000;
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];
// PARLEY_CHROMIUM_TRUST_SPKI: trust the TLS certificate with this public key (base64 SHA-256 of its
// SubjectPublicKeyInfo), e.g. parley serve's self-signed development certificate.
if (process.env.PARLEY_CHROMIUM_TRUST_SPKI) {
  ARGS.push(`--ignore-certificate-errors-spki-list=${process.env.PARLEY_CHROMIUM_TRUST_SPKI}`);
}

function fail(message, code = 1) {
  process.stderr.write(`chromium.mjs: ${message}\n`);
  process.exit(code);
}

const [scenario, target, outDir] = process.argv.slice(2);
const scenarios = { french, contact, live, status: statusScenario, page: pageScenario, layout };
if (!scenario || !target || !(scenario in scenarios)) {
  fail(`usage: node chromium.mjs <${Object.keys(scenarios).join('|')}> <baseUrl> [outDir]`, 64);
}
if (!fs.existsSync(CHROMIUM)) fail(`${CHROMIUM} not found (apt-get install chromium)`, 69);

const base = target.replace(/\/+$/, '');
let context;
let profileDir;

const timer = setTimeout(() => {
  cleanup().finally(() => fail(`scenario '${scenario}' timed out after ${OVERALL_TIMEOUT_MS / 1000} s`, 124));
}, OVERALL_TIMEOUT_MS);

async function cleanup() {
  try { if (context) await context.close(); } catch { /* already gone */ }
  context = undefined;
  try { if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true }); } catch { /* ignore */ }
}

// A fresh profile (--user-data-dir) per run: playwright passes it to Chromium itself.
async function launch(contextOptions = {}) {
  profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    timeout: STEP_TIMEOUT_MS,
    ...contextOptions,
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  return context.pages()[0] ?? await context.newPage();
}

async function screenshot(page, name) {
  if (!outDir) return undefined;
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.resolve(outDir, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function french() {
  const acceptLanguage = 'fr-FR,fr;q=0.9,en;q=0.5';
  const page = await launch({
    locale: 'fr-FR',
    extraHTTPHeaders: { 'Accept-Language': acceptLanguage },
  });
  // With `locale` set, Chromium's locale emulation overrides extraHTTPHeaders' Accept-Language on
  // navigations (seen with Chromium 156 / playwright-core 1.65: the document request carried just
  // "fr-FR", subresources the full value). Force the exact header on every request.
  await context.route('**/*', route => route.continue({
    headers: { ...route.request().headers(), 'accept-language': acceptLanguage },
  }));
  const response = await page.goto(base + '/', { waitUntil: 'load' });
  if (!response) throw new Error(`no response for ${base}/`);
  const doc = await page.evaluate(() => ({
    htmlLang: document.documentElement.lang,
    title: document.title,
    h1: document.querySelector('h1')?.textContent?.trim() ?? null,
    navigatorLanguage: navigator.language,
  }));
  return {
    status: response.status(),
    contentLanguage: (await response.headerValue('content-language')) ?? null,
    acceptLanguage: (await response.request().headerValue('accept-language')) ?? null,
    ...doc,
    screenshot: await screenshot(page, 'french.png'),
  };
}

async function contact() {
  const page = await launch();
  const first = await page.goto(base + '/contact', { waitUntil: 'load' });
  if (!first) throw new Error(`no response for ${base}/contact`);
  if (first.status() >= 400) throw new Error(`GET ${base}/contact answered ${first.status()}`);
  await page.fill('[name=name]', 'Joe User');
  await page.fill('[name=request]', 'Send me one of your catalogue');

  // The first main-frame navigation request after the click is the form submission
  // (if the server redirects, the response below is the final one of the chain).
  const submitted = page.waitForRequest(r => r.isNavigationRequest() && r.frame() === page.mainFrame());
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click('[type=submit]'),
  ]);
  const request = await submitted;
  return {
    status: response ? response.status() : null,
    url: page.url(),
    method: request.method(),
    requestContentType: (await request.headerValue('content-type')) ?? null,
    postData: request.postData(),
    finalMethod: response ? response.request().method() : null,
    bodyText: await page.evaluate(() => document.body ? document.body.innerText : ''),
    screenshot: await screenshot(page, 'contact.png'),
  };
}

async function live() {
  const page = await launch();
  const response = await page.goto(base + '/live', { waitUntil: 'load' });
  if (!response) throw new Error(`no response for ${base}/live`);
  await page.waitForSelector('#live-status[data-state="open"]');
  const other = await context.newPage();
  await other.goto(base + '/contact', { waitUntil: 'load' });
  await other.goto(base + '/no-such-page', { waitUntil: 'load' });
  const targets = () => [...document.querySelectorAll('#live-log tbody tr')].map(row => row.cells[2].textContent);
  await page.waitForFunction(`(${targets})().includes('/contact') && (${targets})().includes('/no-such-page')`);
  const rows = await page.evaluate(() => [...document.querySelectorAll('#live-log tbody tr')].map(row => [...row.cells].map(cell => cell.textContent)));
  return {
    status: response.status(),
    state: await page.getAttribute('#live-status', 'data-state'),
    rows: rows.map(c => ({ time: c[0], method: c[1], target: c[2], connection: Number(c[3]), request: Number(c[4]), status: Number(c[5]), duration: c[6] })),
    screenshot: await screenshot(page, 'live.png'),
  };
}

// One request on a new connection; resolves once the whole response (Content-Length framed) has arrived.
function requestOnNewConnection(url, requestPath) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const request = `GET ${requestPath} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`;
    let received = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () => socket.write(request));
    socket.on('data', chunk => {
      received = Buffer.concat([received, chunk]);
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(received.subarray(0, headEnd).toString('latin1'));
      if (length && received.length >= headEnd + 4 + Number(length[1])) {
        resolve({ socket, peer: `${socket.localAddress}:${socket.localPort}`, requestBytes: Buffer.byteLength(request, 'latin1'), responseBytes: received.length });
      }
    });
  });
}

async function statusScenario() {
  const page = await launch();
  const consoleProblems = [];
  page.on('console', message => {
    if (message.type() === 'error' || message.type() === 'warning') consoleProblems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', error => consoleProblems.push(`pageerror: ${error.message}`));
  let navigations = 0;
  page.on('framenavigated', frame => { if (frame === page.mainFrame()) navigations++; });
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const response = await page.goto(target, { waitUntil: 'load' });
  if (!response) throw new Error(`no response for ${target}`);
  await page.waitForFunction(() => Number(document.body.dataset.updates) >= 1);
  const rowsOf = () => [...document.querySelectorAll('#connections tbody tr')].map(row => [...row.cells].map(cell => cell.textContent));
  const before = await page.evaluate(rowsOf);

  // A connection that did not exist when the page was drawn.
  const opened = await requestOnNewConnection(new URL(target), '/from-node');
  try {
    await page.waitForFunction(peer => [...document.querySelectorAll('#connections tbody tr')]
      .some(row => row.cells[1].textContent === peer && row.cells[4].textContent === 'idle-keepalive'), opened.peer);
    const row = (await page.evaluate(rowsOf)).find(cells => cells[1] === opened.peer);
    return {
      status: response.status(),
      contentType: (await response.headerValue('content-type')) ?? null,
      policy: (await response.headerValue('content-security-policy')) ?? null,
      peer: opened.peer,
      requestBytes: opened.requestBytes,
      responseBytes: opened.responseBytes,
      peersBefore: before.map(cells => cells[1]),
      row: { id: row[0], client: row[1], local: row[2], tls: row[3], state: row[4], age: row[5], requests: row[6], bytesIn: row[7], bytesOut: row[8] },
      updates: Number(await page.evaluate(() => document.body.dataset.updates)),
      navigations,
      cspViolations: await page.evaluate(() => window.__cspViolations),
      consoleProblems,
      screenshot: await screenshot(page, 'status.png'),
    };
  } finally {
    opened.socket.destroy();
  }
}

async function pageScenario() {
  const page = await launch();
  const pending = [];
  page.on('requestfinished', r => pending.push(
    r.response().then(resp => ({ url: r.url(), method: r.method(), status: resp ? resp.status() : 0 }))));
  page.on('requestfailed', r => pending.push(
    Promise.resolve({ url: r.url(), method: r.method(), status: 0, failure: r.failure()?.errorText ?? 'failed' })));
  const response = await page.goto(target, { waitUntil: 'load' });
  if (!response) throw new Error(`no response for ${target}`);
  // Let late subresources (favicon, lazy images) settle, briefly.
  await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => {});
  return {
    status: response.status(),
    url: page.url(),
    title: await page.title(),
    bodyText: await page.evaluate(() => document.body ? document.body.innerText : ''),
    headers: await response.allHeaders(),
    requests: await Promise.all(pending),
    screenshot: await screenshot(page, 'page.png'),
  };
}

const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

// Runs in the page: what a reader would see as broken, measured from the boxes the browser laid out.
function measureLayout() {
  const visible = el => {
    const style = getComputedStyle(el);
    return style.display !== 'none' && style.visibility !== 'hidden' && el.getClientRects().length > 0;
  };
  const describe = el => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    if (typeof el.className === 'string' && el.className.trim()) name += '.' + el.className.trim().split(/\s+/).join('.');
    const parent = el.parentElement;
    return parent && parent !== document.body ? describe(parent) + ' > ' + name : name;
  };
  const box = r => ({ left: Math.round(r.left), top: Math.round(r.top), right: Math.round(r.right), bottom: Math.round(r.bottom) });
  const width = window.innerWidth;
  const outside = [], overflowing = [], overlaps = [];
  const elements = [...document.body.querySelectorAll('*')].filter(visible);
  for (const el of elements) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.left < -0.5 || r.right > width + 0.5) outside.push({ element: describe(el), ...box(r) });
    const style = getComputedStyle(el);
    // Content wider than its own box, not scrolled or clipped there: it spills over what is beside it.
    if (style.overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1 && style.display !== 'inline') {
      overflowing.push({ element: describe(el), scrollWidth: el.scrollWidth, clientWidth: el.clientWidth });
    }
  }
  const blockLike = new Set(['block', 'flex', 'grid', 'list-item', 'table', 'flow-root', 'inline-block', 'inline-flex',
    'inline-grid', 'table-row', 'table-cell', 'table-row-group', 'table-header-group']);
  for (const parent of [document.body, ...elements]) {
    const boxes = [...parent.children]
      .filter(child => visible(child))
      .filter(child => { const s = getComputedStyle(child); return blockLike.has(s.display) && s.position !== 'absolute' && s.position !== 'fixed'; })
      .map(child => ({ child, r: child.getBoundingClientRect() }));
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r, b = boxes[j].r;
        const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (x > 0.5 && y > 0.5) overlaps.push({ first: describe(boxes[i].child), second: describe(boxes[j].child), ...box(a) });
      }
    }
  }
  const links = new Set();
  for (const el of document.querySelectorAll('a[href], link[href], img[src], script[src]')) {
    const url = el.href || el.src;
    if (url && url.startsWith(location.origin)) links.add(url.split('#')[0]);
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    outside, overflowing, overlaps,
    links: [...links],
    sections: [...document.querySelectorAll('section.wire')].map(s => s.id),
    h1: document.querySelector('h1')?.textContent?.trim() ?? null,
    icon: document.querySelector('link[rel~=icon]')?.href ?? null,
    shownResponseHead: document.querySelector('#raw-response')?.textContent ?? null,
  };
}

// A layout path `submit:/form-page` loads /form-page, fills every text field of its form and submits it; the
// page measured is the one the submission lands on (e.g. the demo's thank-you page after its POST).
const SUBMIT = 'submit:';
// Long enough to wrap on a phone, with one unbroken run that only a wrapping box can hold.
const FORM_TEXT = 'Joe User would like the catalogue sent to ' + 'a-very-long-unbroken-address-line-'.repeat(4) + 'end, please & thanks';

async function submitForm(page) {
  const fields = await page.locator('form input[type=text], form input:not([type]), form textarea').all();
  if (fields.length === 0) throw new Error(`no text field to fill on ${page.url()}`);
  for (const field of fields) await field.fill(FORM_TEXT);
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click('form [type=submit]'),
  ]);
  if (!response) throw new Error(`submitting the form on ${page.url()} gave no response`);
  return response;
}

async function layout() {
  if (!outDir) throw new Error('layout needs an output directory for its screenshots');
  const paths = process.argv.slice(5);
  if (paths.length === 0) throw new Error('layout needs at least one path');
  const page = await launch();
  const pages = [];
  const statuses = new Map();
  for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    for (const pagePath of paths) {
      const submitted = pagePath.startsWith(SUBMIT);
      let response = await page.goto(base + (submitted ? pagePath.slice(SUBMIT.length) : pagePath), { waitUntil: 'load' });
      if (!response) throw new Error(`no response for ${base}${pagePath}`);
      if (submitted) response = await submitForm(page);
      const name = (pagePath.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'home') + '-' + viewportName;
      const measured = await page.evaluate(measureLayout);
      for (const url of measured.links) {
        if (statuses.has(url)) continue;
        const linked = await context.request.get(url, { maxRedirects: 0, timeout: STEP_TIMEOUT_MS });
        statuses.set(url, linked.status());
        await linked.dispose();
      }
      pages.push({
        path: pagePath,
        viewport: viewportName,
        method: response.request().method(),
        status: response.status(),
        finalPath: new URL(page.url()).pathname,
        headers: await response.allHeaders(),
        ...measured,
        screenshot: await screenshot(page, name + '.png'),
      });
    }
  }
  return { pages, links: Object.fromEntries(statuses) };
}

try {
  const result = await scenarios[scenario]();
  await cleanup();
  clearTimeout(timer);
  process.stdout.write(JSON.stringify({ scenario, ...result }) + '\n');
  process.exit(0);
} catch (err) {
  await cleanup();
  fail(`scenario '${scenario}' against ${target} failed: ${err && err.stack ? err.stack : err}`);
}
