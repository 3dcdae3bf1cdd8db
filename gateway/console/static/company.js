// A company officer's page: the company's drafts that wait for its signature, each with its dry
// run's violations shown before signing, countersigned with the company's institution key held
// by the node, or refused with a reason; the register and the notices.
'use strict';
(function () {
  const { $, el, api, clear, when, mono, yuan, num, fail, flash, page } = RL;
  const uscc = page.company;

  function violationsBox(vs) {
    const blocking = vs.filter((v) => v.rule !== 'TX-SIGNATURE');
    const missing = vs.filter((v) => v.rule === 'TX-SIGNATURE');
    const box = el('div', { class: 'violations' + (blocking.length ? '' : ' none') });
    if (!blocking.length) box.append(el('div', { class: 'dry-run-ok' }, 'Dry run: no violation other than missing signatures.'));
    for (const v of blocking) box.append(el('div', { class: 'violation' }, el('code', {}, v.rule), v.article ? ' (' + v.article + ')' : '', ': ', v.message));
    for (const v of missing) box.append(el('div', { class: 'muted' }, v.message));
    return [box, blocking.length];
  }

  function draftCard(d) {
    const p = (d.body && d.body.payload) || {};
    const terms = p.terms || {};
    const [vbox, blocking] = violationsBox(d.violations || []);
    const reason = el('input', { name: 'reason', placeholder: 'reason for refusing', size: 30, class: 'refuse-reason' });
    const sign = el('button', { type: 'button', class: 'primary countersign', disabled: blocking > 0 }, blocking ? 'Blocked by the dry run' : 'Countersign');
    const refuse = el('button', { type: 'button', class: 'danger refuse' }, 'Refuse');
    sign.addEventListener('click', async () => {
      sign.disabled = true;
      try {
        const r = await api('POST', '/api/v1/company/drafts/' + encodeURIComponent(d.id) + '/countersign', {});
        flash('draft ' + r.id + ' countersigned: ' + r.status + (r.height ? ' at height ' + r.height : ''));
        await load();
      } catch (err) { fail(err); sign.disabled = false; }
    });
    refuse.addEventListener('click', async () => {
      try {
        const r = await api('POST', '/api/v1/company/drafts/' + encodeURIComponent(d.id) + '/refuse', { reason: reason.value.trim() });
        flash('draft ' + r.id + ' ' + r.status);
        await load();
      } catch (err) { fail(err); }
    });
    return el('div', { class: 'draft', dataset: { id: d.id, status: d.status } },
      el('div', {}, el('strong', {}, (d.body && d.body.type) || 'draft'), ' ', el('code', {}, d.id), ' ', el('span', { class: 'badge' }, d.status),
        el('span', { class: 'muted' }, ' created ' + when(d.created_at))),
      el('div', {}, p.from ? ['from ', mono(p.from, 14), ' to ', mono(p.to, 14), ': '] : '',
        terms.quantity !== undefined ? num(terms.quantity) + ' shares for ¥' + yuan(terms.consideration) : '',
        p.certificate_no ? ' (certificate ' + p.certificate_no + ')' : ''),
      el('div', { class: 'muted' }, 'signatures: ', (d.required || []).map((r) => el('span', { class: 'chip' }, r.as + (r.signed ? ' ✓' : ' …')))),
      vbox,
      el('div', {}, sign, reason, refuse));
  }

  async function load() {
    const r = await api('GET', '/api/v1/company/drafts');
    const box = clear($('drafts'));
    for (const d of r.drafts || []) box.append(draftCard(d));
    if (!(r.drafts || []).length) box.append(el('p', { class: 'muted' }, 'no draft waits for the company'));
    try {
      await RLLedger.summary(uscc);
      await RLLedger.register(uscc, '', false);
      await RLLedger.notices(uscc);
    } catch (err) {
      if (err.status === 404) clear($('company-summary')).append(el('p', { class: 'muted' }, 'company ' + uscc + ' is not registered on the ledger yet'));
      else throw err;
    }
  }
  load().catch(fail);
})();
