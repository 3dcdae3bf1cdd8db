// A KYC officer's review queue: subjects waiting for a decision, opened with a reason.
'use strict';
(function () {
  const { $, el, td, api, clear, when, fail, flash, onSubmit } = RL;
  let current = null;
  let decision = 'approve';

  async function load() {
    const r = await api('GET', '/api/v1/kyc/reviews');
    const rows = clear($('review-rows'));
    for (const s of r.subjects || []) {
      const tr = el('tr', { dataset: { id: s.id } }, td(el('code', {}, s.id)), td(s.state), td(s.kind), td(String(s.level)), td(when(s.created_at)));
      tr.addEventListener('click', () => open(s.id).catch(fail));
      rows.append(tr);
    }
    if (!(r.subjects || []).length) rows.append(el('tr', {}, td('the queue is empty', 'muted')));
  }

  async function open(id) {
    const s = await api('GET', '/api/v1/kyc/subjects/' + encodeURIComponent(id) + '?reason=' + encodeURIComponent('KYC review'));
    current = id;
    const checks = (s.checks || []).map((c) => el('li', {}, (c.name || c.check || c.kind || 'check') + ': ' + (c.outcome || c.result || c.status || '') + (c.reason ? ' — ' + c.reason : (c.detail ? ' — ' + c.detail : ''))));
    clear($('review-subject')).append(el('h2', {}, 'Subject ', el('code', {}, s.id)),
      el('dl', { class: 'kv' },
        el('dt', {}, 'kind'), el('dd', {}, s.kind), el('dt', {}, 'level'), el('dd', {}, String(s.level)),
        el('dt', {}, 'name'), el('dd', {}, s.name || ''), el('dt', {}, 'document'), el('dd', {}, (s.id_type || '') + ' ' + (s.id_number || '')),
        el('dt', {}, 'nationality'), el('dd', {}, s.nationality || ''), el('dt', {}, 'state'), el('dd', {}, s.state)),
      el('h2', {}, 'Checks'), el('ul', {}, checks));
    $('review-detail').hidden = false;
  }

  for (const b of ['review-approve', 'review-reject']) $(b).addEventListener('click', (ev) => { decision = ev.target.value; });
  onSubmit($('review-decision'), async (f) => {
    if (!current) return;
    const reasons = (f.reasons || '').split('\n').map((x) => x.trim()).filter(Boolean);
    const r = await api('POST', '/api/v1/kyc/subjects/' + encodeURIComponent(current) + '/decision', { decision, reasons });
    flash('subject ' + r.id + ' is now ' + r.state);
    $('review-detail').hidden = true;
    current = null;
    await load();
  });

  load().catch(fail);
})();
