// The submit form posts to intake's JSON API with one Idempotency-Key per
// form load (a double click or a retry never makes two tickets), shows
// intake's field errors beside the fields, and opens the new ticket.
'use strict';
(() => {
  const T = window.Triage;
  const form = document.getElementById('submit-form');
  if (!form) return;
  const box = document.getElementById('submit-error');
  const button = document.getElementById('submit-button');
  const value = (name) => form.elements[name].value.trim();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    T.clearErrors(form);
    box.hidden = true;
    const body = {
      subject: value('subject'),
      description: form.elements.description.value,
      tenant_id: value('tenant_id'),
      channel: value('channel'),
    };
    if (value('reporter')) body.reporter = value('reporter');
    if (value('language')) body.language = value('language');
    if (value('occurred_at')) body.occurred_at = withZone(value('occurred_at'));
    const orders = value('order_ids').split(/[\s,、，]+/).filter(Boolean);
    if (orders.length) body.identifiers = { order_ids: orders };

    const label = button.textContent;
    button.disabled = true;
    button.textContent = T.t('sending');
    const res = await T.api('POST', form.dataset.intake, body, { 'Idempotency-Key': form.dataset.idempotencyKey });
    if (res.ok && res.data && res.data.ticket_id) {
      T.showToast(T.t('submitted'), 'ok');
      location.assign('/tickets/' + encodeURIComponent(res.data.ticket_id));
      return;
    }
    button.disabled = false;
    button.textContent = label;
    const unplaced = T.showFieldErrors(form, res.error.fields,
      (f) => (f.startsWith('identifiers.order_ids') ? 'order_ids' : f));
    let message = res.error.message;
    if (res.error.code === 'idempotency_key_reused') message = T.t('reused');
    else if (res.error.fields && res.error.fields.length) message = T.t('fixFields');
    box.textContent = [message, ...unplaced].join(' ');
    box.hidden = false;
  });

  // withZone writes a datetime-local value ("2026-11-21T19:05") as RFC 3339
  // with the browser's own offset ("2026-11-21T19:05:00+09:00").
  function withZone(local) {
    const d = new Date(local);
    if (Number.isNaN(d.getTime())) return local;
    const p = (n) => String(n).padStart(2, '0');
    const off = -d.getTimezoneOffset();
    const sign = off >= 0 ? '+' : '-';
    const a = Math.abs(off);
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' +
      p(d.getMinutes()) + ':' + p(d.getSeconds()) + sign + p(Math.floor(a / 60)) + ':' + p(a % 60);
  }
})();
