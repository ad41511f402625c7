// Sign up and log in by phone (allauth headless, app client), consent, documents.
import { ApiError, api, authApi, socialWeb } from '../api.js';
import { env, go, startSession, state } from '../app.js';
import { field, h, mount, notify } from '../dom.js';
import { t } from '../i18n.js';

// The documents everyone must accept. Others (the identity verification notice) are
// separate, optional consents: never accepted as part of sign-up or re-consent (P7).
const REQUIRED_KINDS = ['privacy_policy', 'user_agreement'];
const required = (docs) => docs.filter((d) => REQUIRED_KINDS.includes(d.kind));

let policies = null;
async function currentPolicies() {
  if (!policies) policies = required(await api('GET', 'policies'));
  return policies;
}

function errorBox() { return h('div', { class: 'errors', role: 'alert', 'aria-live': 'assertive' }); }
function showError(box, err) {
  const list = err instanceof ApiError ? err.errors : [{ message: String(err) }];
  box.replaceChildren(...list.map((e) => h('p', {}, e.message || e.code)));
}

function devHint() {
  return env.devSmsConsole ? h('p', { class: 'hint dev', id: 'dev-sms-hint' }, t('dev_sms_hint')) : null;
}

// Providers the server can send this browser to (accounts/web_login.py), from the page.
function socialButtons() {
  const providers = env.social;
  if (!providers.length) return null;
  const errors = errorBox();
  return h('div', { class: 'social' }, h('p', {}, t('or_continue_with')),
    providers.map((p) => h('button', { type: 'button', class: 'secondary', id: `social-${p.id}`, onclick: async (e) => {
      e.currentTarget.disabled = true;
      try { location.assign(await socialWeb.start(p.id)); } catch (err) { showError(errors, err); e.target.disabled = false; }
    } }, p.name)),
    errors);
}

// Back from the provider (#/social, with ?error=… when it failed): take over the
// browser's session as our token, then log in or finish the sign-up (age, consent).
export async function social() {
  const params = new URLSearchParams(location.search);
  const error = params.get('error');
  if (location.search) history.replaceState(null, '', `${location.pathname}#/social`);
  const fail = (message) => mount(h('section', { class: 'card', id: 'social-failed' },
    h('h1', {}, t('social_failed_title')), h('p', { role: 'alert' }, message),
    h('p', {}, h('a', { href: '#/login' }, t('log_in')))));
  if (error) { fail(error === 'cancelled' ? t('social_cancelled') : t('social_failed')); return; }
  try { await socialWeb.finish(); } catch (err) { fail(err.message); return; }
  const r = await authApi.session();
  if (r.authenticated) {
    await startSession();
    notify(t('welcome'));
    go(state.consent ? '#/consent' : '#/chat');
    return;
  }
  if (r.pending !== 'provider_signup') { fail(t('social_failed')); return; }
  await providerSignup();
}

// A new account from a provider: the same age and consent step as a phone sign-up.
async function providerSignup() {
  const docs = await currentPolicies();
  const errors = errorBox();
  const today = new Date().toISOString().slice(0, 10);
  const form = h('form', { class: 'card', id: 'provider-signup-form', onsubmit: async (e) => {
    e.preventDefault();
    errors.replaceChildren();
    if (!form.querySelector('#adult').checked) { showError(errors, new ApiError(400, [{ message: t('age_required') }])); return; }
    if (!form.querySelector('#accept').checked) { showError(errors, new ApiError(400, [{ message: t('consent_needed') }])); return; }
    const fields = { date_of_birth: form.querySelector('#dob').value };
    for (const d of docs) fields[`${d.kind}_version`] = d.version;
    try {
      const r = await authApi.providerSignup(fields);
      if (r.authenticated) { await startSession(); notify(t('welcome')); go('#/chat'); return; }
      const list = (r.data && r.data.errors) || [];
      showError(errors, new ApiError(r.status, list.length ? list : [{ message: t('social_failed') }]));
    } catch (err) { showError(errors, err); }
  } },
  h('h1', {}, t('sign_up')),
  h('p', {}, t('social_signup_text')),
  field(t('date_of_birth'), { id: 'dob', name: 'date_of_birth', type: 'date', required: true, max: today, autocomplete: 'bday' }),
  h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'adult', required: true }), h('label', { for: 'adult' }, t('age_confirm'))),
  h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'accept', required: true }),
    h('label', { for: 'accept' }, t('accept_docs'), ' ', docs.map((d, i) => [i ? t('and') : '', docLink(d)]))),
  errors,
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('continue'))));
  mount(form);
}

// Step two of both flows: the code. `confirm` sends it; `resend` asks for another.
function codeStep(title, confirm, resend) {
  const errors = errorBox();
  const form = h('form', { class: 'card', id: 'code-form', onsubmit: async (e) => {
    e.preventDefault();
    const code = form.querySelector('#code').value.trim();
    button.disabled = true;
    try {
      const r = await confirm(code);
      if (r.authenticated) {
        await startSession();
        notify(t('welcome'));
        go(state.consent ? '#/consent' : '#/chat');
      } else {
        showError(errors, new ApiError(409, [{ message: t('code_flow_expired') }]));
      }
    } catch (err) { showError(errors, err); } finally { button.disabled = false; }
  } },
  h('h1', {}, title),
  h('p', {}, t('code_sent')),
  devHint(),
  field(t('code'), { id: 'code', name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: 8 }),
  errors);
  const button = h('button', { type: 'submit', id: 'code-submit' }, t('continue'));
  form.append(h('div', { class: 'actions' }, button,
    h('button', { type: 'button', class: 'secondary', onclick: async () => {
      try { await resend(); notify(t('code_resent')); } catch (err) { showError(errors, err); }
    } }, t('resend_code'))));
  mount(form);
  form.querySelector('#code').focus();
}

export async function login() {
  const errors = errorBox();
  const form = h('form', { class: 'card', id: 'login-form', onsubmit: async (e) => {
    e.preventDefault();
    const phone = form.querySelector('#phone').value.trim();
    try {
      const r = await authApi.requestCode(phone);
      if (r.authenticated) { await startSession(); go('#/chat'); return; }
      codeStep(t('log_in'), authApi.confirmCode, authApi.resendCode);
    } catch (err) { showError(errors, err); }
  } },
  h('h1', {}, t('log_in')),
  field(t('phone'), { id: 'phone', name: 'phone', type: 'tel', autocomplete: 'tel', required: true }, t('phone_hint', { region: env.defaultRegion })),
  errors,
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('send_code'))),
  h('p', {}, t('no_account'), ' ', h('a', { href: '#/signup' }, t('sign_up'))),
  h('p', {}, h('a', { href: '#/support', id: 'support-link' }, t('cant_log_in'))),
  socialButtons());
  mount(form);
}

// "Can't log in? Contact support": the public form (no session; docs/admin.md).
const TOPICS = ['lost_number', 'account_access', 'privacy_request', 'other'];
export async function contactSupport() {
  const errors = errorBox();
  const form = h('form', { class: 'card', id: 'support-form', onsubmit: async (e) => {
    e.preventDefault();
    errors.replaceChildren();
    const value = (id) => form.querySelector(id).value.trim();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const r = await api('POST', 'support/public-tickets', {
        topic: value('#topic'), phone: value('#support-phone'), contact: value('#support-contact'), text: value('#support-text'),
      });
      mount(h('div', { class: 'card', id: 'support-sent' },
        h('h1', {}, t('support_title')),
        h('p', { role: 'status' }, t('support_sent', { reference: r.reference })),
        h('p', {}, h('a', { href: '#/login' }, t('back_to_login')))));
    } catch (err) { showError(errors, err); button.disabled = false; }
  } },
  h('h1', {}, t('support_title')),
  h('p', {}, t('support_intro')),
  h('div', { class: 'field' }, h('label', { for: 'topic' }, t('support_topic')),
    h('select', { id: 'topic', name: 'topic' }, TOPICS.map((k) => h('option', { value: k }, t(`topic_${k}`))))),
  field(t('support_phone'), { id: 'support-phone', name: 'phone', type: 'tel', autocomplete: 'tel' }, t('phone_hint', { region: env.defaultRegion })),
  field(t('support_contact'), { id: 'support-contact', name: 'contact', maxlength: 200 }, t('support_contact_hint')),
  field(t('support_text'), { tag: 'textarea', id: 'support-text', name: 'text', required: true, maxlength: 4000, rows: 6 }),
  errors,
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('support_send'))),
  h('p', {}, h('a', { href: '#/login' }, t('back_to_login'))));
  mount(form);
}

function docLink(doc) {
  return h('a', { href: `#/document/${doc.kind}`, target: '_blank', rel: 'noopener' }, `${doc.title} (${doc.version})`);
}

export async function signup() {
  const docs = await currentPolicies();
  const errors = errorBox();
  const today = new Date().toISOString().slice(0, 10);
  const form = h('form', { class: 'card', id: 'signup-form', onsubmit: async (e) => {
    e.preventDefault();
    errors.replaceChildren();
    if (!form.querySelector('#adult').checked) { showError(errors, new ApiError(400, [{ message: t('age_required') }])); return; }
    if (!form.querySelector('#accept').checked) { showError(errors, new ApiError(400, [{ message: t('consent_needed') }])); return; }
    const fields = { phone: form.querySelector('#phone').value.trim(), date_of_birth: form.querySelector('#dob').value };
    for (const d of docs) fields[`${d.kind}_version`] = d.version;
    try {
      const r = await authApi.signup(fields);
      if (r.authenticated) { await startSession(); go('#/chat'); return; }
      codeStep(t('sign_up'), authApi.verifyPhone, () => authApi.requestCode(fields.phone).then(() => null));
    } catch (err) { showError(errors, err); }
  } },
  h('h1', {}, t('sign_up')),
  field(t('phone'), { id: 'phone', name: 'phone', type: 'tel', autocomplete: 'tel', required: true }, t('phone_hint', { region: env.defaultRegion })),
  field(t('date_of_birth'), { id: 'dob', name: 'date_of_birth', type: 'date', required: true, max: today, autocomplete: 'bday' }),
  h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'adult', required: true }), h('label', { for: 'adult' }, t('age_confirm'))),
  h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'accept', required: true }),
    h('label', { for: 'accept' }, t('accept_docs'), ' ', docs.map((d, i) => [i ? t('and') : '', docLink(d)]))),
  errors,
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('send_code'))),
  h('p', {}, t('have_account'), ' ', h('a', { href: '#/login' }, t('log_in'))),
  socialButtons());
  mount(form);
}

export async function documentScreen(kind) {
  const r = await api('GET', 'privacy/documents/current');
  const doc = r.documents.find((d) => d.kind === kind) || r.documents[0];
  mount(h('article', { class: 'card document' },
    h('h1', {}, doc.title),
    h('p', { class: 'meta' }, t('version_published', { version: doc.version, date: new Date(doc.published_at).toLocaleDateString() })),
    doc.body.split(/\n{2,}/).map((p) => h('p', {}, p))));
}

// Re-consent: a material new version was published, or consent was withdrawn.
export async function consent() {
  const [stateNow, current] = await Promise.all([api('GET', 'privacy/consents'), api('GET', 'privacy/documents/current')]);
  if (!stateNow.required) { state.consent = null; await startSession(); go('#/chat'); return; }
  const documents = required(current.documents);
  const accepted = new Set(stateNow.history.filter((c) => c.action !== 'withdrawn').map((c) => `${c.kind}:${c.version}`));
  const errors = errorBox();
  const form = h('form', { class: 'card', id: 'consent-form', onsubmit: async (e) => {
    e.preventDefault();
    const versions = {};
    for (const d of documents) versions[d.kind] = d.version;
    try {
      await api('POST', 'privacy/consents', { action: 'accept', versions });
      state.consent = null;
      await startSession();
      notify(t('thanks_consent'));
      go('#/chat');
    } catch (err) { showError(errors, err); }
  } },
  h('h1', {}, stateNow.required === 'consent_withdrawn' ? t('consent_withdrawn_title') : t('reconsent_title')),
  h('p', {}, stateNow.required === 'consent_withdrawn' ? t('consent_withdrawn_text') : t('reconsent_text')),
  h('ul', {}, documents.map((d) => h('li', {}, docLink(d), accepted.has(`${d.kind}:${d.version}`) ? null : h('span', { class: 'tag' }, t('material_change'))))),
  h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'accept', required: true }), h('label', { for: 'accept' }, t('accept_current'))),
  errors,
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('accept')), h('a', { href: '#/privacy', class: 'button secondary' }, t('nav_privacy'))));
  mount(form);
}

export async function deleted(when) {
  mount(h('section', { class: 'card', id: 'deleted' },
    h('h1', {}, t('deletion_scheduled_title')),
    h('p', {}, t('deletion_scheduled_text', { date: when ? new Date(decodeURIComponent(when)).toLocaleDateString() : '' })),
    h('p', {}, h('a', { href: '#/login' }, t('log_in')))));
}
