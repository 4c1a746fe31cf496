// Browser test of the analyst dashboard: Debian's chromium, headless, driven by playwright-core.
// usage: node dashboard.mjs BASE_URL ANALYST_TOKEN COLLECTION_ID FROM TO SCREENSHOT.png [MULTI_JOB_ID]
// The server must hold reports in at least two time buckets; FROM..TO selects the first part.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

const [base, token, coll, fromS, toS, shot, multiColl] = process.argv.slice(2);
const from = Number(fromS), to = Number(toS);

async function api(path) {
  const r = await fetch(base + path, { headers: { Authorization: 'Bearer ' + token } });
  assert.equal(r.status, 200, path + ' -> ' + r.status);
  return r.json();
}
const fmt = (x) => Math.round(x).toLocaleString('en-US');

// The rows the page shows, as text.
async function rows(page) {
  return page.$$eval('#hist tbody tr:not(.empty)', (trs) => trs.map((tr) => ({
    rank: tr.querySelector('.rank').textContent,
    label: tr.querySelector('.label').textContent,
    pvalue: tr.querySelector('.pvalue').textContent,
    estimate: tr.querySelector('.estimate').textContent,
    interval: tr.querySelector('.interval').textContent,
    consistent: tr.querySelector('.consistent').textContent,
    topk: tr.querySelector('.topk').textContent,
  })));
}

function expectRows(shown, h, count) {
  assert.equal(shown.length, count === undefined ? 20 : count, 'the items of the API answer are shown');
  assert.equal(h.items.length, shown.length);
  h.items.forEach((it, i) => {
    assert.equal(shown[i].rank, String(it.rank), 'row ' + (i + 1) + ' rank');
    assert.equal(shown[i].pvalue, typeof it.p_value === 'number' ? it.p_value.toExponential(2) : '—', 'row ' + (i + 1) + ' p-value');
    assert.equal(shown[i].label, it.label, 'row ' + (i + 1) + ' label (order as the API)');
    assert.equal(shown[i].estimate, fmt(it.estimate), 'row ' + (i + 1) + ' estimate');
    assert.equal(shown[i].interval, '[' + fmt(it.lower) + ', ' + fmt(it.upper) + ']', 'row ' + (i + 1) + ' interval');
    assert.equal(shown[i].consistent, fmt(it.consistent), 'row ' + (i + 1) + ' consistent');
    assert.equal(shown[i].topk, it.topk_probability.toFixed(3), 'row ' + (i + 1) + ' top-k probability');
  });
}

async function loadedAt(page) { return page.evaluate(() => Number(document.body.dataset.loaded || 0)); }

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
  const page = await browser.newPage({ viewport: { width: 1200, height: 1400 }, acceptDownloads: true });
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
  // the first day's bucket is closed (run.sh): all time sums the open second day, not final
  assert.equal(all.closed_before, to, 'closed before the second day');
  assert.equal(all.final, false);
  assert.equal(await page.$eval('dd[data-param="closed before"]', (e) => e.textContent), new Date(to * 1000).toISOString());
  assert.equal(await page.$eval('dd[data-param="final"]', (e) => e.textContent), 'no: the estimate may change');
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
  assert.equal(part.final, true, 'the first day alone is closed');
  assert.equal(await page.$eval('dd[data-param="final"]', (e) => e.textContent), 'yes: every time bucket summed is closed');
  const H = '/v1/collections/' + coll + '/histogram?format=json&consistency=project&topk=20';

  // 3. the plain explanation and the top-k column: numbers from the API's parameters
  const eps = part.parameters.epsilon_realized;
  const explain = await page.$eval('#explain', (e) => e.textContent);
  assert.ok(explain.includes('e^' + eps.toFixed(6) + ' ≈ ' + Math.exp(eps).toPrecision(4)), explain);
  assert.ok(explain.includes('95%'), 'the interval is explained');
  assert.equal(await page.$eval('#h-topk', (e) => e.textContent), 'P(in top 20)');
  const note = await page.$eval('#topk-note', (e) => e.textContent);
  assert.equal(part.topk_samples, 256);
  assert.ok(note.includes(part.topk_samples + ' samples') && note.includes('±' + part.topk_stderr_max.toFixed(3)), note);
  assert.ok(await page.$eval('#help', (e) => e.textContent.includes('Realized epsilon')));

  // 4. the significance filter: only the items that pass, and how many did
  let t0 = await loadedAt(page);
  await page.selectOption('#significant', 'fdr:0.05');
  await waitLoaded(page, t0);
  const sig = await api(H + '&top=20&significant=fdr:0.05&from=' + from + '&to=' + to);
  expectRows(await rows(page), sig, Math.min(20, sig.significance.passed));
  const summary = await page.$eval('#sig-summary', (e) => e.textContent);
  assert.ok(summary.startsWith(sig.significance.passed.toLocaleString('en-US') + ' of ' + sig.significance.tested.toLocaleString('en-US')), summary);
  assert.ok(summary.includes('false discovery rate 0.05'), summary);

  // 5. relative frequencies: each count as a share of the n reports
  t0 = await loadedAt(page);
  await page.check('#relative');
  await waitLoaded(page, t0);
  const relRows = await rows(page);
  sig.items.forEach((it, i) => {
    assert.equal(relRows[i].estimate, (100 * it.estimate / sig.n).toFixed(3) + '%', 'relative estimate row ' + (i + 1));
    assert.equal(relRows[i].interval, '[' + (100 * it.lower / sig.n).toFixed(3) + '%, ' + (100 * it.upper / sig.n).toFixed(3) + '%]');
  });

  // 6. the shareable link: every setting, never the token; opened elsewhere it shows the same view
  const share = await page.$eval('#share', (e) => e.value);
  assert.ok(!share.includes(token) && !/token/i.test(share), 'no token in ' + share);
  assert.ok(!page.url().includes(token), 'no token left in the address bar');
  const sp = new URLSearchParams(share.split('#')[1]);
  assert.equal(sp.get('c'), coll);
  assert.equal(sp.get('from'), String(from));
  assert.equal(sp.get('to'), String(to));
  assert.equal(sp.get('top'), '20');
  assert.equal(sp.get('sig'), 'fdr:0.05');
  assert.equal(sp.get('rel'), '1');
  const other = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
  await other.goto(share);
  await other.fill('#token', token);
  await other.dispatchEvent('#token', 'change');
  await waitLoaded(other, 0);
  assert.deepEqual(await rows(other), relRows, 'the shared link shows the same rows');
  assert.equal(await other.$eval('#significant', (e) => e.value), 'fdr:0.05');
  await other.close();

  // 7. export what is shown: CSV and JSON carry the API's numbers for the shown rows
  t0 = await loadedAt(page);
  await page.uncheck('#relative');
  await waitLoaded(page, t0);
  let [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const csv = (await readFile(await dl.path(), 'utf8')).trim().split('\n');
  assert.equal(csv[0], 'rank,item,label,estimate,stderr,lower,upper,final,consistent,topk_probability,p_value');
  assert.equal(csv.length - 1, sig.items.length, 'one CSV line per shown row');
  sig.items.forEach((it, i) => {
    const f = csv[i + 1].split(',');
    assert.equal(Number(f[1]), it.item);
    assert.equal(Number(f[3]), it.estimate, 'exact estimate in the CSV');
    assert.equal(f[7], sig.final ? '1' : '0');
    assert.equal(Number(f[10]), it.p_value);
  });
  [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const js = JSON.parse(await readFile(await dl.path(), 'utf8'));
  assert.deepEqual(js.items, sig.items, 'the JSON export holds the API items');
  assert.deepEqual(js.significance, sig.significance);

  // 8. search by label: the items whose label contains the text, with their ranks
  const labels = (await api('/v1/collections/' + coll + '?labels=true')).labels;
  const hits = [];
  labels.forEach((l, v) => { if (hits.length < 100 && l.toLowerCase().includes('ould')) hits.push(v); });
  assert.ok(hits.length > 1);
  t0 = await loadedAt(page);
  await page.fill('#search', 'ould');
  await page.press('#search', 'Enter');
  await waitLoaded(page, t0);
  const found = await api(H + '&items=' + hits.join(',') + '&from=' + from + '&to=' + to);
  expectRows(await rows(page), found, hits.length);

  // 9. one item over time: its estimate and interval in every bucket, as the API gives them
  await page.click('#hist tbody tr:first-child .label');
  await page.waitForFunction(() => Number(document.getElementById('item-view').dataset.loaded || 0) > 0, null, { timeout: 30000 });
  const v = found.items[0].item;
  const itemRows = await page.$$eval('#item-table tbody tr', (trs) => trs.map((tr) => ({
    estimate: tr.querySelector('.estimate').textContent, interval: tr.querySelector('.interval').textContent })));
  assert.equal(itemRows.length, tl.buckets.length, 'one row per bucket');
  for (let i = 0; i < tl.buckets.length; i++) {
    const b = tl.buckets[i];
    const hb = await api('/v1/collections/' + coll + '/histogram?format=json&items=' + v + '&from=' + b.start + '&to=' + (b.start + tl.time_precision));
    assert.equal(itemRows[i].estimate, fmt(hb.items[0].estimate), 'bucket ' + i + ' estimate');
    assert.equal(itemRows[i].interval, '[' + fmt(hb.items[0].lower) + ', ' + fmt(hb.items[0].upper) + ']');
  }

  // 10. jobs: submit one from the panel, see it listed and its result as the API holds it
  await page.fill('#search', '');
  await page.selectOption('#job-type', 'project');
  await page.click('#job-submit');
  await page.waitForFunction(() => ['done', 'failed'].includes(document.getElementById('job-result').dataset.status), null, { timeout: 60000 });
  const jobId = await page.$eval('#job-result', (e) => e.dataset.job);
  const job = await api('/v1/jobs/' + jobId);
  assert.equal(job.status, 'done', 'the job ran');
  const jobText = await page.$eval('#job-result', (e) => e.textContent);
  assert.ok(jobText.includes(JSON.stringify(job.result, null, 1)), 'the result shown is the API result');
  const listed = await api('/v1/collections/' + coll + '/jobs');
  assert.ok(listed.jobs.some((j) => String(j.id) === jobId), 'the API lists the job');
  await page.waitForFunction((id) => !!document.querySelector('#job-table tr[data-job="' + id + '"]'), jobId, { timeout: 10000 });

  // 10b. discovery collections: the open round as the API holds it
  const disc = (await api('/v1/discoveries')).discoveries;
  assert.equal(disc.length, 1, 'one discovery collection');
  const d0 = await page.evaluate(() => Number(document.getElementById('discoveries').dataset.loaded || 0));
  await page.click('#discovery-refresh');
  await page.waitForFunction((t) => Number(document.getElementById('discoveries').dataset.loaded || 0) > t, d0, { timeout: 10000 });
  assert.equal(await page.$eval('#discovery', (e) => e.value), String(disc[0].id));
  const dst = await page.$eval('#discovery-status', (e) => e.textContent);
  assert.ok(dst.includes('round 0 open (collection ' + disc[0].open_round_collection + '): 0 of ' +
    fmt(disc[0].open_round_wanted) + ' reports'), dst);
  assert.equal(await page.$$eval('#discovery-table tbody tr', (e) => e.length), 0, 'no results before the final round');

  // 11. a failed query never leaves the previous numbers on screen
  await page.fill('#from', await local(0));
  await page.fill('#to', await local(3600));
  const f0 = await page.evaluate(() => Number(document.body.dataset.failed || 0));
  await page.click('#load');
  await page.waitForFunction((t) => Number(document.body.dataset.failed || 0) > t, f0, { timeout: 30000 });
  assert.equal((await rows(page)).length, 0, 'no rows after a failed query');
  assert.equal(await page.$$eval('#hist td.estimate', (e) => e.length), 0);
  assert.equal(await page.$eval('#param-list', (e) => e.textContent), '', 'no parameters of the previous answer');
  assert.ok((await page.$eval('#status', (e) => e.textContent)).startsWith('403'), 'the error is shown');
  assert.ok((await page.$eval('#hist tbody', (e) => e.textContent)).includes('No estimates to show'));

  // last: a multi-attribute collection's analysis, run from the dashboard (the multi_attribute job
  // under it): marginals with intervals, the joint table, both heatmaps as the API's
  if (multiColl) {
    const parent = await api('/v1/collections/' + multiColl);
    assert.equal(parent.kind, 'multi_attribute');
    assert.deepEqual(parent.pairs.map((p) => p.collection), [multiColl - 3, multiColl - 2, multiColl - 1], 'the pairs, in pair order');
    await page.fill('#multi-coll', String(multiColl));
    await page.click('#multi-run');
    await page.waitForFunction(() => Number(document.body.dataset.multiLoaded || 0) > 0, null, { timeout: 30000 });
    assert.equal(await page.$eval('#multi-status', (e) => e.textContent), '');
    const listed = await api('/v1/collections/' + multiColl + '/jobs?limit=1');
    assert.equal(listed.total, 1, 'one analysis job under the collection');
    const j = await api('/v1/jobs/' + listed.jobs[0].id);
    assert.equal(j.status, 'done', 'the multi_attribute job: ' + (j.error || j.status));
    assert.equal(j.collection_id, Number(multiColl));
    assert.equal(await page.$eval('#multi-job', (e) => e.value), String(j.id), 'the job shown is the one run');
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
  console.log('dashboard: top 20 of ' + all.n + ' reports and of ' + part.n + ' in the range, ' + sig.significance.passed +
    ' significant items, ' + hits.length + ' label matches, ' + tl.buckets.length + ' buckets of one item and job #' + jobId + ' match the API; screenshot ' + shot);
} catch (e) {
  failed = 1;
  console.error('dashboard: FAIL: ' + (e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log((failed ? 0 : 1) + ' passed, ' + failed + ' failed');
process.exit(failed);
