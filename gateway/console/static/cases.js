// Cases, newest first; a row opens the case.
'use strict';
(function () {
  const { $, el, td, api, clear, when, fail, onSubmit } = RL;
  async function load() {
    const f = RL.formData($('case-filter'));
    const r = await api('GET', '/api/v1/supervise/cases' + (f.status ? '?status=' + encodeURIComponent(f.status) : ''));
    const rows = clear($('case-rows'));
    for (const c of r.cases || []) {
      const tr = el('tr', { dataset: { id: c.id } }, td(el('a', { href: '/console/cases/' + encodeURIComponent(c.id) }, c.id)), td(c.title),
        td(el('span', { class: 'badge ' + c.status }, c.status)), td((c.disposition || '').replace('_', ' ')), td(c.assignee || ''),
        td(String((c.alerts || c.alert_keys || []).length)), td(when(c.created_at)), td(when(c.updated_at)));
      rows.append(tr);
    }
    if (!(r.cases || []).length) rows.append(el('tr', {}, td('no cases', 'muted')));
  }
  onSubmit($('case-filter'), load);
  load().catch(fail);
})();
