// Transaction detail: the supervision view (parties with commitments, signatures with their
// certificates, the rule checks that passed); the public view when the node has no supervision.
'use strict';
(function () {
  const { $, el, td, api, clear, when, mono, fail, canAct, page } = RL;
  const hash = page.param;

  function kv(pairs) {
    return el('dl', { class: 'kv' }, pairs.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  }

  function show(view) {
    const tx = view.tx || view;
    const ok = tx.code === 0;
    clear($('tx-summary')).append(kv([
      ['type', tx.type || ''], ['result', ok ? 'committed' : 'refused: ' + (tx.log || tx.code_name)],
      ['height', String(tx.height)], ['index', String(tx.index)], ['time', when(tx.time)],
      ['ledger id', el('code', {}, tx.tx_id || '')], ['hash', el('code', { id: 'tx-hash' }, tx.hash || '')],
      ['block', el('code', {}, tx.block_hash || '')],
    ]));
    const parties = clear($('tx-parties'));
    for (const p of view.parties || []) {
      const addr = p.address ? mono(p.address, 16) : '';
      const look = canAct && (p.address || p.commitment)
        ? el('a', { href: '/console/identities?' + (p.address ? 'address=' + encodeURIComponent(p.address) : 'commitment=' + encodeURIComponent(p.commitment)), class: 'penetrate' }, ' see behind')
        : '';
      parties.append(el('tr', {}, td(p.role), td([addr, look]), td(p.commitment ? mono(p.commitment, 16) : ''), td(p.kind || '')));
    }
    if (!view.parties) parties.append(el('tr', {}, td('the supervision view is not available on this node', 'muted')));
    const sigs = clear($('tx-signatures'));
    for (const s of view.signatures || []) {
      const c = s.certificate || {};
      sigs.append(el('tr', {}, td(mono(s.address, 16)), td(s.algorithm || ''),
        td(c.serial ? [mono(c.serial, 16), el('br'), el('span', { class: 'muted' }, 'SHA-256 '), mono(c.fingerprint, 16)] : 'no certificate'),
        td(c.kyc_level === undefined ? '' : String(c.kyc_level)), td(when(c.expires))));
    }
    const checks = clear($('tx-checks'));
    for (const c of view.checks || []) checks.append(el('tr', {}, td(el('code', {}, c.rule)), td(c.article || '')));
    const events = clear($('tx-events'));
    for (const e of tx.events || []) {
      events.append(el('tr', {}, td(e.type), td((e.attributes || []).filter((a) => a.value !== '').map((a) => el('div', {}, el('span', { class: 'muted' }, a.key + ' '), el('code', {}, a.value))))));
    }
    $('tx-body').textContent = JSON.stringify(tx.tx || {}, null, 2);
  }

  (async function () {
    try {
      show(await api('GET', '/api/v1/supervise/tx/' + encodeURIComponent(hash)));
    } catch (err) {
      if (err.status !== 404 || (err.problem && err.problem.detail !== 'no such route')) { fail(err); return; }
      try { show(await api('GET', '/api/v1/tx/' + encodeURIComponent(hash))); } catch (e2) { fail(e2); }
    }
  })();
})();
