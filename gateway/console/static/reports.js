// Reports: large-value transaction reports of a day (categories 0501–0504) and the suspicious-
// transaction reports, each downloadable as CSV and JSON.
'use strict';
(function () {
  const { $, el, td, api, clear, when, mono, yuan, fail, onSubmit } = RL;
  const dateInput = $('lvt-date');
  // Today in China Standard Time, the reports' calendar.
  dateInput.value = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);

  function links(date) {
    const q = '/api/v1/supervise/reports/lvt?date=' + encodeURIComponent(date);
    $('lvt-csv').href = q + '&format=csv';
    $('lvt-csv').setAttribute('download', 'lvt-' + date + '.csv');
    $('lvt-json').href = q + '&format=json';
    $('lvt-json').setAttribute('download', 'lvt-' + date + '.json');
  }

  async function lvt(date) {
    links(date);
    const r = await api('GET', '/api/v1/supervise/reports/lvt?date=' + encodeURIComponent(date));
    const rows = clear($('lvt-rows'));
    for (const x of r.reports || []) {
      rows.append(el('tr', {}, td(x.code), td(mono(x.subject, 16)), td(x.direction), td(yuan(x.amount_fen), 'num'), td(String(x.count), 'num'),
        td((x.transactions || []).map((t) => el('div', {}, el('a', { href: '/console/tx/' + encodeURIComponent(t) }, t.slice(0, 12) + '…')))), td(x.deadline)));
    }
    if (!(r.reports || []).length) rows.append(el('tr', {}, td('no large-value transactions that day', 'muted')));
  }
  onSubmit($('lvt-form'), (f) => lvt(f.date));

  async function strs() {
    const r = await api('GET', '/api/v1/supervise/reports/str?format=json');
    const rows = clear($('str-rows'));
    for (const s of r.reports || []) {
      rows.append(el('tr', { dataset: { id: s.id, case: s.case_id } }, td(el('code', {}, s.id)), td(el('a', { href: '/console/cases/' + encodeURIComponent(s.case_id) }, s.case_id)),
        td(when(s.filed_at)), td(s.filed_by), td((s.subjects || []).map((x) => el('div', {}, mono(x, 14)))),
        td((s.transactions || []).map((t) => el('div', {}, el('a', { href: '/console/tx/' + encodeURIComponent(t.hash) }, t.type + ' @' + t.height)))),
        td((s.indicators || []).join('; ')), td(s.deadline || '')));
    }
    if (!(r.reports || []).length) rows.append(el('tr', {}, td('no reports filed', 'muted')));
  }

  lvt(dateInput.value).catch(fail);
  strs().catch(fail);
})();
