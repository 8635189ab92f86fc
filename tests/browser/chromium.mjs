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
//   page    <url>     [outDir]  load url; report status, title, headers and every request made
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';
const OVERALL_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 20_000;
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

function fail(message, code = 1) {
  process.stderr.write(`chromium.mjs: ${message}\n`);
  process.exit(code);
}

const [scenario, target, outDir] = process.argv.slice(2);
const scenarios = { french, contact, page: pageScenario };
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
    title: await page.title(),
    headers: await response.allHeaders(),
    requests: await Promise.all(pending),
    screenshot: await screenshot(page, 'page.png'),
  };
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
