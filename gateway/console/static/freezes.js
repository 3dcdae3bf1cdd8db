// Freeze orders: the regulator issues one (a company, or one holding, with the legal basis),
// signed with the regulator institution's key and committed on the ledger; active orders are
// listed and can be lifted with a basis.
'use strict';
(function () {
  const { $, el, td, api, clear, when, mono, fail, flash, canAct, onSubmit, txLink } = RL;

  async function load() {
    const f = RL.formData($('freeze-filter'));
    const rows = clear($('freeze-rows'));
    if (!f.company) { rows.append(el('tr', {}, td('enter a company to see its orders', 'muted'))); return; }
    const r = await api('GET', '/api/v1/supervise/freezes?company=' + encodeURIComponent(f.company));
    clear(rows);
    for (const z of r.freezes || []) {
      const cells = [td(mono(z.id, 12)), td(el('a', { href: '/console/companies/' + encodeURIComponent(z.company) }, z.company)),
        td(z.holder ? mono(z.holder, 14) : 'whole company'), td(z.authority), td(z.basis), td(when(z.at)),
        td(el('span', { class: 'badge ' + (z.active ? 'active' : 'lifted') }, z.active ? 'active' : 'lifted'))];
      if (canAct) {
        if (z.active) {
          const form = el('form', { class: 'inline unfreeze' },
            el('input', { name: 'basis', placeholder: 'basis for lifting', required: true, size: 22 }),
            el('button', { type: 'submit', class: 'danger' }, 'Unfreeze'));
          onSubmit(form, async (v) => {
            const res = await api('POST', '/api/v1/supervise/unfreezes', { freeze: z.id, basis: v.basis });
            flash(res.code === 0 ? 'order lifted at height ' + res.height : 'refused: ' + res.log, res.code !== 0);
            await load();
          });
          cells.push(td(form));
        } else {
          cells.push(td(''));
        }
      }
      rows.append(el('tr', { dataset: { id: z.id, company: z.company } }, cells));
    }
    if (!(r.freezes || []).length) rows.append(el('tr', {}, td('no active order', 'muted')));
  }
  onSubmit($('freeze-filter'), load);
  const q = new URLSearchParams(location.search).get('company');
  if (q) $('freeze-filter').elements.company.value = q;

  if (canAct) {
    onSubmit($('freeze-form'), async (f, ev) => {
      const body = { company: f.company, basis: f.basis };
      if (f.holder) body.holder = f.holder;
      const r = await api('POST', '/api/v1/supervise/freezes', body);
      if (r.code !== 0) { flash('the ledger refused the order: ' + r.log, true); return; }
      const box = $('flash');
      flash('');
      box.append('Freeze order ', el('code', { id: 'freeze-id' }, r.tx_id), r.pending ? ' submitted, not committed yet' : ' committed at height ' + r.height + ' ', r.hash ? txLink(r.hash, 'open') : '');
      box.hidden = false;
      ev.target.reset();
      $('freeze-filter').elements.company.value = body.company;
      await load();
    });
  }
  load().catch(fail);
})();
