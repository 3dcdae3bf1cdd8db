// Live feed: committed transactions through Server-Sent Events (/api/v1/feed), from a few hundred
// blocks back. Company, address and type filter on the server; the amount filters here. Pause
// keeps the stream and holds new rows until resumed. A row opens the transaction.
'use strict';
(function () {
  const { $, el, td, attr, yuan, num, short, mono, when, clear } = RL;
  const rows = $('feed-rows');
  const status = $('feed-status');
  const form = $('feed-filter');
  const pauseBtn = $('feed-pause');
  const maxRows = 500;
  let src = null;
  let paused = false;
  let held = [];
  let filter = {};

  function amountOK(tx) {
    const c = attr(tx, 'consideration');
    if (filter.min === undefined && filter.max === undefined) return true;
    if (c === '') return false;
    const fen = Number(c);
    if (filter.min !== undefined && fen < filter.min) return false;
    if (filter.max !== undefined && fen > filter.max) return false;
    return true;
  }

  function row(tx, id) {
    const from = attr(tx, 'from') || attr(tx, 'holder') || attr(tx, 'address');
    const to = attr(tx, 'to');
    const ok = tx.code === 0;
    const tr = el('tr', { dataset: { id, hash: tx.hash, type: tx.type || '' }, title: 'open the transaction' },
      td(tx.height), td(when(tx.time)), td(tx.type || ''), td(attr(tx, 'company')),
      td([from ? mono(from, 10) : '', to ? ' → ' : '', to ? mono(to, 10) : '']),
      td(num(attr(tx, 'quantity')), 'num'), td(yuan(attr(tx, 'consideration')), 'num'),
      td(ok ? 'committed' : 'refused: ' + short(tx.log || tx.code_name, 80), ok ? '' : 'refused'));
    tr.addEventListener('click', () => location.assign('/console/tx/' + encodeURIComponent(tx.hash)));
    return tr;
  }

  function add(tx, id) {
    if (!amountOK(tx)) return;
    rows.prepend(row(tx, id));
    while (rows.children.length > maxRows) rows.lastChild.remove();
  }

  function setStatus(s) { status.textContent = s; status.dataset.state = s; }

  // The feed starts this many blocks back, not at the first block: a busy chain would replay
  // everything first.
  const history = 300;
  let since = '0';

  async function start() {
    try {
      const h = await RL.api('GET', '/healthz');
      if (h.height > history) since = (h.height - history) + '-0';
    } catch (e) { /* replay from the first block */ }
    connect();
  }

  function connect() {
    if (src) src.close();
    clear(rows);
    held = [];
    const q = new URLSearchParams({ since });
    for (const k of ['company', 'address', 'type']) if (filter[k]) q.set(k, filter[k]);
    src = new EventSource('/api/v1/feed?' + q.toString());
    setStatus('connecting…');
    src.onopen = () => setStatus(paused ? 'paused' : 'live');
    src.onerror = () => setStatus('reconnecting…');
    src.addEventListener('tx', (ev) => {
      let tx;
      try { tx = JSON.parse(ev.data); } catch (e) { return; }
      if (paused) {
        held.push([tx, ev.lastEventId]);
        if (held.length > maxRows) held.shift();
        setStatus('paused (' + held.length + ' waiting)');
        return;
      }
      add(tx, ev.lastEventId);
    });
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = RL.formData(form);
    filter = { company: f.company, address: f.address, type: f.type };
    if (f.min !== '') filter.min = Math.round(Number(f.min) * 100);
    if (f.max !== '') filter.max = Math.round(Number(f.max) * 100);
    connect();
  });

  pauseBtn.addEventListener('click', () => {
    paused = !paused;
    pauseBtn.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) {
      for (const [tx, id] of held) add(tx, id);
      held = [];
      setStatus('live');
    } else {
      setStatus('paused');
    }
  });

  window.addEventListener('pagehide', () => { if (src) src.close(); });
  start();
})();
