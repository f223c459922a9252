// The tokens page: issue a token (its text is shown once, with a copy
// button) and revoke one after an explicit confirmation, both through the
// admin API.
'use strict';
(() => {
  const T = window.Triage;
  const form = document.getElementById('issue-form');
  if (!form) return;
  const box = document.getElementById('tokens-error');
  const fragment = '/admin/tokens?fragment=1';
  const day = 24 * 3600 * 1e9; // the API's ttl is a Go duration, in nanoseconds

  function fail(res) {
    box.textContent = res.error.message;
    box.hidden = false;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    T.clearErrors(form);
    box.hidden = true;
    const body = {
      name: form.elements.name.value.trim(),
      role: form.elements.role.value,
      ttl: Number(form.elements.ttl_days.value) * day,
    };
    const res = await T.api('POST', '/api/v1/admin/tokens', body);
    if (!res.ok) {
      T.showFieldErrors(form, res.error.fields);
      fail(res);
      return;
    }
    document.getElementById('new-token-name').textContent = res.data.record.name;
    const out = document.getElementById('new-token-text');
    out.value = res.data.token;
    document.getElementById('new-token').hidden = false;
    document.getElementById('copy-token').textContent = T.t('copy');
    out.select();
    form.reset();
    T.showToast(T.t('issued'), 'ok');
    await T.refreshLive(fragment);
  });

  document.getElementById('copy-token').addEventListener('click', async (e) => {
    const out = document.getElementById('new-token-text');
    try {
      await navigator.clipboard.writeText(out.value);
    } catch (err) {
      out.select(); // no clipboard API outside a secure context
      document.execCommand('copy');
    }
    e.target.textContent = T.t('copied');
  });

  const confirmFor = (id) => document.querySelector('[data-confirm-for="' + CSS.escape(id) + '"]');
  const revokeFor = (id) => document.querySelector('[data-revoke="' + CSS.escape(id) + '"]');

  document.addEventListener('click', async (e) => {
    const ask = e.target.closest('[data-revoke]');
    if (ask) {
      ask.hidden = true;
      confirmFor(ask.dataset.revoke).hidden = false;
      return;
    }
    const cancel = e.target.closest('[data-revoke-cancel]');
    if (cancel) {
      confirmFor(cancel.dataset.revokeCancel).hidden = true;
      revokeFor(cancel.dataset.revokeCancel).hidden = false;
      return;
    }
    const yes = e.target.closest('[data-revoke-confirm]');
    if (!yes) return;
    yes.disabled = true;
    const res = await T.api('POST', '/api/v1/admin/tokens/' + encodeURIComponent(yes.dataset.revokeConfirm) + '/revoke');
    if (!res.ok) {
      yes.disabled = false;
      fail(res);
      return;
    }
    const shown = document.getElementById('new-token-text');
    if (shown.value.startsWith('trg_' + yes.dataset.revokeConfirm + '_')) {
      shown.value = '';
      document.getElementById('new-token').hidden = true;
    }
    T.showToast(T.t('revoked'), 'ok');
    await T.refreshLive(fragment);
  });
})();
