// Entry point: language, session check, consent gate, hash router, realtime.
import { api, authApi, on, session } from './api.js';
import { h, mount, notify } from './dom.js';
import { applyLang, currentLang, setLang, t } from './i18n.js';
import { Realtime } from './realtime.js';
import * as auth from './screens/auth.js';
import * as chat from './screens/chat.js';
import * as profile from './screens/profile.js';
import * as privacy from './screens/privacy.js';
import * as calls from './screens/call.js';
import * as dating from './screens/dating.js';

export const state = { me: null, rt: null, config: null, consent: null, route: null };
const body = document.body;
export const env = {
  devSmsConsole: body.dataset.devSmsConsole === '1',
  defaultRegion: body.dataset.defaultRegion || 'CN',
  social: JSON.parse(body.dataset.social || '[]'),
  erasureGraceDays: Number(body.dataset.erasureGraceDays || 15),
};

// Screens by route. Public ones work without a session.
const routes = {
  login: { screen: auth.login, public: true },
  signup: { screen: auth.signup, public: true },
  social: { screen: auth.social, public: true },
  document: { screen: auth.documentScreen, public: true },
  deleted: { screen: auth.deleted, public: true },
  support: { screen: auth.contactSupport, public: true },
  consent: { screen: auth.consent },
  chat: { screen: chat.list, nav: 'chat' },
  c: { screen: chat.conversation, nav: 'chat' },
  new: { screen: chat.newConversation, nav: 'chat' },
  dating: { screen: dating.screen, nav: 'dating' },
  profile: { screen: profile.profile, nav: 'profile' },
  user: { screen: profile.userCard, nav: 'chat' },
  privacy: { screen: privacy.centre, nav: 'privacy' },
};

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function drawNav(active) {
  const nav = document.getElementById('nav');
  if (!state.me) { nav.hidden = true; nav.replaceChildren(); return; }
  nav.hidden = false;
  const item = (key, href, label, extra) => h('a', { href, 'aria-current': active === key ? 'page' : false }, label, extra || null);
  const unread = state.unreadTotal ? h('span', { class: 'badge', 'aria-label': t('unread_n', { n: state.unreadTotal }) }, String(state.unreadTotal)) : null;
  // Message requests and group invitations waiting for an answer (chat.js keeps the count).
  const waiting = state.pending ? `${state.pending.count}${state.pending.more ? '+' : ''}` : '';
  const pending = waiting ? h('span', { class: 'badge pending', id: 'pending-badge', title: t('pending_n', { n: waiting }), 'aria-label': t('pending_n', { n: waiting }) }, waiting) : null;
  nav.replaceChildren(
    item('chat', '#/chat', t('nav_chat'), [unread, pending]),
    item('dating', '#/dating/posts', t('nav_dating')),
    item('profile', '#/profile', t('nav_profile')),
    item('privacy', '#/privacy', t('nav_privacy')),
    h('button', { type: 'button', class: 'link', id: 'logout', onclick: logout }, t('log_out')),
  );
}
export function refreshNav() { drawNav(state.route && routes[state.route.name] ? routes[state.route.name].nav : null); }

async function route() {
  const parts = (location.hash.replace(/^#\/?/, '') || '').split('/').filter(Boolean);
  let name = parts[0] || (state.me ? 'chat' : 'login');
  if (!routes[name]) name = state.me ? 'chat' : 'login';
  const def = routes[name];
  if (!def.public && !state.me) { go('#/login'); return; }
  if (state.consent && state.me && name !== 'consent' && name !== 'document' && name !== 'privacy') { go('#/consent'); return; }
  if ((name === 'login' || name === 'signup') && state.me) { go('#/chat'); return; }
  state.route = { name, args: parts.slice(1) };
  drawNav(def.nav);
  chat.leave();
  dating.leave();
  try {
    await def.screen(...parts.slice(1));
  } catch (err) {
    if (err && err.status === 401) return;
    if (err && err.status === 404) mount(h('section', { class: 'card' }, h('h1', {}, t('not_found'))));
    else notify(err.message || String(err), 'error');
  }
  const main = document.getElementById('main');
  if (!main.contains(document.activeElement) || document.activeElement === document.body) main.focus({ preventScroll: true });
}

// After log-in (or at start with a stored token): who am I, consent, realtime.
export async function startSession() {
  try {
    state.me = await api('GET', 'me');
    state.consent = null;
  } catch (err) {
    if (err.status === 403 && err.code) {
      state.consent = err.code;
      state.me = { pending: true };
    } else { throw err; }
  }
  if (!state.consent) startRealtime();
  syncLocale();
}

// Tell the API this browser's time zone (dates in the export, the admin) and, for a new
// account, the language chosen here. Both are ordinary profile fields (PATCH /me).
function syncLocale() {
  if (!state.me || state.me.pending) return;
  const patch = {};
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && 'time_zone' in state.me && state.me.time_zone !== zone) patch.time_zone = zone;
  const lang = currentLang().toLowerCase();
  if ('language' in state.me && state.me.language !== lang) patch.language = lang;
  if (Object.keys(patch).length) api('PATCH', 'me', patch).then((me) => { state.me = me; }).catch(() => {});
}

export function startRealtime() {
  if (state.rt) state.rt.stop();
  const rt = new Realtime();
  state.rt = rt;
  rt.addEventListener('frame', (e) => { chat.onFrame(e.detail); calls.onFrame(e.detail); dating.onFrame(e.detail); });
  rt.addEventListener('status', (e) => {
    document.body.classList.toggle('offline', !e.detail.online);
    document.body.dataset.socket = e.detail.online ? 'open' : 'closed';
    chat.onStatus(e.detail.online);
  });
  rt.addEventListener('refetch', () => chat.refetch());
  rt.addEventListener('ended', () => signedOut());
  rt.addEventListener('consent', (e) => { if (state.rt !== rt) return; state.consent = e.detail.code || 'reconsent_required'; go('#/consent'); });
  rt.start().catch(() => {});
  chat.loadUnread();
  chat.loadPending();
}

export function signedOut(message, target = '#/login') {
  if (state.rt) state.rt.stop();
  state.rt = null;
  state.me = null;
  state.consent = null;
  state.unreadTotal = 0;
  state.pending = null;
  session.clear();
  localStorage.removeItem('meetnow.sync_cursor');
  calls.reset();
  if (message) notify(message);
  go(target);
}

async function logout() {
  try { await authApi.logout(); } catch { /* the token is forgotten either way */ }
  signedOut(t('logged_out'));
}

on('unauthenticated', () => { if (state.me) signedOut(t('session_ended')); });
// A 403 "consent needed" can answer a request sent just before logging out (a privacy
// centre poll, say); once signed out it is stale and must not pull the login screen away.
on('consent', (err) => { if (!state.me) return; state.consent = err.code; if (state.route && state.route.name !== 'consent') go('#/consent'); });

async function boot() {
  const select = document.getElementById('lang');
  applyLang();
  select.addEventListener('change', () => {
    setLang(select.value);
    refreshNav();
    route();
    // SMS codes, push texts and the export's guide follow the account's language.
    if (state.me && !state.me.pending) api('PATCH', 'me', { language: select.value.toLowerCase() }).catch(() => {});
  });
  authApi.config().then((r) => { state.config = r.data && r.data.data; }).catch(() => {});
  if (session.token) {
    try {
      const s = await authApi.session();
      if (s.authenticated) await startSession();
      else session.clear();
    } catch { session.clear(); }
  }
  window.addEventListener('hashchange', route);
  await route();
}

boot();
