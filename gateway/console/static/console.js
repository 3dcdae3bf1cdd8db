// regledger console: helpers shared by every page (no third-party code). The pages call the JSON
// API with the session cookie and send the CSRF token of the <meta> on every unsafe request.
'use strict';

window.RL = (function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : '';
  const main = () => document.getElementById('page');

  // ApiError carries the problem+json answer of a refused request.
  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
      this.status = status;
      this.problem = problem || {};
    }
  }

  // api calls the JSON API; body (if any) is sent as JSON. It resolves to the decoded answer.
  async function api(method, path, body) {
    const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    if (method !== 'GET' && method !== 'HEAD' && csrf) opts.headers['X-CSRF-Token'] = csrf;
    const resp = await fetch(path, opts);
    const text = await resp.text();
    let data = null;
    if (text) { try { data = JSON.parse(text); } catch (e) { data = { detail: text }; } }
    if (resp.status === 401) { location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search)); }
    if (!resp.ok) throw new ApiError(resp.status, data);
    return data;
  }

  // el builds an element: el('td', {class: 'num', text: '12'}, child, ...).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (v === true) e.setAttribute(k, '');
      else e.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const td = (v, cls) => el('td', { class: cls }, v === undefined || v === null ? '' : v);
  const clear = (node) => { while (node.firstChild) node.firstChild.remove(); return node; };
  const $ = (id) => document.getElementById(id);

  // yuan formats an amount in fen as yuan with two decimals.
  function yuan(fen) {
    if (fen === undefined || fen === null || fen === '') return '';
    const n = Number(fen);
    if (!Number.isFinite(n)) return String(fen);
    return (n / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  const num = (n) => (n === undefined || n === null || n === '' ? '' : Number(n).toLocaleString('en-US'));
  function when(t) {
    if (!t || t.startsWith('0001-')) return '';
    const d = new Date(t);
    return isNaN(d) ? String(t) : d.toLocaleString('sv-SE').replace('T', ' ');
  }
  const short = (s, n) => (!s ? '' : s.length > (n || 12) ? s.slice(0, n || 12) + '…' : s);
  // mono shows an identifier shortened, with the whole of it in the title.
  const mono = (s, n) => el('code', { title: s || '' }, short(s, n));

  // attr returns the first value of key among a committed transaction's event attributes.
  function attr(tx, key) {
    for (const e of tx.events || []) for (const a of e.attributes || []) if (a.key === key) return a.value;
    return '';
  }

  function flash(msg, isError) {
    const f = $('flash');
    if (!f) return;
    f.textContent = msg;
    f.className = 'flash' + (isError ? ' error' : '');
    f.hidden = !msg;
  }
  // fail shows an error of an API call.
  function fail(err) {
    const p = err && err.problem;
    let msg = err && err.message ? err.message : String(err);
    if (p && Array.isArray(p.violations) && p.violations.length) {
      msg += ' — ' + p.violations.map((v) => v.rule + (v.article ? ' (' + v.article + ')' : '') + ': ' + v.message).join('; ');
    }
    flash(msg, true);
  }

  function sevBadge(s) { return el('span', { class: 'sev sev-' + (s || 'low') }, s || ''); }
  const txLink = (hash, label) => el('a', { href: '/console/tx/' + encodeURIComponent(hash) }, label || short(hash, 12));

  const page = main() ? main().dataset : {};
  const canAct = !!page.canAct;

  // formData reads a form's named fields as an object of trimmed strings.
  function formData(form) {
    const out = {};
    for (const [k, v] of new FormData(form).entries()) if (typeof v === 'string') out[k] = v.trim();
    return out;
  }

  // onSubmit runs fn on a form's submission, with the button disabled while it runs.
  function onSubmit(form, fn) {
    if (!form) return;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const btns = form.querySelectorAll('button');
      btns.forEach((b) => { b.disabled = true; });
      try { await fn(formData(form), ev); } catch (err) { fail(err); } finally { btns.forEach((b) => { b.disabled = false; }); }
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    const out = $('logout');
    if (out) {
      out.addEventListener('click', async () => {
        try { await api('POST', '/api/v1/auth/logout'); } catch (e) { /* the session may be gone already */ }
        location.assign('/login');
      });
    }
  });

  return { api, ApiError, el, td, clear, $, yuan, num, when, short, mono, attr, flash, fail, sevBadge, txLink, page, canAct, formData, onSubmit, csrf };
})();
