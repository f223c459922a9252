// Shared by every page: the CSRF token, calls to the JSON API, live
// fragments swapped in place, times in the reader's own zone, messages.
// No framework and no build step; pages add their own small script.
'use strict';
(() => {
  const dataBlock = document.getElementById('ui-text');
  const text = dataBlock ? JSON.parse(dataBlock.textContent || '{}') : {};

  // t returns a UI string in the page's language, with {name} filled in.
  function t(key, vars) {
    let s = text[key] ?? key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll('{' + k + '}', String(v));
    return s;
  }

  const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || '';

  // api calls the JSON API with the session cookie, sending the CSRF token
  // on every request. It never throws: the answer says what happened.
  async function api(method, url, body, headers) {
    const h = { Accept: 'application/json', 'X-CSRF-Token': csrfToken(), ...(headers || {}) };
    const init = { method, headers: h, credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined) {
      h['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      return { ok: false, status: 0, headers: new Headers(), error: { code: 'network', message: t('network') } };
    }
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    const out = { ok: res.ok, status: res.status, headers: res.headers, data };
    if (!res.ok) out.error = (data && data.error) || { code: 'http_' + res.status, message: res.status + ' ' + res.statusText };
    return out;
  }

  // --- forms ---

  function clearErrors(form) {
    form.querySelectorAll('[data-error-for]').forEach((el) => { el.hidden = true; el.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  }

  // showFieldErrors puts each field's message beside its field, in the
  // page's language with the server's detail after it; it returns the
  // ones that have no place in the form.
  function showFieldErrors(form, fields, fieldName) {
    const unplaced = [];
    for (const f of fields || []) {
      const name = fieldName ? fieldName(f.field) : f.field;
      const box = form.querySelector('[data-error-for="' + CSS.escape(name) + '"]');
      if (!box) {
        unplaced.push(f.field + ': ' + f.message);
        continue;
      }
      const line = document.createElement('span');
      line.textContent = (text['field.' + f.code] || '') + ' ';
      const detail = document.createElement('span');
      detail.className = 'detail';
      detail.textContent = f.message.replace(/^is required:?\s*/, '');
      line.append(detail);
      box.append(line);
      box.hidden = false;
      form.querySelector('[name="' + CSS.escape(name) + '"]')?.setAttribute('aria-invalid', 'true');
    }
    form.querySelector('[aria-invalid="true"]')?.focus();
    return unplaced;
  }

  // --- live parts of a page ---

  // valuesOf remembers what the reader typed or picked inside el, so a
  // live update does not throw it away.
  function valuesOf(el) {
    const kept = [];
    el.querySelectorAll('input, textarea, select').forEach((f) => {
      if (f.type === 'hidden') return;
      if (f.type === 'checkbox' || f.type === 'radio') {
        if (f.checked !== f.defaultChecked) kept.push({ sel: inputSelector(f), checked: f.checked });
      } else if (f.tagName === 'SELECT' || f.value !== f.defaultValue) {
        kept.push({ sel: inputSelector(f), value: f.value });
      }
    });
    return kept;
  }

  function inputSelector(f) {
    if (f.id) return '#' + CSS.escape(f.id);
    return '[name="' + CSS.escape(f.name) + '"][value="' + CSS.escape(f.value) + '"]';
  }

  // refreshLive fetches the page's live fragment and swaps each of its
  // data-live sections into the page. A fragment of another shape (a
  // ticket that just reached the queue, seen by an engineer) reloads.
  async function refreshLive(url) {
    let res;
    try {
      res = await fetch(url, { headers: { Accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' });
    } catch (e) {
      return false;
    }
    if (res.redirected && new URL(res.url).pathname === '/login') {
      showToast(t('signedOut'), 'error');
      return false;
    }
    const html = await res.text();
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const fresh = [...doc.querySelectorAll('[data-live]')];
    if (fresh.length === 0) return false;
    if (fresh.some((el) => !document.querySelector('[data-live="' + CSS.escape(el.dataset.live) + '"]'))) {
      location.reload();
      return true;
    }
    const focused = document.activeElement && document.activeElement.id;
    for (const el of fresh) {
      const old = document.querySelector('[data-live="' + CSS.escape(el.dataset.live) + '"]');
      const kept = valuesOf(old);
      const node = document.importNode(el, true);
      old.replaceWith(node);
      for (const k of kept) {
        const f = node.querySelector(k.sel);
        if (!f) continue;
        if ('checked' in k) f.checked = k.checked;
        else if (f.tagName !== 'SELECT' || [...f.options].some((o) => o.value === k.value)) f.value = k.value;
      }
      localizeTimes(node);
    }
    if (focused) document.getElementById(focused)?.focus();
    document.dispatchEvent(new CustomEvent('triage:live'));
    return true;
  }

  // listen opens an event stream (which reconnects by itself, sending
  // Last-Event-ID) and reports whether it is connected.
  function listen(url, names, onEvent, onState) {
    const es = new EventSource(url);
    es.addEventListener('open', () => onState && onState(true));
    es.addEventListener('error', () => onState && onState(es.readyState === EventSource.OPEN));
    for (const n of names) es.addEventListener(n, onEvent);
    window.addEventListener('pagehide', () => es.close());
    return es;
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  // --- times in the reader's zone and language ---

  const lang = document.documentElement.lang || 'en';
  const absolute = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
  const relative = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });

  function ago(d) {
    const s = (d.getTime() - Date.now()) / 1000;
    const a = Math.abs(s);
    if (a < 60) return relative.format(Math.round(s), 'second');
    if (a < 3600) return relative.format(Math.round(s / 60), 'minute');
    if (a < 86400 * 2) return relative.format(Math.round(s / 3600), 'hour');
    return relative.format(Math.round(s / 86400), 'day');
  }

  function localizeTimes(root) {
    root.querySelectorAll('time[datetime]').forEach((el) => {
      const d = new Date(el.getAttribute('datetime'));
      if (Number.isNaN(d.getTime())) return;
      el.title = absolute.format(d);
      el.textContent = el.hasAttribute('data-relative') ? ago(d) : absolute.format(d);
    });
  }

  // --- messages ---

  let toastTimer = null;
  function showToast(message, kind) {
    const el = document.getElementById('toast');
    if (!el) return;
    el.textContent = message;
    el.className = 'toast toast-' + (kind || 'ok');
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 5000);
  }

  localizeTimes(document);
  setInterval(() => localizeTimes(document), 30000);

  // say shows an action's outcome in the page's #action-result box, or as
  // a toast where the page has none.
  function say(message, kind) {
    const box = document.getElementById('action-result');
    if (!box) {
      showToast(message, kind);
      return;
    }
    box.textContent = message;
    box.className = 'alert alert-' + kind;
    box.hidden = false;
  }

  // formBody is a form's non-empty fields (not its CSRF token).
  function formBody(form) {
    const body = {};
    for (const [k, v] of new FormData(form)) {
      if (k !== 'csrf' && typeof v === 'string' && v.trim() !== '') body[k] = v;
    }
    return body;
  }

  // sayFailure shows an API error: field errors beside their fields (when
  // a form sent it), the rest in the page's message.
  function sayFailure(res, form) {
    const unplaced = form ? showFieldErrors(form, res.error.fields) : [];
    say([res.error.message, ...unplaced].join(' '), 'error');
  }

  // bindActions sends every button[data-action] and form[data-action] of
  // the page to act(action, body, form), with the form's non-empty fields
  // as the body (extend may add to it), the button held while it runs.
  function bindActions(act, extend) {
    document.addEventListener('click', (e) => {
      const button = e.target.closest('button[data-action]');
      if (!button) return;
      e.preventDefault();
      button.disabled = true;
      act(button.dataset.action).finally(() => { button.disabled = false; });
    });
    document.addEventListener('submit', (e) => {
      const form = e.target.closest('form[data-action]');
      if (!form) return;
      e.preventDefault();
      const body = formBody(form);
      if (extend) extend(form, body);
      const button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      act(form.dataset.action, body, form).finally(() => { if (button) button.disabled = false; });
    });
  }

  window.Triage = { t, api, clearErrors, showFieldErrors, refreshLive, listen, debounce, localizeTimes, showToast, say, formBody, sayFailure, bindActions };
})();
