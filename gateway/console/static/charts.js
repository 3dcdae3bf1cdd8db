// Charts drawn here as SVG (no library): transactions and value per day, alerts per rule, and the
// top companies by flow, from /api/v1/supervise/stats.
'use strict';
(function () {
  const { $, api, clear, fail, onSubmit, yuan, num } = RL;
  const NS = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // nice rounds a maximum up to 1, 2 or 5 times a power of ten.
  function nice(max) {
    if (max <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(max)));
    for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
    return 10 * p;
  }

  function empty(box, msg) {
    const s = svg('svg', { viewBox: '0 0 600 60', role: 'img', 'aria-label': msg });
    s.append(svg('text', { x: 300, y: 34, 'text-anchor': 'middle', class: 'empty' }, msg));
    clear(box).append(s);
  }

  // columns draws a vertical bar chart of points [{label, value}], with an optional line.
  function columns(box, points, fmt, asLine) {
    if (!points.length) { empty(box, 'no data'); return; }
    const W = 600; const H = 240; const L = 64; const R = 10; const T = 12; const B = 40;
    const max = nice(Math.max(...points.map((p) => p.value)));
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': box.id });
    const iw = W - L - R; const ih = H - T - B;
    for (let i = 0; i <= 4; i++) {
      const y = T + ih - (ih * i) / 4;
      s.append(svg('line', { x1: L, x2: W - R, y1: y, y2: y, class: 'grid' }));
      s.append(svg('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' }, fmt((max * i) / 4)));
    }
    s.append(svg('line', { x1: L, x2: W - R, y1: T + ih, y2: T + ih, class: 'axis' }));
    const step = iw / points.length;
    const every = Math.ceil(points.length / 10);
    const path = [];
    points.forEach((p, i) => {
      const h = (p.value / max) * ih;
      const x = L + i * step;
      if (asLine) {
        const cx = x + step / 2; const cy = T + ih - h;
        path.push((i ? 'L' : 'M') + cx.toFixed(1) + ' ' + cy.toFixed(1));
        const dot = svg('circle', { cx, cy, r: 3, class: 'dot' });
        dot.append(svg('title', {}, p.label + ': ' + fmt(p.value)));
        s.append(dot);
      } else {
        const r = svg('rect', { x: x + step * 0.15, y: T + ih - h, width: Math.max(1, step * 0.7), height: Math.max(0, h), class: 'bar' });
        r.append(svg('title', {}, p.label + ': ' + fmt(p.value)));
        s.append(r);
      }
      if (i % every === 0) s.append(svg('text', { x: x + step / 2, y: H - B + 16, 'text-anchor': 'middle' }, p.label.slice(5)));
    });
    if (asLine) s.insertBefore(svg('path', { d: path.join(' '), class: 'line' }), s.firstChild.nextSibling);
    clear(box).append(s);
  }

  // bars draws a horizontal bar chart of [{label, value}].
  function bars(box, items, fmt, alt) {
    if (!items.length) { empty(box, 'no data'); return; }
    const row = 26; const L = 210; const R = 90; const W = 600;
    const H = items.length * row + 10;
    const max = Math.max(...items.map((x) => x.value)) || 1;
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': box.id });
    items.forEach((it, i) => {
      const y = 5 + i * row;
      const w = ((W - L - R) * it.value) / max;
      s.append(svg('text', { x: L - 8, y: y + 16, 'text-anchor': 'end' }, it.label.length > 30 ? it.label.slice(0, 29) + '…' : it.label));
      const r = svg('rect', { x: L, y: y + 4, width: Math.max(1, w), height: row - 8, class: 'bar' + (alt ? ' alt' : '') });
      r.append(svg('title', {}, it.label + ': ' + fmt(it.value)));
      s.append(r);
      s.append(svg('text', { x: L + w + 6, y: y + 16 }, fmt(it.value)));
    });
    clear(box).append(s);
  }

  async function load(days) {
    const st = await api('GET', '/api/v1/supervise/stats?days=' + encodeURIComponent(days));
    const ds = st.days || [];
    columns($('chart-volume'), ds.map((d) => ({ label: d.date, value: d.count })), (v) => (Number.isInteger(v) ? num(v) : v.toFixed(1)));
    columns($('chart-value'), ds.map((d) => ({ label: d.date, value: d.value_fen })), (v) => yuan(v).replace(/\.00$/, ''), true);
    bars($('chart-rules'), (st.rules || []).map((r) => ({ label: r.rule_name || r.rule_id, value: r.count })), (v) => num(v), true);
    bars($('chart-companies'), (st.companies || []).slice(0, 10).map((c) => ({ label: c.uscc + (c.name ? ' ' + c.name : ''), value: c.value_fen })), (v) => '¥' + yuan(v).replace(/\.00$/, ''));
  }
  onSubmit($('chart-filter'), (f) => load(f.days));
  load(30).catch(fail);
})();
