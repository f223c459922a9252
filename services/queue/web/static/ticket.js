// The ticket page. It follows the ticket's event stream and refetches its
// live parts on every change; a ticket not in a queue yet is also checked
// every two seconds to show its stage. Every action goes to the JSON API
// with If-Match: the ticket's version as this page last saw it.
'use strict';
(() => {
  const T = window.Triage;
  const page = document.querySelector('.ticket-page');
  if (!page) return;
  const id = page.dataset.ticketId;
  const api = '/api/v1/queue/tickets/' + encodeURIComponent(id);
  const fragment = '/tickets/' + encodeURIComponent(id) + '?fragment=1';
  const maxPicked = 20;

  const pageETag = () => document.querySelector('[data-etag]')?.dataset.etag || '';
  let etag = pageETag();

  async function refresh() {
    await T.refreshLive(fragment);
    etag = pageETag() || etag;
  }
  const refreshSoon = T.debounce(refresh, 200);
  T.listen(api + '/events', ['changed'], refreshSoon);

  function whilePending() {
    if (!document.querySelector('[data-kind="pending"]')) return;
    setTimeout(async () => { await refresh(); whilePending(); }, 2000);
  }
  whilePending();

  async function act(action, body, form) {
    if (form) T.clearErrors(form);
    const headers = etag ? { 'If-Match': etag } : {};
    const res = await T.api('POST', api + '/' + action, body, headers);
    const tag = res.headers.get('ETag');
    if (tag) etag = tag;
    if (res.ok) {
      T.say(T.t('done'), 'ok');
      if (form) form.reset();
      if (action === 'confirm-bug') {
        document.querySelectorAll('.pick-log:checked').forEach((c) => { c.checked = false; });
      }
      await refresh();
      updatePicked();
      return;
    }
    if (res.status === 412) {
      await refresh();
      T.say(T.t('stale'), 'error');
      return;
    }
    T.sayFailure(res, form);
  }

  T.bindActions(act, (form, body) => {
    if (form.dataset.action === 'confirm-bug') {
      const ids = picked();
      if (ids.length) body.log_ids = ids;
    }
  });

  // --- logs: read on request, and the read is recorded ---

  const show = document.getElementById('show-logs');
  show?.addEventListener('click', async () => {
    const label = show.textContent;
    show.disabled = true;
    show.textContent = T.t('logsLoading');
    const res = await T.api('POST', api + '/logs');
    if (!res.ok) {
      show.disabled = false;
      show.textContent = label;
      T.say(res.error.message, 'error');
      return;
    }
    const logs = res.data.logs || [];
    renderLogs(logs);
    const note = document.createElement('p');
    note.className = 'hint';
    note.id = 'logs-shown';
    note.textContent = logs.length ? T.t('logsShown', { n: logs.length }) : T.t('logsNone');
    show.replaceWith(note);
    refreshSoon(); // the history now shows the read
  });

  function renderLogs(logs) {
    const body = document.querySelector('#logs tbody');
    body.replaceChildren();
    for (const l of logs) {
      const tr = document.createElement('tr');
      tr.className = 'level-' + String(l.level || '').toLowerCase();
      const pick = document.createElement('input');
      pick.type = 'checkbox';
      pick.value = l.id;
      pick.className = 'pick-log';
      pick.setAttribute('aria-label', T.t('pick') + ' ' + l.id);
      const when = document.createElement('time');
      when.setAttribute('datetime', l.timestamp);
      const message = document.createElement('code');
      message.className = 'wrap';
      message.textContent = l.message;
      const cells = [pick, when, text(l.level), text(l.service), message];
      if (l.matched_by && l.matched_by.length) {
        const why = document.createElement('div');
        why.className = 'sub';
        why.textContent = l.matched_by.join(', ');
        cells[4] = wrap(message, why);
      }
      for (const c of cells) {
        const td = document.createElement('td');
        td.append(c);
        tr.append(td);
      }
      body.append(tr);
    }
    T.localizeTimes(body);
    document.getElementById('logs').hidden = false;
  }

  function text(s) { return document.createTextNode(s || ''); }
  function wrap(...nodes) {
    const d = document.createElement('div');
    d.append(...nodes);
    return d;
  }

  const picked = () => [...document.querySelectorAll('.pick-log:checked')].map((c) => c.value);

  function updatePicked() {
    const p = document.getElementById('picked-logs');
    if (!p) return;
    const n = picked().length;
    p.dataset.count = String(n);
    p.textContent = T.t('picked', { n });
  }

  document.addEventListener('change', (e) => {
    if (!e.target.classList.contains('pick-log')) return;
    if (e.target.checked && picked().length > maxPicked) {
      e.target.checked = false;
      T.say(T.t('tooManyLogs', { n: maxPicked }), 'error');
    }
    updatePicked();
  });
})();
