// Login: posts the credentials as JSON; a one-time password must be changed before going on.
'use strict';
(function () {
  const { $ } = RL;
  const form = $('login-form');
  const next = form.dataset.next || '/';
  let csrf = '';
  let password = '';

  function show(id, msg) { const p = $(id); p.textContent = msg; p.hidden = !msg; }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    show('login-error', '');
    password = $('login-password').value;
    try {
      const resp = await fetch('/api/v1/auth/login', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ name: $('login-name').value.trim(), password }),
      });
      const data = await resp.json().catch(() => ({}));
      if (!resp.ok) { show('login-error', data.detail || data.title || 'login failed'); return; }
      csrf = data.csrf_token || '';
      if (data.must_change_password) {
        form.hidden = true;
        $('password-form').hidden = false;
        $('new-password').focus();
        return;
      }
      location.assign(next);
    } catch (err) {
      show('login-error', String(err));
    }
  });

  $('password-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    show('password-error', '');
    const resp = await fetch('/api/v1/auth/password', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ old_password: password, new_password: $('new-password').value }),
    });
    if (!resp.ok) {
      const data = await resp.json().catch(() => ({}));
      show('password-error', data.detail || data.title || 'the change failed');
      return;
    }
    password = '';
    location.assign(next);
  });
})();
