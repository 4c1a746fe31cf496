// Pinhole dashboard: reads the same JSON API as every client, with the analyst token.
'use strict';

const $ = (id) => document.getElementById(id);
const fmt = (x) => (Math.round(x)).toLocaleString('en-US');
// a count, or with "relative frequencies" its share of the n reports in percent
const fmtRel = (x, n) => (100 * x / n).toFixed(3) + '%';
const state = { collections: [], labels: {}, shown: null, timeline: null };

function token() { return $('token').value.trim(); }

async function api(path, opts) {
  const o = opts || {};
  const headers = { 'Authorization': 'Bearer ' + token() };
  if (o.body) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method: o.method || 'GET', headers, body: o.body });
  const ct = r.headers.get('Content-Type') || '';
  const body = ct.includes('json') ? await r.json() : await r.text();
  if (!r.ok) {
    const msg = body && body.detail ? body.detail : (body && body.title) || r.statusText;
    const e = new Error(r.status + ': ' + msg);
    e.status = r.status;
    throw e;
  }
  return body;
}

function setStatus(text) { $('status').textContent = text || ''; }

function toLocalInput(unix) {
  const d = new Date(unix * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' +
    pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}
function fromLocalInput(s) { return s ? Math.floor(new Date(s).getTime() / 1000) : null; }

// ---- the view in the URL: collection, range, top, filters; never the token ----

function viewParams() {
  const p = new URLSearchParams();
  if ($('collection').value) p.set('c', $('collection').value);
  const from = fromLocalInput($('from').value), to = fromLocalInput($('to').value);
  if (from !== null) p.set('from', String(from));
  if (to !== null) p.set('to', String(to));
  p.set('top', String(topValue()));
  if ($('significant').value) p.set('sig', $('significant').value);
  if ($('search').value.trim()) p.set('q', $('search').value.trim());
  if ($('relative').checked) p.set('rel', '1');
  return p;
}

function updateShare() {
  const p = viewParams();
  history.replaceState(null, '', location.pathname + location.search + '#' + p.toString());
  $('share').value = location.origin + location.pathname + '#' + p.toString();
}

function applyView(p) {
  if (p.has('from')) $('from').value = toLocalInput(Number(p.get('from')));
  if (p.has('to')) $('to').value = toLocalInput(Number(p.get('to')));
  if (p.has('top')) $('top').value = p.get('top');
  if (p.has('sig')) $('significant').value = p.get('sig');
  if (p.has('q')) $('search').value = p.get('q');
  $('relative').checked = p.get('rel') === '1';
}

function topValue() { return Math.max(1, Math.min(200, parseInt($('top').value, 10) || 20)); }

// ---- collection list, labels ----

async function loadCollections(want) {
  const list = await api('/v1/collections');
  state.collections = list.collections || [];
  const sel = $('collection');
  sel.innerHTML = '';
  for (const c of state.collections) {
    const o = document.createElement('option');
    o.value = c.id;
    o.textContent = c.name + ' (#' + c.id + ')';
    sel.appendChild(o);
  }
  if (want && state.collections.some((c) => String(c.id) === String(want))) sel.value = String(want);
}

async function labelsOf(id) {
  if (!state.labels[id]) {
    const c = await api('/v1/collections/' + id + '?labels=true');
    state.labels[id] = c.labels || [];
  }
  return state.labels[id];
}

// ---- the collection card and the plain explanation ----

function showParams(h) {
  const p = h.parameters || {};
  const rows = [
    ['Mechanism', h.mechanism], ['epsilon', p.epsilon], ['realized epsilon', p.epsilon_realized && p.epsilon_realized.toFixed(6)],
    ['k (items)', p.k && p.k.toLocaleString('en-US')], ['bits per report', p.bits_per_report],
    ['q, t', p.q + ', ' + p.t], ['reports (n)', h.n.toLocaleString('en-US')],
    ['time unit (s)', p.time_precision],
    // closed time buckets take no more reports: an answer over closed buckets only is final
    ['closed before', h.closed_before ? new Date(h.closed_before * 1000).toISOString() : 'none'],
    ['final', h.final ? 'yes: every time bucket summed is closed' : 'no: the estimate may change'],
  ];
  const dl = $('param-list');
  dl.innerHTML = '';
  for (const [k, v] of rows) {
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = v === undefined ? '—' : String(v);
    dd.dataset.param = k;
    dl.append(dt, dd);
  }
  const eps = p.epsilon_realized;
  $('explain').textContent = 'Privacy: epsilon = ' + p.epsilon + ' (realized ' + eps.toFixed(6) +
    '): whatever a user\'s item, any one report is at most e^' + eps.toFixed(6) + ' ≈ ' +
    Math.exp(eps).toPrecision(4) + ' times more likely under it than under any other item. ' +
    'Each interval is the estimate ± 1.96 standard errors: over repeated collections, 95% of such ' +
    'intervals hold the true count (of ' + h.n.toLocaleString('en-US') + ' reports).';
}

function clearShown(message) {
  // a failed query must never leave the previous numbers on screen as if current
  state.shown = null;
  $('hist').querySelector('tbody').innerHTML = '';
  $('param-list').innerHTML = '';
  $('explain').textContent = '';
  $('sig-summary').textContent = message ? 'No data: ' + message : '';
  $('topk-note').textContent = '';
  $('timeline').innerHTML = '';
  $('item-view').hidden = true;
  const tr = document.createElement('tr');
  tr.className = 'empty';
  const td = document.createElement('td');
  td.colSpan = 8;
  td.textContent = message ? 'No estimates to show: ' + message : '';
  tr.appendChild(td);
  if (message) $('hist').querySelector('tbody').appendChild(tr);
}

// ---- the histogram table ----

function barSvg(it, max) {
  const x = (v) => Math.max(0, Math.min(100, 100 * v / max));
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 100 16');
  svg.setAttribute('preserveAspectRatio', 'none');
  const r = document.createElementNS(ns, 'rect');
  r.setAttribute('class', 'bar-est'); r.setAttribute('x', 0); r.setAttribute('y', 3);
  r.setAttribute('width', x(it.estimate)); r.setAttribute('height', 10);
  const l = document.createElementNS(ns, 'line');
  l.setAttribute('class', 'bar-ci'); l.setAttribute('x1', x(it.lower)); l.setAttribute('x2', x(it.upper));
  l.setAttribute('y1', 8); l.setAttribute('y2', 8); l.setAttribute('vector-effect', 'non-scaling-stroke');
  svg.append(r, l);
  if (typeof it.consistent === 'number') {
    const c = document.createElementNS(ns, 'circle');
    c.setAttribute('class', 'dot-cons'); c.setAttribute('cx', x(it.consistent)); c.setAttribute('cy', 8); c.setAttribute('r', 2.2);
    svg.append(c);
  }
  return svg;
}

function showHistogram(h, rel) {
  const tb = $('hist').querySelector('tbody');
  tb.innerHTML = '';
  const n = h.n;
  const num = (x) => rel ? fmtRel(x, n) : fmt(x);
  $('h-estimate').textContent = rel ? 'Estimate (% of reports)' : 'Estimate';
  $('h-consistent').textContent = rel ? 'Consistent (%)' : 'Consistent';
  $('h-topk').textContent = 'P(in top ' + h.topk + ')';
  $('topk-note').textContent = h.topk_samples
    ? 'P(in top ' + h.topk + '): the probability that the item is among the ' + h.topk +
      ' largest when the estimates are perturbed by their standard errors; a Monte Carlo estimate from ' +
      h.topk_samples + ' samples, standard error at most ±' + h.topk_stderr_max.toFixed(3) + '.'
    : '';
  const s = h.significance;
  $('sig-summary').textContent = s
    ? s.passed.toLocaleString('en-US') + ' of ' + s.tested.toLocaleString('en-US') + ' items passed ' +
      (s.method === 'fdr' ? 'the Benjamini-Hochberg test at false discovery rate ' : 'the Bonferroni test at family-wise error ') +
      s.alpha + ' (one-sided z-test of count = 0).'
    : '';
  const max = Math.max(1, ...h.items.map((it) => Math.max(it.upper, it.consistent || 0)));
  h.items.forEach((it) => {
    const tr = document.createElement('tr');
    tr.dataset.item = it.item;
    const cells = [String(it.rank), it.label !== undefined ? it.label : '#' + it.item, num(it.estimate),
      '[' + num(it.lower) + ', ' + num(it.upper) + ']',
      typeof it.consistent === 'number' ? num(it.consistent) : '—',
      typeof it.topk_probability === 'number' ? it.topk_probability.toFixed(3) : '—',
      typeof it.p_value === 'number' ? it.p_value.toExponential(2) : '—'];
    const names = ['rank', 'label', 'estimate', 'interval', 'consistent', 'topk', 'pvalue'];
    cells.forEach((text, j) => {
      const td = document.createElement('td'); td.textContent = text; td.className = names[j]; tr.appendChild(td);
    });
    tr.querySelector('.label').addEventListener('click', () => showItem(it.item, it.label));
    const td = document.createElement('td'); td.className = 'bar'; td.appendChild(barSvg(it, max)); tr.appendChild(td);
    tb.appendChild(tr);
  });
}

function showTimeline(t, from, to) {
  const svg = $('timeline');
  const ns = 'http://www.w3.org/2000/svg';
  svg.innerHTML = '';
  const b = t.buckets || [];
  if (!b.length) return;
  const W = svg.clientWidth || 800, H = 160, pad = 24;
  const max = Math.max(...b.map((x) => x.reports));
  const w = Math.max(2, (W - 2 * pad) / b.length - 2);
  b.forEach((x, i) => {
    const inRange = (from === null || x.start >= from) && (to === null || x.start < to);
    const r = document.createElementNS(ns, 'rect');
    const hh = (H - 2 * pad) * x.reports / max;
    r.setAttribute('class', 'tl-bar'); r.setAttribute('x', pad + i * (w + 2)); r.setAttribute('y', H - pad - hh);
    r.setAttribute('width', w); r.setAttribute('height', hh); r.setAttribute('opacity', inRange ? 1 : 0.35);
    const title = document.createElementNS(ns, 'title');
    title.textContent = new Date(x.start * 1000).toISOString() + ': ' + x.reports.toLocaleString('en-US') + ' reports';
    r.appendChild(title);
    svg.appendChild(r);
  });
  const lab = (text, x, anchor) => {
    const e = document.createElementNS(ns, 'text');
    e.setAttribute('class', 'tl-axis'); e.setAttribute('x', x); e.setAttribute('y', H - 6); e.setAttribute('text-anchor', anchor);
    e.textContent = text; svg.appendChild(e);
  };
  lab(new Date(b[0].start * 1000).toISOString().slice(0, 16).replace('T', ' '), pad, 'start');
  lab(new Date(b[b.length - 1].start * 1000).toISOString().slice(0, 16).replace('T', ' '), W - pad, 'end');
  const m = document.createElementNS(ns, 'text');
  m.setAttribute('class', 'tl-axis'); m.setAttribute('x', pad); m.setAttribute('y', 12);
  m.textContent = 'max ' + max.toLocaleString('en-US') + ' reports per bucket'; svg.appendChild(m);
}

// The query of the current view: the top items (optionally only the significant ones), or the items
// whose label contains the search text (at most 100).
async function histogramQuery(id, from, to) {
  const top = topValue();
  const q = new URLSearchParams({ format: 'json', consistency: 'project', topk: String(top) });
  if (from !== null) q.set('from', String(from));
  if (to !== null) q.set('to', String(to));
  const search = $('search').value.trim().toLowerCase();
  if (search) {
    const labels = await labelsOf(id);
    const hits = [];
    for (let v = 0; v < labels.length && hits.length < 100; v++)
      if (labels[v].toLowerCase().includes(search)) hits.push(v);
    if (!hits.length) throw new Error('no label contains "' + $('search').value.trim() + '"');
    q.set('items', hits.join(','));
  } else {
    q.set('top', String(top));
    if ($('significant').value) q.set('significant', $('significant').value);
  }
  return q;
}

async function show() {
  setStatus('');
  updateShare();
  const id = $('collection').value;
  if (!id) { setStatus('no collection'); return; }
  const from = fromLocalInput($('from').value), to = fromLocalInput($('to').value);
  const rel = $('relative').checked;
  try {
    const q = await histogramQuery(id, from, to);
    const [h, t] = await Promise.all([
      api('/v1/collections/' + id + '/histogram?' + q.toString()),
      api('/v1/collections/' + id + '/timeline'),
    ]);
    state.shown = { collection: Number(id), from, to, relative: rel, query: q.toString(), h };
    state.timeline = t;
    showParams(h);
    showHistogram(h, rel);
    showTimeline(t, from, to);
    delete document.body.dataset.error;
    document.body.dataset.loaded = String(Date.now());
  } catch (e) {
    clearShown(e.message);
    setStatus(e.message);
    document.body.dataset.error = e.message;
    document.body.dataset.failed = String(Date.now());
  }
  loadJobs();
}

// ---- one item over time ----

async function showItem(v, label) {
  const id = $('collection').value;
  const view = $('item-view');
  view.hidden = false;
  $('item-name').textContent = (label !== undefined ? label : '#' + v);
  const tb = $('item-table').querySelector('tbody');
  tb.innerHTML = '';
  const t = state.timeline || await api('/v1/collections/' + id + '/timeline');
  const prec = t.time_precision;
  const buckets = (t.buckets || []).slice(-60); // the latest 60 buckets
  const points = [];
  for (const b of buckets) {
    const tr = document.createElement('tr');
    const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = text; td.className = cls; tr.appendChild(td); };
    cell(new Date(b.start * 1000).toISOString().slice(0, 19).replace('T', ' '), 'start');
    cell(b.reports.toLocaleString('en-US'), 'reports');
    try {
      const h = await api('/v1/collections/' + id + '/histogram?format=json&items=' + v + '&from=' + b.start + '&to=' + (b.start + prec));
      const it = h.items[0];
      cell(fmt(it.estimate), 'estimate');
      cell('[' + fmt(it.lower) + ', ' + fmt(it.upper) + ']', 'interval');
      points.push({ start: b.start, it });
    } catch (e) {
      cell('—', 'estimate');
      cell(e.status === 403 ? 'too few reports in this bucket' : e.message, 'interval');
    }
    tb.appendChild(tr);
  }
  drawItemChart(points);
  view.dataset.item = String(v);
  view.dataset.loaded = String(Date.now());
}

function drawItemChart(points) {
  const svg = $('item-chart');
  const ns = 'http://www.w3.org/2000/svg';
  svg.innerHTML = '';
  if (!points.length) return;
  const W = svg.clientWidth || 800, H = 140, pad = 20;
  const hi = Math.max(1, ...points.map((p) => p.it.upper)), lo = Math.min(0, ...points.map((p) => p.it.lower));
  const y = (v) => H - pad - (H - 2 * pad) * (v - lo) / (hi - lo);
  const x = (i) => pad + (points.length === 1 ? (W - 2 * pad) / 2 : i * (W - 2 * pad) / (points.length - 1));
  points.forEach((p, i) => {
    const l = document.createElementNS(ns, 'line');
    l.setAttribute('class', 'bar-ci'); l.setAttribute('x1', x(i)); l.setAttribute('x2', x(i));
    l.setAttribute('y1', y(p.it.lower)); l.setAttribute('y2', y(p.it.upper));
    const c = document.createElementNS(ns, 'circle');
    c.setAttribute('class', 'dot-est'); c.setAttribute('cx', x(i)); c.setAttribute('cy', y(p.it.estimate)); c.setAttribute('r', 3);
    svg.append(l, c);
  });
}

// ---- export what is shown ----

function download(name, type, text) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

// the server's CSV columns (final: 1 or 0, the answer's, on every line)
const exportColumns = ['rank', 'item', 'label', 'estimate', 'stderr', 'lower', 'upper', 'final', 'consistent', 'topk_probability', 'p_value'];

function exportCsv() {
  if (!state.shown) { setStatus('nothing to export'); return; }
  const quote = (s) => '"' + String(s).replace(/"/g, '""') + '"';
  const lines = [exportColumns.join(',')];
  for (const it of state.shown.h.items)
    lines.push(exportColumns.map((c) => c === 'final' ? (state.shown.h.final ? '1' : '0')
      : it[c] === undefined ? '' : (c === 'label' ? quote(it[c]) : String(it[c]))).join(','));
  download('pinhole-' + state.shown.collection + '.csv', 'text/csv', lines.join('\n') + '\n');
}

function exportJson() {
  if (!state.shown) { setStatus('nothing to export'); return; }
  const h = state.shown.h;
  const out = {
    collection: state.shown.collection, name: h.name, from: h.from, to: h.to, n: h.n,
    parameters: h.parameters, query: state.shown.query, significance: h.significance || null,
    items: h.items,
  };
  download('pinhole-' + state.shown.collection + '.json', 'application/json', JSON.stringify(out, null, 1));
}

// ---- jobs ----

async function loadJobs() {
  const id = $('collection').value;
  const tb = $('job-table').querySelector('tbody');
  if (!id) return;
  try {
    const list = await api('/v1/collections/' + id + '/jobs?limit=20');
    tb.innerHTML = '';
    for (const j of list.jobs || []) {
      const tr = document.createElement('tr');
      tr.dataset.job = j.id;
      const cells = ['#' + j.id, j.type, j.status, Math.round(100 * (j.progress || 0)) + '%',
        j.created ? new Date(j.created * 1000).toISOString().slice(0, 19).replace('T', ' ') : '—'];
      ['id', 'type', 'status', 'progress', 'created'].forEach((name, i) => {
        const td = document.createElement('td'); td.className = name; td.textContent = cells[i]; tr.appendChild(td);
      });
      tr.addEventListener('click', () => showJob(j.id));
      tb.appendChild(tr);
    }
    $('jobs').dataset.loaded = String(Date.now());
  } catch (e) {
    tb.innerHTML = '';
    const tr = document.createElement('tr');
    tr.className = 'empty';
    const td = document.createElement('td');
    td.colSpan = 5;
    td.textContent = 'jobs: ' + e.message;
    tr.appendChild(td);
    tb.appendChild(tr);
  }
}

async function showJob(jobId) {
  const j = await api('/v1/jobs/' + jobId);
  const pre = $('job-result');
  pre.dataset.job = String(j.id);
  pre.dataset.status = j.status;
  pre.textContent = 'job #' + j.id + ' (' + j.type + '): ' + j.status +
    (j.error ? '\n' + j.error : '') + (j.result ? '\n' + JSON.stringify(j.result, null, 1) : '');
  return j;
}

async function submitJob() {
  const id = $('collection').value;
  const from = fromLocalInput($('from').value), to = fromLocalInput($('to').value);
  const body = { type: $('job-type').value, params: { top: topValue() } };
  if (from !== null) body.from = from;
  if (to !== null) body.to = to;
  try {
    const j = await api('/v1/collections/' + id + '/jobs', { method: 'POST', body: JSON.stringify(body) });
    let cur = j;
    for (let i = 0; i < 600 && (cur.status === 'queued' || cur.status === 'running'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      cur = await showJob(j.id);
    }
    await showJob(j.id);
    await loadJobs();
  } catch (e) {
    $('job-result').textContent = 'submit: ' + e.message;
  }
}

// ---- discovery collections ----

// The rounds of the selected discovery collection and, once its final round closed, the strings it
// discovered, as GET /v1/discoveries/{id} gives them.
async function loadDiscoveries() {
  const sel = $('discovery'), tb = $('discovery-table').querySelector('tbody'), st = $('discovery-status');
  try {
    const list = (await api('/v1/discoveries')).discoveries || [];
    const keep = sel.value;
    sel.innerHTML = '';
    for (const d of list) {
      const o = document.createElement('option');
      o.value = String(d.id);
      o.textContent = '#' + d.id + ' ' + d.name;
      sel.appendChild(o);
    }
    if (keep && list.some((d) => String(d.id) === keep)) sel.value = keep;
    tb.innerHTML = '';
    const d = list.find((x) => String(x.id) === sel.value);
    if (!d) {
      st.textContent = 'No discovery collection.';
    } else {
      const closed = (d.log || []).length;
      st.textContent = 'ε = ' + d.epsilon + ', ' + fmt(d.devices) + ' devices planned, ' + closed + ' round' +
        (closed === 1 ? '' : 's') + ' closed; ' + (d.done
        ? 'done: ' + d.results.length + ' strings discovered.'
        : 'round ' + d.open_round + ' open (collection ' + d.open_round_collection + '): ' +
          fmt(d.open_round_reports) + ' of ' + fmt(d.open_round_wanted) + ' reports.');
      (d.results || []).forEach((r, i) => {
        const tr = document.createElement('tr');
        const cells = [String(i + 1), r.string, fmt(r.estimate), fmt(r.stderr),
          '[' + fmt(r.low) + ', ' + fmt(r.high) + ']', r.significant ? 'yes' : 'no'];
        ['rank', 'label', 'estimate', 'stderr', 'interval', 'significant'].forEach((name, j) => {
          const td = document.createElement('td'); td.className = name; td.textContent = cells[j]; tr.appendChild(td);
        });
        tb.appendChild(tr);
      });
    }
    $('discoveries').dataset.loaded = String(Date.now());
  } catch (e) {
    tb.innerHTML = '';
    st.textContent = 'discovery collections: ' + e.message;
  }
}

// ---- start ----

async function init() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const saved = sessionStorage.getItem('pinhole-token');
  if (saved) $('token').value = saved;
  if (hash.get('token')) { // accepted once, kept for the session, never left in the address
    $('token').value = hash.get('token');
    sessionStorage.setItem('pinhole-token', token());
    hash.delete('token');
    history.replaceState(null, '', location.pathname + location.search + '#' + hash.toString());
  }
  applyView(hash);
  $('token').addEventListener('change', () => { sessionStorage.setItem('pinhole-token', token()); start(); });
  $('load').addEventListener('click', show);
  $('collection').addEventListener('change', show);
  $('significant').addEventListener('change', show);
  $('relative').addEventListener('change', show);
  $('search').addEventListener('keydown', (e) => { if (e.key === 'Enter') show(); });
  $('export-csv').addEventListener('click', exportCsv);
  $('export-json').addEventListener('click', exportJson);
  $('job-submit').addEventListener('click', submitJob);
  $('job-refresh').addEventListener('click', loadJobs);
  $('discovery').addEventListener('change', loadDiscoveries);
  $('discovery-refresh').addEventListener('click', loadDiscoveries);
  await start(hash.get('c'));
}

async function start(want) {
  if (!token()) { setStatus('enter the analyst token'); return; }
  try {
    await loadCollections(want);
    await show();
    await loadDiscoveries();
  } catch (e) {
    setStatus(e.message);
  }
}

window.pinholeShowRange = (fromUnix, toUnix) => {
  $('from').value = fromUnix === null ? '' : toLocalInput(fromUnix);
  $('to').value = toUnix === null ? '' : toLocalInput(toUnix);
  return show();
};

init();
