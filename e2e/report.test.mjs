// The HTML report as a reader meets it: a real state built by the smsform binary against its
// sandbox, `report -html` in every view, each page opened in Chromium at phone to desktop
// widths. It fails when the page overflows sideways, when a value is clipped or hidden, or
// when two views write the same page.
//
// Run by `make test` when /usr/bin/chromium exists:
//   SMSFORM=bin/smsform node e2e/report.test.mjs
// SCREENSHOTS=DIR also saves there every page and a full-page PNG of it at every width.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const bin = resolve(process.env.SMSFORM || 'bin/smsform');
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
// Phones, a tablet, laptops, desktops: 1024 and 1040 sit either side of the table's switch to
// cards.
const widths = [360, 420, 768, 1024, 1040, 1280, 1920];
const views = ['', 'day', 'country', 'type', 'variant'];
const work = mkdtempSync(join(tmpdir(), 'smsform-e2e-'));
const failures = [];
const fail = (msg) => { failures.push(msg); console.error('FAIL ' + msg); };

// A 64-character campaign id, the longest the spec allows: it must wrap or truncate, never
// push the page sideways.
const longID = 'spring-sale-2026-switzerland-germany-austria-newsletter-optins-x';

function numbers(prefix, count, width) {
  return Array.from({ length: count }, (_, i) => prefix + String(i + 1).padStart(width, '0'));
}

function campaignFiles() {
  const c = join(work, 'campaigns');
  mkdirSync(c);
  // 40 recipients in three countries, 3 convert: 7.5%.
  const sale = [...numbers('+4179100', 20, 4), ...numbers('+49151200', 10, 5), ...numbers('+43664100', 10, 4)];
  writeFileSync(join(c, 'sale.yaml'), `id: ${longID}\nfrom: InfoSMS\ntext: "Spring sale: 20% off until Sunday."\n` +
    `tracking: {track: SMS, type: Promo}\ndestinations_file: sale.csv\n`);
  writeFileSync(join(c, 'sale.csv'), 'to\n' + sale.join('\n') + '\n');
  // 34 recipients, 3 convert: 8.8%, close to the sale's rate on purpose.
  const otp = numbers('+4179200', 34, 4);
  writeFileSync(join(c, 'otp.yaml'), 'id: otp-welcome\nfrom: InfoSMS\ntext: "Your PIN is {{.pin}}."\n' +
    'tracking: {track: SMS, type: One_Time_Pin}\ndestinations_file: otp.csv\n');
  writeFileSync(join(c, 'otp.csv'), 'to,pin\n' + otp.map((n, i) => `${n},${1000 + i}`).join('\n') + '\n');
  // No tracking: it must still appear, with a note. Toronto and New York share +1.
  writeFileSync(join(c, 'news.yaml'), 'id: newsletter-december\nfrom: InfoSMS\ntext: "News"\ndestinations:\n' +
    '  - to: "+1 416 555 0199"\n  - to: "+1 212 736 5000"\n  - to: "+44 7911 123456"\n');
  const events = ['campaign,phone,event',
    ...sale.slice(0, 3).map((n) => `${longID},${n},purchase`),
    ...otp.slice(0, 3).map((n) => `otp-welcome,${n},pin_entered`)];
  writeFileSync(join(work, 'events.csv'), events.join('\n') + '\n');
  // An experiment: two variants, everyone in the test; one conversion in each (picked from
  // the plan, which says each number's variant), so its rates stay under the others'.
  const ab = numbers('+4179400', 40, 4);
  writeFileSync(join(c, 'ab.yaml'), 'id: ab-test\nfrom: InfoSMS\ntracking: {track: SMS, type: Promo}\ndestinations_file: ab.csv\n' +
    'variants:\n  - {name: short, text: "Sale: 20% off."}\n  - {name: personal-with-a-rather-long-name, text: "Hi {{.name}}, 20% off for you."}\n');
  writeFileSync(join(c, 'ab.csv'), 'to,name\n' + ab.map((n, i) => `${n},N${i}`).join('\n') + '\n');
  // Sent after the refresh: its messages stay pending.
  const later = join(work, 'later');
  mkdirSync(later);
  writeFileSync(join(later, 'reminder.yaml'), 'id: reminder\nfrom: InfoSMS\ntext: "Reminder"\n' +
    'tracking: {track: SMS, type: Promo}\ndestinations:\n  - to: "+41 79 300 00 01"\n  - to: "+41 79 300 00 02"\n');
  return { c, later };
}

async function startSandbox() {
  const sb = spawn(bin, ['sandbox', '-listen', '127.0.0.1:0', '-delivery-delay', '1ms'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise((ok, ko) => {
    sb.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http\S+)/);
      if (m) ok(m[1]);
    });
    sb.on('exit', (code) => ko(new Error(`sandbox exited ${code}: ${out}`)));
  });
  return { sb, url };
}

function smsform(env, ...args) {
  return execFileSync(bin, args, { env: { ...process.env, ...env }, cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function buildReports() {
  const { c, later } = campaignFiles();
  const { sb, url } = await startSandbox();
  try {
    const env = { INFOBIP_BASE_URL: url, INFOBIP_API_KEY: 'e2e-key', SMSFORM_STATE: join(work, 'smsform.db') };
    try { smsform(env, 'init'); } catch { /* a binary without init creates the state on apply */ }
    smsform(env, 'apply', '-auto-approve', c);
    // The sandbox delivers after 1 ms; refresh until every message is final.
    for (let i = 0; i < 50; i++) {
      const out = smsform(env, 'refresh', '-json');
      const d = JSON.parse(out).delivery;
      if (d.checked === d.updated) break;
    }
    const plan = JSON.parse(smsform(env, 'plan', '-json', c));
    const firstOf = {};
    for (const m of plan.campaigns.find((x) => x.id === 'ab-test').messages) firstOf[m.variant] ??= m.to;
    writeFileSync(join(work, 'events.csv'), readFileSync(join(work, 'events.csv'), 'utf8') +
      Object.values(firstOf).map((n) => `ab-test,${n},purchase`).join('\n') + '\n');
    smsform(env, 'convert', join(work, 'events.csv'));
    smsform(env, 'apply', '-auto-approve', c, later);
    const files = {};
    for (const by of views) {
      const file = join(work, `report-${by || 'campaign'}.html`);
      smsform(env, 'report', ...(by ? ['-by', by] : []), '-html', file);
      files[by] = file;
    }
    return files;
  } finally {
    sb.kill('SIGTERM');
  }
}

// inPage runs in the browser: every problem a reader would see.
function inPage() {
  const problems = [];
  const vw = window.innerWidth;
  const scroller = document.scrollingElement;
  if (scroller.scrollWidth > vw) problems.push(`page is ${scroller.scrollWidth}px wide in a ${vw}px window`);
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const headsShown = getComputedStyle(document.querySelector('#figures thead')).position !== 'absolute'; // cards hide the head
  const cells = document.querySelectorAll('td, .card .n, .bar-row .label, .bar-row .value, .bar-row .note, .ticks span, #view, h1, h2' + (headsShown ? ', th' : ''));
  for (const el of cells) {
    const text = el.textContent.trim();
    if (el.matches('td') && text === '') continue;
    if (el.matches('.ticks span') && !shown(el)) continue; // every other tick label hides on phones; its gridline stays
    const name = `${el.tagName.toLowerCase()}.${el.className || ''} "${text.slice(0, 40)}"`;
    if (!shown(el)) { problems.push(`${name} is hidden`); continue; }
    const r = el.getBoundingClientRect();
    if (r.left < -0.5 || r.right > vw + 0.5) problems.push(`${name} lies outside the window (${Math.round(r.left)}..${Math.round(r.right)} of ${vw})`);
    if (el.scrollWidth > el.clientWidth + 1 && !(el.title && el.title.includes(text))) {
      problems.push(`${name} is clipped (${el.scrollWidth}px of text in ${el.clientWidth}px) and has no title with its text`);
    }
  }
  // A variant's interval (whiskers) lies within its track, is drawn, and has both caps.
  for (const ci of document.querySelectorAll('.ci')) {
    const r = ci.getBoundingClientRect(), t = ci.parentElement.getBoundingClientRect();
    const label = ci.closest('.bar-row').querySelector('.label').textContent;
    if (r.left < t.left - 0.5 || r.right > t.right + 0.5) problems.push(`the interval of ${label} leaves its track (${Math.round(r.left)}..${Math.round(r.right)} of ${Math.round(t.left)}..${Math.round(t.right)})`);
    if (r.width < 1 || !shown(ci)) problems.push(`the interval of ${label} is not drawn`);
    if ([...ci.querySelectorAll('.cap')].filter((c) => shown(c) && c.getBoundingClientRect().height >= 10).length !== 2) problems.push(`the interval of ${label} lacks its caps`);
  }
  // Tick labels must not overlap each other.
  for (const axis of document.querySelectorAll('.ticks')) {
    const ticks = [...axis.querySelectorAll('span')].filter(shown).map((e) => e.getBoundingClientRect());
    for (let i = 1; i < ticks.length; i++) {
      if (ticks[i].left < ticks[i - 1].right) problems.push(`tick labels ${i - 1} and ${i} of ${axis.closest('.chart').id} overlap`);
    }
  }
  // Every campaign is accounted for in the per-campaign chart.
  const rows = [...document.querySelectorAll('tr.campaign')].map((tr) => tr.dataset.id);
  const bars = [...document.querySelectorAll('#chart-campaigns .bar-row:not(.axis) .label')].map((e) => e.title);
  for (const id of rows) if (!bars.some((t) => t.startsWith(id + ' '))) problems.push(`campaign ${id} missing from the chart`);
  return {
    problems,
    view: document.querySelector('#view').textContent,
    heads: document.querySelector('#figures th').textContent,
    groups: [...document.querySelectorAll('#chart-groups .label')].map((e) => e.textContent),
    notes: [...document.querySelectorAll('#chart-campaigns .note')].map((e) => e.closest('.bar-row').querySelector('.label').textContent + ': ' + e.textContent),
    values: [...document.querySelectorAll('#chart-campaigns .value strong')].map((e) => e.textContent),
    pending: document.querySelector('#total-pending').textContent,
    whiskers: [...document.querySelectorAll('.experiment .bar-row.variant')].map((row) => {
      const ci = row.querySelector('.ci'), t = row.querySelector('.track');
      if (!ci) return null;
      const r = ci.getBoundingClientRect(), tr = t.getBoundingClientRect();
      return { name: row.querySelector('.label').textContent, low: (r.left - tr.left) / tr.width, high: (r.right - tr.left) / tr.width };
    }),
    // Each drawn bar's length as a share of its track.
    bars: Object.fromEntries([...document.querySelectorAll('#chart-campaigns .fill')].map((f) => [
      f.closest('.bar-row').querySelector('.label').textContent,
      f.getBoundingClientRect().width / f.parentElement.getBoundingClientRect().width])),
  };
}

async function main() {
  const files = await buildReports();
  const userDataDir = mkdtempSync(join(tmpdir(), 'smsform-chromium-'));
  // A fresh profile each run (Playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: browserPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const shots = process.env.SCREENSHOTS;
  if (shots) mkdirSync(shots, { recursive: true });
  const seen = {};
  try {
    for (const by of views) {
      const html = readFileSync(files[by], 'utf8');
      if (shots) copyFileSync(files[by], join(shots, `report-${by || 'campaign'}.html`));
      if (/\b(src|href)=|@import|url\(/i.test(html)) fail(`view "${by}": the page loads something from elsewhere`);
      for (const width of widths) {
        const page = await browser.newPage();
        await page.setViewportSize({ width, height: 900 });
        // Nothing may be fetched: the page is self-contained.
        await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
        page.on('requestfailed', (req) => fail(`view "${by}" at ${width}px fetched ${req.url()}`));
        await page.goto('file://' + files[by]);
        const got = await page.evaluate(inPage);
        for (const p of got.problems) fail(`view "${by || 'campaign'}" at ${width}px: ${p}`);
        // On a 0-10% scale, 8.8% and 7.5% are bars of 88% and 75% of the track: plainly apart.
        const otp = got.bars['otp-welcome'], sale = got.bars[longID];
        if (by === 'variant') {
          // Only the experiment is in this view: its two variants, each with whiskers that
          // start at or below the bar's end and end above it.
          if (got.whiskers.length !== 2 || got.whiskers.some((w) => !w || !(w.high > w.low))) fail(`view "variant" at ${width}px: whiskers ${JSON.stringify(got.whiskers)}`);
        } else if (!(Math.abs(otp - 0.88) < 0.02 && Math.abs(sale - 0.75) < 0.02)) {
          fail(`view "${by}" at ${width}px: bars of 8.8% and 7.5% are ${otp} and ${sale} of the track, want 0.88 and 0.75`);
        }
        if (shots) await page.screenshot({ path: join(shots, `report-${by || 'campaign'}-${width}.png`), fullPage: true });
        seen[by] = got;
        await page.close();
      }
    }
  } finally {
    await browser.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }

  // Each view is its own page, and says which it is.
  const want = { '': 'View: per campaign', day: 'View: by day sent', country: 'View: by country', type: 'View: by tracking type', variant: 'View: by variant' };
  for (const by of views) {
    if (seen[by].view.trim() !== want[by]) fail(`view "${by}" says "${seen[by].view}", want "${want[by]}"`);
  }
  for (let i = 0; i < views.length; i++) {
    for (let j = i + 1; j < views.length; j++) {
      if (readFileSync(files[views[i]], 'utf8') === readFileSync(files[views[j]], 'utf8')) fail(`views "${views[i]}" and "${views[j]}" are the same page`);
    }
  }
  const expect = (cond, msg) => { if (!cond) fail(msg); };
  expect(JSON.stringify(seen.country.groups) === JSON.stringify(['AT', 'CA', 'CH', 'DE', 'GB', 'US']), `country groups ${seen.country.groups}`);
  expect(JSON.stringify(seen.type.groups) === JSON.stringify(['(no tracking)', 'One_Time_Pin', 'Promo']), `type groups ${seen.type.groups}`);
  expect(seen[''].notes.includes('newsletter-december: no conversion tracking'), `notes ${seen[''].notes}`);
  // The 7.5% and 8.8% campaigns and the 0% reminder are each labelled.
  expect(JSON.stringify(seen[''].values) === JSON.stringify(['5.0%', '8.8%', '0%', '7.5%']), `rates ${seen[''].values}`);
  expect(seen[''].pending === '2', `pending ${seen[''].pending}, want the reminder's 2`);

  if (failures.length) {
    console.error(`\nbrowser test of the HTML report: ${failures.length} problem(s); pages kept in ${work}`);
    process.exit(1);
  }
  rmSync(work, { recursive: true, force: true });
  console.log(`ok  browser test of the HTML report: ${views.length} views at ${widths.join(', ')} px`);
}

main().catch((err) => { console.error(err); console.error(`pages kept in ${work}`); process.exit(1); });
