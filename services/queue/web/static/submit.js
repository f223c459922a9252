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

// Declared incidents: while staff type, the ones that match the ticket's
// words move to the top and say so, so the customer can be answered at
// once. Words are compared as they are for spaced scripts and as
// two-character pieces for Japanese, which has no spaces.
(() => {
  const T = window.Triage;
  const form = document.getElementById('submit-form');
  if (!form) return;
  const stop = new Set(['the', 'and', 'for', 'not', 'can', 'with', 'are', 'was', 'has', 'have', 'from', 'this', 'that']);
  const cjk = /[\u3040-\u30ff\u3400-\u9fff]/;
  function terms(text) {
    const out = new Set();
    for (const w of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
      if (!w) continue;
      if (cjk.test(w)) {
        for (let i = 0; i + 1 < w.length; i++) out.add(w.slice(i, i + 2));
      } else if (w.length >= 3 && !stop.has(w)) {
        out.add(w);
      }
    }
    return out;
  }
  function match() {
    const typed = terms(form.elements.subject.value + ' ' + form.elements.description.value);
    const list = document.querySelector('.declared-list');
    if (!list) return;
    const items = [...list.querySelectorAll('li.declared')];
    const scored = items.map((li, i) => {
      let n = 0;
      for (const t of terms(li.dataset.terms || '')) if (typed.has(t)) n++;
      li.classList.toggle('matching', n > 0);
      li.querySelector('.match-badge').hidden = n === 0;
      return { li, n, i };
    });
    scored.sort((a, b) => b.n - a.n || a.i - b.i);
    for (const s of scored) list.appendChild(s.li);
  }
  const soon = T.debounce(match, 150);
  form.elements.subject.addEventListener('input', soon);
  form.elements.description.addEventListener('input', soon);
  // Incidents declared while the form is open appear too.
  setInterval(() => T.refreshLive(location.pathname + '?fragment=1'), 30000);
  document.addEventListener('triage:live', match);
})();
