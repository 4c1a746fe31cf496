// Dashboard section for multi-attribute collections: a collection's analysis (the multi_attribute
// job run under it, docs/multi-attribute.md) or any multi_attribute job's result — marginals and pairwise joints as tables with 95% intervals, and the
// correlation matrix before and after repair as heatmaps whose cells carry their intervals.
'use strict';
(function () {
  const el = (id) => document.getElementById(id);
  const f3 = (x) => (x === undefined || x === null ? '—' : Number(x).toFixed(3));
  const f4 = (x) => Number(x).toFixed(4);

  async function call(path, init) {
    const tok = el('token').value.trim();
    const r = await fetch(path, Object.assign({ headers: { 'Authorization': 'Bearer ' + tok, 'Content-Type': 'application/json' } }, init || {}));
    const body = await r.json();
    if (!r.ok) throw new Error(r.status + ': ' + (body.detail || body.title || r.statusText));
    return body;
  }

  // Post the collection's multi_attribute job and wait (up to 10 minutes) until it ends; its id.
  async function analyse(coll) {
    const j = await call('/v1/collections/' + encodeURIComponent(coll) + '/jobs',
      { method: 'POST', body: JSON.stringify({ type: 'multi_attribute' }) });
    el('multi-status').textContent = 'job ' + j.id + ' running…';
    for (let i = 0; i < 6000; i++) {
      const s = await call('/v1/jobs/' + j.id);
      if (s.status !== 'queued' && s.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    el('multi-job').value = String(j.id);
    return j.id;
  }

  async function job(id) {
    const body = await call('/v1/jobs/' + encodeURIComponent(id));
    if (body.type !== 'multi_attribute') throw new Error('job ' + id + ' is a ' + body.type + ' job, not multi_attribute');
    if (body.status !== 'done') throw new Error('job ' + id + ' is ' + body.status + (body.error ? ': ' + body.error : ''));
    return body;
  }

  function attrName(res, params, j) {
    const a = (params.attributes || [])[j] || {};
    return a.name || ('attribute ' + j);
  }
  function valueLabel(params, j, v) {
    const a = (params.attributes || [])[j] || {};
    return a.labels && a.labels[v] !== undefined ? a.labels[v] : String(v);
  }

  function td(text, cls) {
    const c = document.createElement('td');
    c.textContent = text;
    if (cls) c.className = cls;
    return c;
  }

  function showMarginals(res, params) {
    const body = el('multi-marg').querySelector('tbody');
    body.innerHTML = '';
    res.marginals.forEach((m, j) => {
      m.estimate.forEach((e, v) => {
        const tr = document.createElement('tr');
        tr.append(td(v === 0 ? attrName(res, params, j) : '', 'attr'), td(valueLabel(params, j, v), 'value'),
          td(f4(e), 'estimate'), td('[' + f4(m.lower[v]) + ', ' + f4(m.upper[v]) + ']', 'interval'));
        body.appendChild(tr);
      });
    });
  }

  function showJoint(res, params) {
    const jt = res.joints[Number(el('multi-pair').value) || 0];
    const table = el('multi-joint');
    table.innerHTML = '';
    const [j, l] = jt.attributes;
    const head = document.createElement('tr');
    head.append(td(attrName(res, params, j) + ' \\ ' + attrName(res, params, l)));
    for (let b = 0; b < jt.cols; b++) head.append(td(valueLabel(params, l, b)));
    table.appendChild(head);
    for (let a = 0; a < jt.rows; a++) {
      const tr = document.createElement('tr');
      tr.append(td(valueLabel(params, j, a)));
      for (let b = 0; b < jt.cols; b++) {
        const i = a * jt.cols + b;
        const c = td(f4(jt.consistent[a][b]), 'cell');
        c.title = 'raw ' + f4(jt.raw.estimate[i]) + ', 95% interval [' + f4(jt.raw.lower[i]) + ', ' + f4(jt.raw.upper[i]) + ']';
        tr.appendChild(c);
      }
      table.appendChild(tr);
    }
    el('multi-joint-n').textContent = jt.reports.toLocaleString('en-US') + ' reports (collection #' + jt.collection + ')';
  }

  // -1 blue, 0 white, +1 red
  function color(r) {
    const a = Math.min(1, Math.abs(r));
    const c = r >= 0 ? [196, 58, 49] : [49, 98, 196];
    return 'rgb(' + c.map((x) => Math.round(255 - a * (255 - x))).join(',') + ')';
  }

  function heatmap(svg, m, lo, hi, names) {
    const ns = 'http://www.w3.org/2000/svg', n = m.length, s = Math.max(14, Math.min(36, 560 / n)), pad = 4;
    svg.innerHTML = '';
    svg.setAttribute('width', n * s + 2 * pad);
    svg.setAttribute('height', n * s + 2 * pad);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const r = document.createElementNS(ns, 'rect');
        r.setAttribute('x', pad + j * s); r.setAttribute('y', pad + i * s);
        r.setAttribute('width', s - 1); r.setAttribute('height', s - 1);
        r.setAttribute('fill', color(m[i][j]));
        r.dataset.value = m[i][j];
        const t = document.createElementNS(ns, 'title');
        t.textContent = names[i] + ' × ' + names[j] + ': ' + f3(m[i][j]) +
          (lo ? ' [' + f3(lo[i][j]) + ', ' + f3(hi[i][j]) + ']' : '');
        r.appendChild(t);
        svg.appendChild(r);
        if (s >= 28) {
          const x = document.createElementNS(ns, 'text');
          x.setAttribute('x', pad + j * s + s / 2); x.setAttribute('y', pad + i * s + s / 2 + 3);
          x.setAttribute('class', 'hm-text');
          x.textContent = m[i][j].toFixed(2);
          svg.appendChild(x);
        }
      }
    }
  }

  async function show(fromCollection) {
    const st = el('multi-status');
    st.textContent = '';
    try {
      const id = fromCollection === true ? await analyse(el('multi-coll').value.trim()) : el('multi-job').value.trim();
      st.textContent = '';
      const j = await job(id);
      const res = j.result, params = j.params || {};
      showMarginals(res, params);
      const sel = el('multi-pair');
      sel.innerHTML = '';
      res.joints.forEach((jt, p) => {
        const o = document.createElement('option');
        o.value = p;
        o.textContent = attrName(res, params, jt.attributes[0]) + ' × ' + attrName(res, params, jt.attributes[1]);
        sel.appendChild(o);
      });
      showJoint(res, params);
      sel.onchange = () => showJoint(res, params);
      const c = res.correlation;
      if (c) {
        const names = c.attributes.map((a) => attrName(res, params, a));
        heatmap(el('multi-corr'), c.estimate, c.lower, c.upper, names);
        if (res.repaired) {
          heatmap(el('multi-rep'), res.repaired.matrix, null, null, names);
          el('multi-rep-cert').textContent = res.repaired.method + (res.repaired.weighted ? ' (weighted by 1/stderr²)' : '') +
            ', gap bound ' + res.repaired.gap_bound.toExponential(2) + (res.repaired.certified ? ', certified' : ', NOT certified');
        }
      }
      document.body.dataset.multiLoaded = String(Date.now());
    } catch (e) {
      st.textContent = e.message;
    }
  }

  el('multi-load').addEventListener('click', () => show(false));
  el('multi-run').addEventListener('click', () => show(true));
})();
