// The queue page: the list follows the queue's event stream. Any change
// refetches the list's live part from the server (debounced, so a storm
// of tickets costs one fetch); a reset does the same.
'use strict';
(() => {
  const T = window.Triage;
  const page = document.querySelector('.queue-page');
  if (!page) return;
  const state = document.getElementById('live-state');
  const refresh = T.debounce(() => T.refreshLive(page.dataset.fragment), 300);
  T.listen('/api/v1/queue/events', ['hello', 'change', 'reset'], refresh, (on) => {
    state.dataset.state = on ? 'on' : 'off';
    state.textContent = T.t(on ? 'liveOn' : 'liveOff');
  });
})();
