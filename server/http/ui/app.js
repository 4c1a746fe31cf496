// Pinhole dashboard: reads the same JSON API as every client, with the analyst token.
'use strict';

const $ = (id) => document.getElementById(id);
const fmt = (x) => (Math.round(x)).toLocaleString('en-US');
const state = { collections: [] };

function token() { return $('token').value.trim(); }

async function api(path) {
  const r = await fetch(path, { headers: { 'Authorization': 'Bearer ' + token() } });
  const ct = r.headers.get('Content-Type') || '';
  const body = ct.includes('json') ? await r.json() : await r.text();
  if (!r.ok) {
    const msg = body && body.detail ? body.detail : (body && body.title) || r.statusText;
    throw new Error(r.status + ': ' + msg);
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

async function loadCollections() {
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
}

function showParams(h) {
  const p = h.parameters || {};
  const rows = [
    ['Mechanism', h.mechanism], ['epsilon', p.epsilon], ['realized epsilon', p.epsilon_realized && p.epsilon_realized.toFixed(6)],
    ['k (items)', p.k && p.k.toLocaleString('en-US')], ['bits per report', p.bits_per_report],
    ['q, t', p.q + ', ' + p.t], ['reports (n)', h.n.toLocaleString('en-US')],
    ['time unit (s)', p.time_precision],
  ];
  const dl = $('param-list');
  dl.innerHTML = '';
  for (const [k, v] of rows) {
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = v === undefined ? '—' : String(v);
    dd.dataset.param = k;
    dl.append(dt, dd);
  }
}

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

function showHistogram(h) {
  const tb = $('hist').querySelector('tbody');
  tb.innerHTML = '';
  const max = Math.max(1, ...h.items.map((it) => Math.max(it.upper, it.consistent || 0)));
  h.items.forEach((it, i) => {
    const tr = document.createElement('tr');
    tr.dataset.item = it.item;
    const cells = [String(i + 1), it.label !== undefined ? it.label : '#' + it.item, fmt(it.estimate),
      '[' + fmt(it.lower) + ', ' + fmt(it.upper) + ']',
      typeof it.consistent === 'number' ? fmt(it.consistent) : '—',
      typeof it.topk_probability === 'number' ? it.topk_probability.toFixed(3) : '—'];
    const names = ['rank', 'label', 'estimate', 'interval', 'consistent', 'topk'];
    cells.forEach((text, j) => {
      const td = document.createElement('td'); td.textContent = text; td.className = names[j]; tr.appendChild(td);
    });
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

async function show() {
  setStatus('');
  const id = $('collection').value;
  if (!id) { setStatus('no collection'); return; }
  const top = Math.max(1, Math.min(200, parseInt($('top').value, 10) || 20));
  const from = fromLocalInput($('from').value), to = fromLocalInput($('to').value);
  const q = new URLSearchParams({ top: String(top), format: 'json', consistency: 'project', topk: String(top) });
  if (from !== null) q.set('from', String(from));
  if (to !== null) q.set('to', String(to));
  try {
    const [h, t] = await Promise.all([
      api('/v1/collections/' + id + '/histogram?' + q.toString()),
      api('/v1/collections/' + id + '/timeline'),
    ]);
    showParams(h);
    showHistogram(h);
    showTimeline(t, from, to);
    document.body.dataset.loaded = String(Date.now());
  } catch (e) {
    setStatus(e.message);
    document.body.dataset.error = e.message;
  }
}

async function init() {
  const saved = sessionStorage.getItem('pinhole-token');
  if (saved) $('token').value = saved;
  const hashTok = new URLSearchParams(location.hash.slice(1)).get('token');
  if (hashTok) $('token').value = hashTok;
  $('token').addEventListener('change', () => { sessionStorage.setItem('pinhole-token', token()); start(); });
  $('load').addEventListener('click', show);
  $('collection').addEventListener('change', show);
  await start();
}

async function start() {
  if (!token()) { setStatus('enter the analyst token'); return; }
  try {
    await loadCollections();
    await show();
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
