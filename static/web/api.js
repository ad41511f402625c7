// The only module that talks HTTP. Same calls, headers and error shape as the mobile app:
// allauth headless "app" client with X-Session-Token, REST under /api/v1/, errors
// {"status", "errors": [{"code", "message", "param"}]}.
import { currentLang } from './i18n.js';

const AUTH = '/_allauth/app/v1';
const API = '/api/v1';
const TOKEN_KEY = 'meetnow.session_token';

export class ApiError extends Error {
  constructor(status, errors, body) {
    super((errors[0] && errors[0].message) || `HTTP ${status}`);
    this.status = status;
    this.errors = errors;
    this.code = errors[0] ? errors[0].code : null;
    this.param = errors[0] ? errors[0].param : null;
    this.body = body;
  }
}

export const session = {
  get token() { return localStorage.getItem(TOKEN_KEY); },
  set(token) { if (token) localStorage.setItem(TOKEN_KEY, token); },
  clear() { localStorage.removeItem(TOKEN_KEY); },
};

// Listeners for "your session ended" (401 on the API) and "consent needed" (403 gate).
const listeners = { unauthenticated: [], consent: [] };
export function on(kind, fn) { listeners[kind].push(fn); }
function emit(kind, detail) { for (const fn of listeners[kind]) fn(detail); }

function headers(extra) {
  const h = { Accept: 'application/json', 'Accept-Language': currentLang(), ...extra };
  const token = session.token;
  if (token) h['X-Session-Token'] = token;
  return h;
}

async function parse(res) {
  const type = res.headers.get('Content-Type') || '';
  if (res.status === 204 || !type.includes('json')) return null;
  try { return await res.json(); } catch { return null; }
}

function errorsOf(status, body) {
  if (body && Array.isArray(body.errors)) return body.errors;
  return [{ code: `http_${status}`, message: `HTTP ${status}` }];
}

// REST call. Throws ApiError for every 4xx/5xx (after telling the listeners).
export async function api(method, path, body, { form } = {}) {
  const init = { method, headers: headers(body && !form ? { 'Content-Type': 'application/json' } : {}) };
  if (form) init.body = form;
  else if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path.startsWith('/') ? path : `${API}/${path}`, init);
  const data = await parse(res);
  if (res.ok) return data;
  const err = new ApiError(res.status, errorsOf(res.status, data), data);
  if (res.status === 401) emit('unauthenticated', err);
  if (res.status === 403 && (err.code === 'reconsent_required' || err.code === 'consent_withdrawn')) emit('consent', err);
  throw err;
}

// allauth headless call. 200 and 401 are both normal answers (401 = a flow is pending or
// you are not signed in); the token in meta is stored whenever it is given (it rotates).
export async function auth(method, path, body) {
  const init = { method, headers: headers(body !== undefined ? { 'Content-Type': 'application/json' } : {}) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${AUTH}${path}`, init);
  const data = (await parse(res)) || {};
  if (data.meta && data.meta.session_token) session.set(data.meta.session_token);
  if (res.status === 410) { session.clear(); return { status: 401, data, authenticated: false }; }
  if (res.status === 200 || res.status === 401) {
    const authenticated = Boolean(data.meta && data.meta.is_authenticated);
    const pending = ((data.data && data.data.flows) || []).find((f) => f.is_pending);
    return { status: res.status, data, authenticated, pending: pending ? pending.id : null };
  }
  throw new ApiError(res.status, errorsOf(res.status, data), data);
}

export const authApi = {
  config: () => auth('GET', '/config'),
  session: () => auth('GET', '/auth/session'),
  signup: (fields) => auth('POST', '/auth/signup', fields),
  verifyPhone: (code) => auth('POST', '/auth/phone/verify', { code }),
  requestCode: (phone) => auth('POST', '/auth/code/request', { phone }),
  confirmCode: (code) => auth('POST', '/auth/code/confirm', { code }),
  resendCode: () => auth('POST', '/auth/code/resend', {}),
  logout: () => auth('DELETE', '/auth/session'),
  reauthRequest: (phone) => auth('POST', '/auth/reauthenticate/code/request', phone ? { phone } : {}),
  reauthConfirm: (code) => auth('POST', '/auth/reauthenticate/code/confirm', { code }),
  providerSignup: (fields) => auth('POST', '/auth/provider/signup', fields),
};

// Social login in a browser (accounts/web_login.py): the provider's redirect, then this
// browser's session handed over as the app's session token. Same-origin calls with the
// page's CSRF token (the only calls that use cookies).
async function webPost(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { Accept: 'application/json', 'Accept-Language': currentLang(), 'Content-Type': 'application/json', 'X-CSRFToken': document.body.dataset.csrf || '' },
    body: JSON.stringify(body || {}),
  });
  const data = await parse(res);
  if (!res.ok) throw new ApiError(res.status, errorsOf(res.status, data), data);
  return data;
}

export const socialWeb = {
  // Where to send the browser for this provider.
  start: (provider) => webPost('/web/social/start', { provider }).then((r) => r.location),
  // After the provider sent the browser back: the session becomes our token.
  finish: () => webPost('/web/social/session').then((r) => { session.set(r.session_token); return r; }),
};

// Upload a file (purpose: avatar, voice_intro, chat) and wait until the worker processed it.
export async function upload(purpose, blob, filename) {
  const form = new FormData();
  form.append('purpose', purpose);
  form.append('file', blob, filename);
  let media = await api('POST', 'media', undefined, { form });
  for (let i = 0; i < 240 && media.status === 'pending'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    media = await api('GET', `media/${media.uuid}`);
  }
  if (media.status !== 'ready') throw new ApiError(400, [{ code: 'media_rejected', message: media.reject_reason || media.status }], media);
  return media;
}

export const paths = { AUTH, API };
