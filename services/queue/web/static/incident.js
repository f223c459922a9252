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
      const res = await T.api('POST', '/api/v1/incidents', T.formBody(declare));
      if (res.ok) {
        location.assign('/incidents/' + encodeURIComponent(res.data.id));
        return;
      }
      T.sayFailure(res, declare);
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
    T.sayFailure(res, form);
  }

  T.bindActions(act);
})();
