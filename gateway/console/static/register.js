// A company's register at any height, its notices and pre-emption replies, and its
// transactions from the feed.
'use strict';
(function () {
  const { $, el, td, attr, num, yuan, when, mono, short, fail, onSubmit, page } = RL;
  const uscc = page.param;

  async function load(height) {
    const r = await RLLedger.register(uscc, height, true);
    $('register-at').textContent = 'at height ' + r.height;
  }
  onSubmit($('register-height'), (f) => load(f.height));

  (async function () {
    try {
      await RLLedger.summary(uscc);
      await load('');
      await RLLedger.notices(uscc);
    } catch (err) { fail(err); }
  })();

  const rows = $('company-history');
  const src = new EventSource('/api/v1/feed?since=0&company=' + encodeURIComponent(uscc));
  src.addEventListener('tx', (ev) => {
    const tx = JSON.parse(ev.data);
    const from = attr(tx, 'from') || attr(tx, 'holder');
    const to = attr(tx, 'to');
    const tr = el('tr', { dataset: { hash: tx.hash } }, td(tx.height), td(when(tx.time)), td(tx.type || ''),
      td([from ? mono(from, 10) : '', to ? ' → ' : '', to ? mono(to, 10) : '']), td(num(attr(tx, 'quantity')), 'num'),
      td(yuan(attr(tx, 'consideration')), 'num'), td(tx.code === 0 ? 'committed' : 'refused: ' + short(tx.log, 60), tx.code === 0 ? '' : 'refused'));
    tr.addEventListener('click', () => location.assign('/console/tx/' + encodeURIComponent(tx.hash)));
    rows.prepend(tr);
  });
  window.addEventListener('pagehide', () => src.close());
})();
