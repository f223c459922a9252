// The incident pages. Buttons and forms call the incident API; the page's
// live parts are fetched again after each action and every few seconds, so
// the count grows as tickets join. The declare form creates an incident and
// opens it.
'use strict';
(() => {
  const T = window.Triage;
  const declare = document.getElementById('declare-form');
  if (declare) {
    declare.addEventListener('submit', async (e) => {
      e.preventDefault();
      T.clearErrors(declare);
      const body = {};
      for (const [k, v] of new FormData(declare)) if (typeof v === 'string' && v.trim() !== '') body[k] = v;
      const res = await T.api('POST', '/api/v1/incidents', body);
      if (res.ok) {
        location.assign('/incidents/' + encodeURIComponent(res.data.id));
        return;
      }
      const unplaced = T.showFieldErrors(declare, res.error.fields);
      T.say([res.error.message, ...unplaced].join(' '), 'error');
    });
  }

  const page = document.querySelector('.incident-page');
  if (!page) return;
  const api = '/api/v1/incidents/' + encodeURIComponent(page.dataset.incidentId);
  const refresh = () => T.refreshLive(location.pathname + '?fragment=1');
  setInterval(refresh, 5000);

  async function act(action, body, form) {
    if (form) T.clearErrors(form);
    const res = await T.api('POST', api + '/' + action, body || {});
    if (res.ok) {
      await refresh();
      T.say(T.t('done'), 'ok');
      return;
    }
    const unplaced = form ? T.showFieldErrors(form, res.error.fields) : [];
    T.say([res.error.message, ...unplaced].join(' '), 'error');
  }

  T.bindActions(act);
})();
