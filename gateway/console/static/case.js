// One case: its alerts, notes, attachments (read with FileReader, sent as base64 and stored by
// SM3), every step, and the regulator's actions: assign, escalate, close with a disposition and
// the written analysis ("reported" files a suspicious-transaction report).
'use strict';
(function () {
  const { $, el, td, api, clear, when, mono, sevBadge, txLink, fail, flash, canAct, onSubmit, page, num } = RL;
  const id = page.param;
  const base = '/api/v1/supervise/cases/' + encodeURIComponent(id);

  function show(c) {
    clear($('case-summary')).append(el('dl', { class: 'kv' },
      el('dt', {}, 'case'), el('dd', {}, el('code', {}, c.id)),
      el('dt', {}, 'title'), el('dd', {}, c.title),
      el('dt', {}, 'status'), el('dd', {}, el('span', { class: 'badge ' + c.status, id: 'case-status' }, c.status)),
      el('dt', {}, 'disposition'), el('dd', { id: 'case-disp' }, (c.disposition || '—').replace('_', ' ')),
      el('dt', {}, 'assignee'), el('dd', { id: 'case-assignee' }, c.assignee || '—'),
      el('dt', {}, 'opened'), el('dd', {}, when(c.created_at) + ' by ' + (c.created_by || '')),
      c.analysis ? [el('dt', {}, 'analysis'), el('dd', {}, c.analysis)] : []));
    const closed = c.status === 'closed';
    if ($('case-actions')) $('case-actions').hidden = closed;
    for (const f of ['case-note', 'case-attach']) if ($(f)) $(f).hidden = closed;

    const notes = clear($('case-notes'));
    for (const n of c.notes || []) notes.append(el('li', {}, el('div', { class: 'muted' }, when(n.at) + ' · ' + n.author), n.text));
    if (!(c.notes || []).length) notes.append(el('li', { class: 'muted' }, 'no notes'));

    const att = clear($('case-attachments'));
    for (const a of c.attachments || []) {
      att.append(el('tr', {}, td(el('a', { href: '/api/v1/supervise/attachments/' + encodeURIComponent(a.sm3), download: a.name }, a.name)),
        td(num(a.size) + ' B'), td(mono(a.sm3, 16)), td(a.by), td(when(a.at))));
    }
    const al = clear($('case-alerts'));
    for (const a of c.alerts || []) {
      al.append(el('tr', {}, td(sevBadge(a.severity)), td(a.rule_name || a.rule_id), td(mono(a.subject, 14)),
        td((a.evidence || []).map((ev) => el('div', {}, txLink(ev.hash, ev.type + ' @' + ev.height)))), td(when(a.time))));
    }
    const steps = clear($('case-steps'));
    for (const s of c.steps || []) steps.append(el('tr', {}, td(String(s.seq)), td(when(s.at)), td(s.actor), td(s.action), td(s.detail || '')));

    const str = $('case-str');
    if (c.str) {
      const s = c.str;
      clear(str).append(el('h2', {}, 'Suspicious-transaction report ', el('code', { id: 'str-id' }, s.id)),
        el('dl', { class: 'kv' },
          el('dt', {}, 'filed'), el('dd', {}, when(s.filed_at) + ' by ' + s.filed_by),
          el('dt', {}, 'deadline'), el('dd', {}, s.deadline || ''),
          el('dt', {}, 'subjects'), el('dd', {}, (s.subjects || []).map((x) => el('div', {}, mono(x, 20)))),
          el('dt', {}, 'transactions'), el('dd', {}, (s.transactions || []).map((t) => el('div', {}, txLink(t.hash, t.type + ' @' + t.height)))),
          el('dt', {}, 'indicators'), el('dd', {}, (s.indicators || []).join('; ')),
          el('dt', {}, 'analysis'), el('dd', {}, s.analysis)),
        el('p', {}, 'Export every STR: ', el('a', { id: 'str-export-csv', href: '/api/v1/supervise/reports/str?format=csv', download: 'str.csv' }, 'CSV'), ' · ',
          el('a', { id: 'str-export-json', href: '/api/v1/supervise/reports/str?format=json', download: 'str.json' }, 'JSON')));
      str.hidden = false;
    } else {
      str.hidden = true;
    }
  }

  async function load() { show(await api('GET', base)); }

  if (canAct) {
    onSubmit($('case-assign'), async (f) => { show(await api('POST', base + '/assign', { assignee: f.assignee })); flash('assigned to ' + f.assignee); });
    onSubmit($('case-escalate'), async (f) => { show(await api('POST', base + '/escalate', { reason: f.reason })); flash('escalated'); });
    onSubmit($('case-close'), async (f) => {
      show(await api('POST', base + '/close', { disposition: f.disposition, analysis: f.analysis }));
      flash('closed as ' + f.disposition.replace('_', ' '));
    });
    onSubmit($('case-note'), async (f, ev) => { show(await api('POST', base + '/notes', { text: f.text })); ev.target.reset(); });
    onSubmit($('case-attach'), async (f, ev) => {
      const file = $('case-file').files[0];
      if (!file) return;
      const data = await new Promise((resolve, reject) => {
        const r = new FileReader();
        r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
        r.onerror = () => reject(r.error);
        r.readAsDataURL(file);
      });
      show(await api('POST', base + '/attachments', { name: file.name, content_type: file.type || 'application/octet-stream', data }));
      ev.target.reset();
      flash('attached ' + file.name);
    });
  }
  load().catch(fail);
})();
