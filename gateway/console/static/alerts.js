// The alert queue: by severity, then newest first, with each alert's rule and evidence. A
// regulator assigns, dismisses (with a reason) or reopens the selected alerts, or opens a case
// from them; an auditor reads.
'use strict';
(function () {
  const { $, el, td, api, clear, when, mono, sevBadge, txLink, fail, flash, canAct, onSubmit } = RL;
  const order = { critical: 0, high: 1, medium: 2, low: 3 };
  let alerts = [];

  const selected = () => [...document.querySelectorAll('#alert-rows input[type="checkbox"]:checked')].map((c) => c.value);
  function updateSelected() {
    const n = selected().length;
    if ($('alert-selected')) $('alert-selected').textContent = n + ' selected';
  }

  function summary() {
    const box = clear($('alert-summary'));
    const bySev = {};
    const byRule = {};
    for (const a of alerts) {
      bySev[a.severity] = (bySev[a.severity] || 0) + 1;
      byRule[a.rule_name || a.rule_id] = (byRule[a.rule_name || a.rule_id] || 0) + 1;
    }
    for (const s of Object.keys(order)) if (bySev[s]) box.append(el('span', { class: 'chip' }, sevBadge(s), ' ', String(bySev[s])));
    for (const [r, n] of Object.entries(byRule).sort((x, y) => y[1] - x[1])) box.append(el('span', { class: 'chip' }, r + ': ' + n));
  }

  function render() {
    const rows = clear($('alert-rows'));
    for (const a of alerts) {
      const detail = Object.entries(a.detail || {}).map(([k, v]) => el('div', {}, el('span', { class: 'muted' }, k + ' '), String(v)));
      const cells = [];
      if (canAct) {
        const box = el('input', { type: 'checkbox', value: a.key, 'aria-label': 'select alert ' + a.seq });
        box.addEventListener('change', updateSelected);
        cells.push(td(box));
      }
      cells.push(td(sevBadge(a.severity)), td([el('div', {}, a.rule_name || a.rule_id), el('code', { class: 'muted' }, a.rule_id + ' v' + a.rule_version)]),
        td(mono(a.subject, 14)),
        td((a.evidence || []).map((ev) => el('div', {}, txLink(ev.hash, ev.type + ' @' + ev.height)))),
        td(detail), td(when(a.time)), td(a.status + (a.note ? ' — ' + a.note : '')), td(a.assignee || ''),
        td(a.case_id ? el('a', { href: '/console/cases/' + encodeURIComponent(a.case_id) }, a.case_id) : ''));
      rows.append(el('tr', { dataset: { key: a.key, rule: a.rule_id, status: a.status } }, cells));
    }
    if (!alerts.length) rows.append(el('tr', {}, td('no alerts', 'muted')));
    summary();
    updateSelected();
  }

  async function load() {
    const f = RL.formData($('alert-filter'));
    const q = new URLSearchParams();
    for (const k of ['status', 'severity', 'rule']) if (f[k]) q.set(k, f[k]);
    const r = await api('GET', '/api/v1/supervise/alerts?' + q.toString());
    alerts = (r.alerts || []).slice().sort((x, y) => (order[x.severity] ?? 9) - (order[y.severity] ?? 9) || y.seq - x.seq);
    render();
  }
  onSubmit($('alert-filter'), load);

  async function triage(action, extra) {
    const keys = selected();
    if (!keys.length) { flash('select alerts first', true); return; }
    const r = await api('POST', '/api/v1/supervise/alerts/triage', Object.assign({ keys, action }, extra));
    flash(r.updated + ' alert(s): ' + action);
    await load();
  }

  if (canAct) {
    $('alert-all').addEventListener('change', (ev) => {
      document.querySelectorAll('#alert-rows input[type="checkbox"]').forEach((c) => { c.checked = ev.target.checked; });
      updateSelected();
    });
    const run = (fn) => async () => { try { await fn(); } catch (err) { fail(err); } };
    $('alert-assign').addEventListener('click', run(() => triage('assign', { assignee: $('alert-assignee').value.trim() })));
    $('alert-dismiss').addEventListener('click', run(() => triage('dismiss', { reason: $('alert-reason').value.trim() })));
    $('alert-reopen').addEventListener('click', run(() => triage('reopen', {})));
    $('alert-open-case').addEventListener('click', run(async () => {
      const keys = selected();
      if (!keys.length) { flash('select alerts first', true); return; }
      const title = $('case-title').value.trim() || 'Case from ' + keys.length + ' alert(s)';
      const c = await api('POST', '/api/v1/supervise/cases', { title, alerts: keys, assignee: $('alert-assignee').value.trim() });
      location.assign('/console/cases/' + encodeURIComponent(c.id));
    }));
  }
  load().catch(fail);
})();
