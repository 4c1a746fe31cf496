// Browser test of the analyst dashboard: Debian's chromium, headless, driven by playwright-core.
// usage: node dashboard.mjs BASE_URL ANALYST_TOKEN COLLECTION_ID FROM TO SCREENSHOT.png [MULTI_JOB_ID]
// The server must hold reports in at least two time buckets; FROM..TO selects the first part.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const [base, token, coll, fromS, toS, shot, multiJob] = process.argv.slice(2);
const from = Number(fromS), to = Number(toS);

async function api(path) {
  const r = await fetch(base + path, { headers: { Authorization: 'Bearer ' + token } });
  assert.equal(r.status, 200, path + ' -> ' + r.status);
  return r.json();
}
const fmt = (x) => Math.round(x).toLocaleString('en-US');

// The rows the page shows, as text.
async function rows(page) {
  return page.$$eval('#hist tbody tr', (trs) => trs.map((tr) => ({
    label: tr.querySelector('.label').textContent,
    estimate: tr.querySelector('.estimate').textContent,
    interval: tr.querySelector('.interval').textContent,
    consistent: tr.querySelector('.consistent').textContent,
    topk: tr.querySelector('.topk').textContent,
  })));
}

function expectRows(shown, h) {
  assert.equal(shown.length, 20, 'the top 20 items are shown');
  h.items.forEach((it, i) => {
    assert.equal(shown[i].label, it.label, 'row ' + (i + 1) + ' label (order as the API)');
    assert.equal(shown[i].estimate, fmt(it.estimate), 'row ' + (i + 1) + ' estimate');
    assert.equal(shown[i].interval, '[' + fmt(it.lower) + ', ' + fmt(it.upper) + ']', 'row ' + (i + 1) + ' interval');
    assert.equal(shown[i].consistent, fmt(it.consistent), 'row ' + (i + 1) + ' consistent');
    assert.equal(shown[i].topk, it.topk_probability.toFixed(3), 'row ' + (i + 1) + ' top-k probability');
  });
}

async function waitLoaded(page, after) {
  await page.waitForFunction((t) => Number(document.body.dataset.loaded || 0) > t, after, { timeout: 30000 });
  const err = await page.evaluate(() => document.body.dataset.error || '');
  assert.equal(err, '', 'the page reported no error');
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(base)) external.push(r.url()); });
  await page.goto(base + '/ui/#token=' + encodeURIComponent(token));
  await waitLoaded(page, 0);

  // 1. all time: the top 20 in order with intervals, as the API returns them
  const all = await api('/v1/collections/' + coll + '/histogram?top=20&format=json&consistency=project&topk=20');
  expectRows(await rows(page), all);
  const n = await page.$eval('dd[data-param="reports (n)"]', (e) => e.textContent);
  assert.equal(n, all.n.toLocaleString('en-US'), 'the number of reports');
  const mech = await page.$eval('dd[data-param="Mechanism"]', (e) => e.textContent);
  assert.equal(mech, 'pgr');
  const bars = await page.$$eval('#timeline rect', (r) => r.length);
  const tl = await api('/v1/collections/' + coll + '/timeline');
  assert.equal(bars, tl.buckets.length, 'one bar per time bucket');
  assert.ok(tl.buckets.length >= 2, 'reports in several buckets');

  // 2. a time range typed into the form: the numbers change to the API's for that range
  const local = (u) => page.evaluate((x) => {
    const d = new Date(x * 1000), p = (v) => String(v).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  }, u);
  await page.fill('#from', await local(from));
  await page.fill('#to', await local(to));
  const before = await page.evaluate(() => Number(document.body.dataset.loaded));
  await page.click('#load');
  await waitLoaded(page, before);
  const part = await api('/v1/collections/' + coll + '/histogram?top=20&format=json&consistency=project&topk=20&from=' + from + '&to=' + to);
  assert.notEqual(part.n, all.n, 'the range holds fewer reports');
  const shown = await rows(page);
  expectRows(shown, part);
  assert.equal(await page.$eval('dd[data-param="reports (n)"]', (e) => e.textContent), part.n.toLocaleString('en-US'));
  // 3. a multi_attribute job: marginals with intervals, the joint table, both heatmaps as the API's
  if (multiJob) {
    let j;
    for (let i = 0; i < 300; i++) {
      j = await api('/v1/jobs/' + multiJob);
      if (j.status !== 'queued' && j.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(j.status, 'done', 'the multi_attribute job: ' + (j.error || j.status));
    await page.fill('#multi-job', String(multiJob));
    await page.click('#multi-load');
    await page.waitForFunction(() => Number(document.body.dataset.multiLoaded || 0) > 0, null, { timeout: 30000 });
    assert.equal(await page.$eval('#multi-status', (e) => e.textContent), '');
    const marg = await page.$$eval('#multi-marg tbody tr', (trs) => trs.map((tr) => [
      tr.querySelector('.value').textContent, tr.querySelector('.estimate').textContent, tr.querySelector('.interval').textContent]));
    const want = [];
    j.result.marginals.forEach((m, a) => m.estimate.forEach((e, v) => want.push([
      a === 1 ? ['no', 'yes'][v] : String(v), e.toFixed(4), '[' + m.lower[v].toFixed(4) + ', ' + m.upper[v].toFixed(4) + ']'])));
    assert.deepEqual(marg, want, 'marginals with labels and intervals as the API');
    const joint = await page.$$eval('#multi-joint td.cell', (tds) => tds.map((t) => t.textContent));
    assert.deepEqual(joint, j.result.joints[0].consistent.flat().map((x) => x.toFixed(4)), 'the first joint table');
    for (const [id, m] of [['#multi-corr', j.result.correlation.estimate], ['#multi-rep', j.result.repaired.matrix]]) {
      const v = await page.$$eval(id + ' rect', (rs) => rs.map((r) => Number(r.dataset.value)));
      assert.deepEqual(v, m.flat(), id + ': one cell per matrix entry, in order');
    }
    assert.match(await page.$eval('#multi-rep-cert', (e) => e.textContent), /certified/);
  }
  assert.deepEqual(external, [], 'no request leaves the server (no CDN)');
  await page.screenshot({ path: shot, fullPage: true });
  console.log('dashboard: top 20 of ' + all.n + ' reports and of ' + part.n + ' in the range match the API; screenshot ' + shot);
} catch (e) {
  failed = 1;
  console.error('dashboard: FAIL: ' + (e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log((failed ? 0 : 1) + ' passed, ' + failed + ' failed');
process.exit(failed);
