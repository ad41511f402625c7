// Privacy centre: sessions and devices, security events, consents, export, correction,
// account deletion, processors and policy documents. Everything under /api/v1/privacy/ also
// works while consent is missing (the gate exempts it), so export and deletion stay possible.
import { ApiError, api, authApi } from '../api.js';
import { env, go, signedOut, state } from '../app.js';
import { fmtTime, h, mount, notify } from '../dom.js';
import { t } from '../i18n.js';

let poll = null;
const OPEN = ['identity_unverified', 'pending', 'approved', 'in_processing', 'scheduled'];

function section(id, title, ...body) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, title), ...body);
}

function statusText(r) {
  const base = t(`status_${r.status}`);
  return r.status === 'in_processing' && r.kind === 'access' ? `${base} (${r.progress}%)` : base;
}

// Access, correction and erasure need a fresh one-time code (allauth reauthentication).
async function confirmIdentity(request) {
  const phone = state.me && state.me.phone;
  await authApi.reauthRequest(phone);
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'card', id: 'identity-dialog', 'aria-labelledby': 'identity-h' });
    const input = h('input', { id: 'identity-code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: 8 });
    const errors = h('div', { class: 'errors', role: 'alert' });
    const form = h('form', { onsubmit: async (e) => {
      e.preventDefault();
      if (e.submitter && e.submitter.value === 'cancel') { dialog.close(); resolve(null); return; }
      try {
        await authApi.reauthConfirm(input.value.trim());
        const verified = await api('POST', `privacy/requests/${request.uuid}/verify`);
        dialog.close();
        resolve(verified);
      } catch (err) {
        errors.replaceChildren(h('p', {}, err instanceof ApiError ? err.message : String(err)));
      }
    } },
    h('h2', { id: 'identity-h' }, t('confirm_identity')),
    h('p', {}, t('identity_text')),
    document.body.dataset.devSmsConsole === '1' ? h('p', { class: 'hint dev' }, t('dev_sms_hint')) : null,
    h('div', { class: 'field' }, h('label', { for: 'identity-code' }, t('code')), input),
    errors,
    h('div', { class: 'actions' }, h('button', { type: 'submit', value: 'ok', id: 'identity-submit' }, t('confirm')),
      h('button', { type: 'submit', value: 'cancel', class: 'secondary', formnovalidate: true }, t('cancel'))));
    dialog.append(form);
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

async function openRequest(kind, extra = {}) {
  let r = await api('POST', 'privacy/requests', { kind, ...extra });
  if (r.identity_required) r = (await confirmIdentity(r)) || r;
  return r;
}

function requestRow(r) {
  return h('li', { class: 'request', dataset: { kind: r.kind, status: r.status } },
    h('span', {}, t(`kind_req_${r.kind}`)),
    h('span', { class: 'status' }, statusText(r)),
    r.kind === 'access' && r.status === 'in_processing' ? h('progress', { max: 100, value: r.progress, 'aria-label': t('progress') }) : null,
    h('span', { class: 'meta' }, t('received'), ' ', fmtTime(r.received_at), ' · ', t('due'), ' ', new Date(r.due_at).toLocaleDateString()),
    r.denial_reason ? h('span', { class: 'meta' }, t('denied_because'), ' ', r.denial_reason) : null,
    r.download ? h('a', { href: r.download.url, class: 'button', id: 'download-export', download: 'meetnow-export.zip' }, t('download_zip')) : null,
    r.identity_required ? h('button', { type: 'button', class: 'secondary', onclick: async () => { await confirmIdentity(r); centre(); } }, t('confirm_identity')) : null,
    OPEN.includes(r.status) && r.status !== 'in_processing' ? h('button', { type: 'button', class: 'link', onclick: async () => {
      try { await api('POST', `privacy/requests/${r.uuid}/cancel`); centre(); } catch (err) { notify(err.message, 'error'); }
    } }, t('cancel_request')) : null);
}

export async function centre() {
  clearTimeout(poll);
  const gated = Boolean(state.consent);
  const [requests, consents, docs, processors, sessions, events] = await Promise.all([
    api('GET', 'privacy/requests?limit=20'),
    api('GET', 'privacy/consents'),
    api('GET', 'privacy/documents/current'),
    api('GET', 'privacy/processors'),
    gated ? Promise.resolve([]) : api('GET', 'sessions'),
    gated ? Promise.resolve({ results: [] }) : api('GET', 'security-events?limit=20'),
  ]);
  if (!state.me || state.me.pending) state.me = { ...(state.me || {}), phone: null };
  const rows = requests.results;
  const exportReq = rows.find((r) => r.kind === 'access' && (OPEN.includes(r.status) || r.download));
  const erasure = rows.find((r) => r.kind === 'erasure' && OPEN.includes(r.status));
  // The identity verification notice is a separate, optional consent (docs/identity.md):
  // given when the last thing done with it was an acceptance.
  const identity = consents.history.filter((c) => c.kind === 'identity_notice').pop();
  const identityGiven = Boolean(identity && identity.action !== 'withdrawn');
  const correction = h('textarea', { id: 'correction', rows: 3, maxlength: 2000, required: true });

  mount(h('div', { class: 'privacy', id: 'privacy' },
    h('h1', {}, t('privacy_centre')),
    section('p-export', t('export_title'),
      h('p', {}, t('export_text')),
      exportReq ? h('ul', { class: 'requests' }, requestRow(exportReq)) : null,
      !exportReq || !OPEN.includes(exportReq.status) ? h('button', { type: 'button', id: 'request-export', onclick: async () => {
        try { await openRequest('access'); centre(); } catch (err) { notify(err.message, 'error'); }
      } }, t('request_export')) : null),
    gated ? null : section('p-sessions', t('sessions_title'),
      h('ul', { class: 'rows' }, sessions.map((s) => h('li', {},
        h('span', {}, s.device ? `${s.device.model || s.device.platform}` : t('browser_or_app')),
        h('span', { class: 'meta' }, t('last_seen'), ' ', fmtTime(s.last_seen_at), s.ip_address ? ` · ${s.ip_address}` : ''),
        s.current ? h('span', { class: 'tag' }, t('this_session')) : h('button', { type: 'button', class: 'link', onclick: async () => {
          try { await api('DELETE', `sessions/${s.id}`); notify(t('session_ended_ok')); centre(); } catch (err) { notify(err.message, 'error'); }
        } }, t('end_session'))))),
      sessions.length > 1 ? h('button', { type: 'button', class: 'secondary', onclick: async () => {
        try { const r = await api('POST', 'sessions/end-others'); notify(t('ended_n', { n: r.ended })); centre(); } catch (err) { notify(err.message, 'error'); }
      } }, t('end_others')) : null),
    gated ? null : section('p-security', t('security_title'),
      h('ul', { class: 'rows' }, events.results.map((e) => h('li', {}, h('span', {}, t(`sec_${e.kind}`)), h('span', { class: 'meta' }, fmtTime(e.created_at), e.ip_address ? ` · ${e.ip_address}` : ''))))),
    section('p-consents', t('consents_title'),
      consents.required ? h('p', { class: 'note warn' }, t(consents.required === 'consent_withdrawn' ? 'consent_withdrawn_text' : 'reconsent_text'), ' ', h('a', { href: '#/consent' }, t('review_and_accept'))) : null,
      h('ul', { class: 'rows' }, consents.history.map((c) => h('li', {}, h('span', {}, t(`consent_${c.action}`), ' · ', t(`doc_${c.kind}`), ' ', c.version), h('span', { class: 'meta' }, fmtTime(c.at))))),
      h('p', { class: 'hint' }, t('withdraw_text')),
      consents.required ? null : h('button', { type: 'button', class: 'secondary', id: 'withdraw', onclick: async () => {
        if (!window.confirm(t('withdraw_confirm'))) return;
        try { await api('POST', 'privacy/consents', { action: 'withdraw', document_kinds: ['privacy_policy', 'user_agreement'] }); state.consent = 'consent_withdrawn'; if (state.rt) state.rt.stop(); centre(); } catch (err) { notify(err.message, 'error'); }
      } }, t('withdraw')),
      identityGiven ? h('p', { class: 'hint' }, t('withdraw_identity_text')) : null,
      identityGiven ? h('button', { type: 'button', class: 'secondary', id: 'withdraw-identity', onclick: async () => {
        if (!window.confirm(t('withdraw_identity_confirm'))) return;
        try { await api('POST', 'privacy/consents', { action: 'withdraw', document_kinds: ['identity_notice'] }); notify(t('withdrawn_identity')); centre(); } catch (err) { notify(err.message, 'error'); }
      } }, t('withdraw_identity')) : null),
    section('p-correct', t('correct_title'),
      h('p', {}, t('correct_text')),
      h('form', { onsubmit: async (e) => {
        e.preventDefault();
        try { await openRequest('rectification', { details: correction.value }); correction.value = ''; notify(t('request_sent')); centre(); } catch (err) { notify(err.message, 'error'); }
      } }, h('div', { class: 'field' }, h('label', { for: 'correction' }, t('what_to_correct')), correction), h('button', { type: 'submit' }, t('send_request')))),
    section('p-requests', t('requests_title'),
      rows.length ? h('ul', { class: 'requests' }, rows.map(requestRow)) : h('p', { class: 'empty' }, t('no_requests'))),
    section('p-delete', t('delete_title'),
      h('p', {}, t('delete_text', { days: env.erasureGraceDays })),
      erasure ? h('ul', { class: 'requests' }, requestRow(erasure)) : h('button', { type: 'button', class: 'danger', id: 'delete-account', onclick: async () => {
        if (!window.confirm(t('delete_confirm'))) return;
        try {
          const r = await openRequest('erasure');
          if (r.identity_required) { centre(); return; }
          signedOut(null, `#/deleted/${encodeURIComponent(r.scheduled_for || '')}`);
        } catch (err) { if (err.status !== 401) notify(err.message, 'error'); }
      } }, t('delete_account'))),
    section('p-processors', t('processors_title'),
      h('ul', { class: 'rows' }, processors.processors.map((p) => h('li', {},
        h('strong', {}, p.name), h('span', {}, p.purpose), h('span', { class: 'meta' }, p.data, ' · ', p.country),
        p.website ? h('a', { href: p.website, rel: 'noopener noreferrer', target: '_blank' }, p.website) : null)))),
    section('p-documents', t('documents_title'),
      h('ul', {}, docs.documents.map((d) => h('li', {}, h('a', { href: `#/document/${d.kind}` }, `${d.title} (${d.version})`)))))));
  if (rows.some((r) => r.kind === 'access' && OPEN.includes(r.status))) {
    poll = setTimeout(() => { if (state.route && state.route.name === 'privacy') centre().catch(() => {}); }, 2000);
  }
}
