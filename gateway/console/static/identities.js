// Identity penetration (regulator): from an address or commitment to the KYC record behind it,
// with a written reason the audit log keeps; and the audit log: who looked at whom, when, why.
'use strict';
(function () {
  const { $, el, td, api, clear, when, mono, fail, flash, canAct, onSubmit } = RL;

  async function audit() {
    const f = RL.formData($('audit-filter'));
    const r = await api('GET', '/api/v1/supervise/audit?limit=200' + (f.action ? '&action=' + encodeURIComponent(f.action) : ''));
    const rows = clear($('audit-rows'));
    for (const a of r.entries || []) {
      const d = a.detail || {};
      const rest = Object.entries(d).filter(([k]) => k !== 'reason').map(([k, v]) => k + ': ' + v).join('; ');
      rows.append(el('tr', { dataset: { seq: a.seq, action: a.action } }, td(String(a.seq)), td(when(a.at)), td(a.actor), td(a.action),
        td(mono(a.object, 20)), td([d.reason ? el('div', { class: 'reason' }, d.reason) : '', rest ? el('div', { class: 'muted' }, rest) : '']),
        td(mono(a.hash, 10))));
    }
    if (!(r.entries || []).length) rows.append(el('tr', {}, td('no entries', 'muted')));
  }
  onSubmit($('audit-filter'), audit);

  if (canAct) {
    const q = new URLSearchParams(location.search);
    if (q.get('address')) $('penetrate-target').value = q.get('address');
    if (q.get('commitment')) $('penetrate-target').value = q.get('commitment');
    onSubmit($('penetrate-form'), async (f) => {
      const target = f.target;
      // A commitment is 64 hex digits; an address is base58.
      const body = /^[0-9a-f]{64}$/i.test(target) ? { commitment: target, reason: f.reason } : { address: target, reason: f.reason };
      const p = await api('POST', '/api/v1/supervise/penetrations', body);
      const box = clear($('penetrate-result'));
      box.append(el('h2', {}, 'Behind ', mono(p.commitment, 20)),
        el('p', { class: 'muted' }, 'addresses: ', (p.addresses || []).map((a) => mono(a, 16))));
      for (const s of p.subjects || []) {
        box.append(el('dl', { class: 'kv subject' },
          el('dt', {}, 'subject'), el('dd', {}, el('code', {}, s.id), ' ', el('span', { class: 'badge' }, s.status)),
          el('dt', {}, 'kind'), el('dd', {}, s.kind + ', KYC level ' + s.level),
          el('dt', {}, 'name'), el('dd', { class: 'subject-name' }, s.name),
          el('dt', {}, 'document'), el('dd', {}, (s.id_type || '') + ' ' + (s.id_number || '')),
          el('dt', {}, 'born'), el('dd', {}, s.birth_date || ''),
          el('dt', {}, 'nationality'), el('dd', {}, s.nationality || ''),
          el('dt', {}, 'institution'), el('dd', {}, s.institution || ''),
          el('dt', {}, 'risk'), el('dd', {}, s.risk || ''),
          el('dt', {}, 'approved'), el('dd', {}, when(s.approved_at))));
      }
      if (!(p.subjects || []).length) box.append(el('p', { class: 'muted' }, 'no KYC record on this node'));
      flash('looked up; the access is in the audit log');
      await audit();
    });
  }
  audit().catch(fail);
})();
