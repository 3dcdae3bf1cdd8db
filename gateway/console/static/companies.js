// Companies on the ledger; a row opens the company's register.
'use strict';
(function () {
  const { $, el, td, api, num, yuan, fail } = RL;
  (async function () {
    try {
      const r = await api('GET', '/api/v1/companies');
      const rows = $('company-rows');
      for (const c of r.companies || []) {
        const tr = el('tr', { dataset: { uscc: c.uscc } }, td(el('a', { href: '/console/companies/' + c.uscc }, c.uscc)), td(c.form), td(String(c.established_on || '')),
          td(num(c.holders), 'num'), td(num(c.members), 'num'), td(num(c.quantity), 'num'), td(num(c.paid_in), 'num'),
          td(c.last_transfer_quantity ? yuan(c.last_transfer_consideration) + ' for ' + num(c.last_transfer_quantity) : ''));
        tr.addEventListener('click', () => location.assign('/console/companies/' + c.uscc));
        rows.append(tr);
      }
      if (!(r.companies || []).length) rows.append(el('tr', {}, td('no company yet', 'muted')));
    } catch (err) { fail(err); }
  })();
})();
