// Views of a company shared by the regulator's register page and the company officer's page.
'use strict';
window.RLLedger = (function () {
  const { $, el, td, api, clear, num, yuan, when, mono } = RL;

  async function summary(uscc) {
    const r = await api('GET', '/api/v1/companies/' + encodeURIComponent(uscc));
    const c = r.company;
    const freezes = r.freezes || [];
    clear($('company-summary')).append(el('dl', { class: 'kv' },
      el('dt', {}, 'USCC'), el('dd', {}, el('code', { id: 'company-uscc' }, c.uscc)),
      el('dt', {}, 'address'), el('dd', {}, el('code', {}, c.address)),
      el('dt', {}, 'form'), el('dd', {}, String(c.form)),
      el('dt', {}, 'established'), el('dd', {}, String(c.established_on)),
      el('dt', {}, 'shares'), el('dd', {}, num(c.quantity) + ' (subscribed ' + num(c.subscribed) + ', paid in ' + num(c.paid_in) + ')'),
      el('dt', {}, 'holders'), el('dd', {}, num(c.holders) + ' holdings, ' + num(c.members) + ' distinct members'),
      el('dt', {}, 'freezes'), el('dd', { id: 'company-freezes' }, freezes.length
        ? freezes.map((f) => el('div', {}, el('span', { class: 'badge active' }, 'frozen'), ' ', f.holder ? 'holding of ' : 'whole company ', f.holder ? mono(f.holder, 12) : '', ' — ', f.basis || ''))
        : 'none')));
    return r;
  }

  async function register(uscc, height, full) {
    const q = height ? '?height=' + encodeURIComponent(height) : '';
    const r = await api('GET', '/api/v1/companies/' + encodeURIComponent(uscc) + '/register' + q);
    const rows = clear($('register-rows'));
    for (const h of r.holders || []) {
      const cells = [td(mono(h.holder, 14)), td(mono(h.commitment, 14)), td(num(h.quantity), 'num')];
      if (full) cells.push(td(num(h.subscribed), 'num'));
      cells.push(td(num(h.paid_in), 'num'), td(num(h.pledged), 'num'), td(h.certificate_no || ''), td(when(h.acquired_at)));
      if (full) {
        cells.push(td((h.lots || []).map((l) => el('div', { class: 'muted' }, num(l.quantity) + ' via ' + l.method + ' on ' + l.contribution_date))));
      }
      rows.append(el('tr', { dataset: { holder: h.holder } }, cells));
    }
    if (!(r.holders || []).length) rows.append(el('tr', {}, td('no holder at this height', 'muted')));
    return r;
  }

  async function notices(uscc) {
    const r = await api('GET', '/api/v1/companies/' + encodeURIComponent(uscc) + '/notices');
    const box = clear($('notices'));
    for (const n of r.notices || []) {
      const replies = el('table', { class: 'grid' }, el('thead', {}, el('tr', {}, el('th', {}, 'recipient'), el('th', {}, 'commitment'), el('th', { class: 'num' }, 'basis'), el('th', {}, 'reply'), el('th', {}, 'replied'))),
        el('tbody', {}, (n.recipients || []).map((rc) => el('tr', {}, td(mono(rc.address, 12)), td(mono(rc.commitment, 12)), td(num(rc.basis), 'num'),
          td((rc.reply || 'no reply yet') + (rc.executed ? ', executed' : '') + (rc.lapsed ? ', lapsed' : '')), td(when(rc.replied_at))))));
      box.append(el('div', { class: 'draft' },
        el('div', {}, el('strong', {}, n.kind + ' notice '), mono(n.id, 12), ' ', el('span', { class: 'badge' }, n.status)),
        el('div', { class: 'muted' }, 'from ', mono(n.holder, 12), n.transferee ? [' to ', mono(n.transferee, 12)] : '',
          ': ', num(n.terms && n.terms.quantity), ' shares for ¥', yuan(n.terms && n.terms.consideration), '; rule ', n.rule,
          '; given ', when(n.given_at), ', replies until ', when(n.deadline)),
        replies));
    }
    if (!(r.notices || []).length) box.append(el('p', { class: 'muted' }, 'no notices'));
    return r;
  }

  return { summary, register, notices };
})();
