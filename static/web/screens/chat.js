// Conversations, one conversation's messages, composer (text, photo, video, voice), realtime.
import { ApiError, api, upload } from '../api.js';
import { go, refreshNav, state } from '../app.js';
import { field, fmtTime, h, icon, mount, notify, uuid4 } from '../dom.js';
import { t } from '../i18n.js';
import { startCall } from './call.js';
import { recorderButton } from './recorder.js';

// What the open conversation screen holds (null on other screens).
let view = null;
let typingTimer = null;

export function leave() {
  if (view && view.typingHide) clearTimeout(view.typingHide);
  view = null;
}

function titleOf(conv) {
  if (conv.kind === 'group') return conv.title || t('group');
  const other = conv.members.find((m) => m.user.uuid !== state.me.id);
  return other ? (other.user.nickname || t('no_name')) : t('just_you');
}

function preview(message) {
  if (!message) return '';
  if (message.recalled) return t('msg_recalled');
  if (message.removed_by_moderator) return t('msg_removed');
  if (message.kind === 'system') return t('msg_system');
  if (message.kind === 'text') return message.text;
  return t(`kind_${message.kind}`);
}

export async function loadUnread() {
  try {
    const r = await api('GET', 'conversations?limit=1');
    state.unreadTotal = r.unread_total || 0;
    refreshNav();
  } catch { /* shown on the next screen */ }
}

// The navigation's badge: message requests and group invitations waiting for an answer.
const PENDING_PAGE = 50;
function setPending(requests, invitations) {
  const count = requests.results.length + invitations.results.length;
  state.pending = count ? { count, more: Boolean(requests.next || invitations.next) } : null;
  refreshNav();
}

export async function loadPending() {
  try {
    const [requests, invitations] = await Promise.all([
      api('GET', `chat/requests?limit=${PENDING_PAGE}`),
      api('GET', `chat/invitations?limit=${PENDING_PAGE}`),
    ]);
    setPending(requests, invitations);
  } catch { /* shown on the next screen */ }
}

// --- list: message requests and group invitations first, then conversations ---------
export async function list() {
  const [r, requests, invitations] = await Promise.all([
    api('GET', 'conversations?limit=50'),
    api('GET', `chat/requests?limit=${PENDING_PAGE}`),
    api('GET', `chat/invitations?limit=${PENDING_PAGE}`),
  ]);
  state.unreadTotal = r.unread_total || 0;
  setPending(requests, invitations);
  const items = r.results.map((c) => h('li', {},
    h('a', { href: `#/c/${c.uuid}`, class: 'conv', dataset: { uuid: c.uuid } },
      h('span', { class: 'conv-title' }, titleOf(c),
        c.muted ? h('span', { class: 'tag' }, t('muted')) : null,
        c.request === 'pending' ? h('span', { class: 'tag request-pending' }, t('request_pending')) : null),
      h('span', { class: 'conv-last' }, preview(c.last_message)),
      h('span', { class: 'conv-time' }, fmtTime(c.last_activity_at)),
      c.unread_count ? h('span', { class: 'badge', 'aria-label': t('unread_n', { n: c.unread_count }) }, c.unread_count > 999 ? '999+' : String(c.unread_count)) : null)));
  mount(h('section', { class: 'card', id: 'conversations' },
    h('div', { class: 'row' }, h('h1', {}, t('conversations')), h('a', { href: '#/new', class: 'button', id: 'new-conversation' }, t('new_conversation'))),
    requestsSection(requests.results),
    invitationsSection(invitations.results),
    items.length ? h('ul', { class: 'convs' }, items) : h('p', { class: 'empty' }, t('no_conversations'))));
}

function otherMember(conv) {
  return conv.members.find((m) => m.user.uuid !== state.me.id);
}

// The buttons that answer a message request (in the list and in the conversation).
function requestActions(conv, after) {
  const other = otherMember(conv);
  const name = other ? other.user.nickname || t('no_name') : t('someone');
  return h('div', { class: 'actions request-actions' },
    h('button', { type: 'button', class: 'accept-request', onclick: async () => {
      try { await api('POST', `chat/requests/${conv.uuid}/accept`); notify(t('request_accepted')); after('accepted'); } catch (err) { notify(err.message, 'error'); }
    } }, t('accept_request')),
    h('button', { type: 'button', class: 'secondary decline-request', onclick: async () => {
      if (!window.confirm(t('decline_request_confirm', { name }))) return;
      try { await api('POST', `chat/requests/${conv.uuid}/decline`); notify(t('request_declined')); after('declined'); } catch (err) { notify(err.message, 'error'); }
    } }, t('decline')),
    h('button', { type: 'button', class: 'link report-request', onclick: () => reportDialog(null, t('report_and_block'), {
      path: `chat/requests/${conv.uuid}/report`, done: () => { notify(t('reported_and_blocked')); after('declined'); },
    }) }, t('report_and_block')));
}

// Who sent the request: their public card (photo, age, voice intro), filled in when
// GET /users/<id> answers; the link to the full card is there at once.
function senderCard(user) {
  const box = h('span', { class: 'sender-card' },
    h('a', { href: `#/user/${user.uuid}` }, t('see_profile')));
  api('GET', `users/${user.uuid}`).then((p) => {
    box.prepend(
      p.avatar && p.avatar.urls ? h('img', { src: p.avatar.urls['256'] || p.avatar.urls.original, alt: '', class: 'avatar' }) : h('span', { class: 'avatar empty', 'aria-hidden': 'true' }),
      h('span', { class: 'sender-meta' }, [p.age ? String(p.age) : null, p.gender ? t(`gender_${p.gender}`) : null].filter(Boolean).join(' · ')),
      p.voice_intro && p.voice_intro.urls ? h('audio', { controls: true, preload: 'none', src: p.voice_intro.urls.original, 'aria-label': t('voice_intro') }) : '');
  }).catch(() => { /* the link still works */ });
  return box;
}

function requestsSection(requests) {
  if (!requests.length) return null;
  return h('section', { id: 'message-requests', 'aria-labelledby': 'requests-title' },
    h('h2', { id: 'requests-title' }, t('message_requests'), ' ', h('span', { class: 'badge' }, String(requests.length))),
    h('p', { class: 'hint' }, t('requests_hint')),
    h('ul', { class: 'convs' }, requests.map((c) => {
      const other = otherMember(c);
      return h('li', { class: 'msg-request', dataset: { uuid: c.uuid } },
        h('a', { href: `#/c/${c.uuid}`, class: 'conv' },
          h('span', { class: 'conv-title' }, titleOf(c), other && other.user.verified ? h('span', { class: 'tag' }, t('verified')) : null),
          h('span', { class: 'conv-last' }, preview(c.last_message)),
          h('span', { class: 'conv-time' }, fmtTime(c.last_activity_at))),
        h('div', { class: 'row' },
          other ? senderCard(other.user) : null,
          requestActions(c, () => list().catch(() => {}))));
    })));
}

function invitationsSection(invitations) {
  if (!invitations.length) return null;
  return h('section', { id: 'invitations', 'aria-labelledby': 'invitations-title' },
    h('h2', { id: 'invitations-title' }, t('group_invitations')),
    h('ul', { class: 'convs' }, invitations.map((inv) => h('li', { class: 'invitation', dataset: { uuid: inv.conversation } },
      h('p', {}, h('strong', {}, inv.title || t('group')), ' · ',
        t('invited_by', { name: inv.invited_by ? inv.invited_by.nickname || t('no_name') : t('someone') }),
        ' ', h('time', { datetime: inv.created_at }, fmtTime(inv.created_at))),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'accept-invitation', onclick: async () => {
          try { const conv = await api('POST', `chat/invitations/${inv.conversation}/accept`); loadPending(); go(`#/c/${conv.uuid}`); } catch (err) { notify(err.message, 'error'); }
        } }, t('join_group')),
        h('button', { type: 'button', class: 'secondary decline-invitation', onclick: async () => {
          try { await api('POST', `chat/invitations/${inv.conversation}/decline`); list().catch(() => {}); } catch (err) { notify(err.message, 'error'); }
        } }, t('decline')))))));
}

// --- new conversation: people from /discover, or a group -----------------------------
export async function newConversation() {
  const r = await api('GET', 'discover?limit=50');
  const chosen = new Set();
  const groupTitle = field(t('group_title'), { id: 'group-title', maxlength: 80 });
  const people = r.results.map((p) => h('li', { class: 'person' },
    p.avatar ? h('img', { src: p.avatar.urls['256'] || p.avatar.urls.original, alt: '', class: 'avatar' }) : h('span', { class: 'avatar empty', 'aria-hidden': 'true' }),
    h('a', { href: `#/user/${p.id}` }, p.nickname || t('no_name'), p.age ? ` · ${p.age}` : ''),
    h('label', { class: 'pick' }, h('input', { type: 'checkbox', onchange: (e) => (e.target.checked ? chosen.add(p.id) : chosen.delete(p.id)) }), t('add_to_group')),
    h('button', { type: 'button', class: 'message-person', dataset: { user: p.id }, onclick: () => openDirect(p.id) }, t('message'))));
  mount(h('section', { class: 'card', id: 'new' },
    h('h1', {}, t('new_conversation')),
    people.length ? h('ul', { class: 'people' }, people) : h('p', { class: 'empty' }, t('nobody_yet')),
    h('form', { class: 'group-form', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const conv = await api('POST', 'conversations', { title: groupTitle.querySelector('input').value, users: [...chosen] });
        go(`#/c/${conv.uuid}`);
      } catch (err) { notify(err.message, 'error'); }
    } }, h('h2', {}, t('new_group')), groupTitle, h('button', { type: 'submit' }, t('create_group')))));
}

export async function openDirect(userUuid) {
  const conv = await api('POST', 'conversations', { user: userUuid });
  go(`#/c/${conv.uuid}`);
}

// --- one conversation -----------------------------------------------------------------
function receiptFor(message) {
  if (!view || message.sender !== state.me.id) return null;
  const others = view.conv.members.filter((m) => m.user.uuid !== state.me.id && m.last_read_id !== null);
  if (!others.length) return null;
  const read = others.filter((m) => m.last_read_id >= message.id).length;
  if (!read) return h('span', { class: 'receipt' }, t('sent'));
  return h('span', { class: 'receipt read' }, view.conv.kind === 'group' ? t('read_by_n', { n: read }) : t('read'));
}

// Media that finish loading grow the list: stay at the bottom if we were there.
function keepBottom() {
  if (view && view.atBottom) view.list.scrollTop = view.list.scrollHeight;
}

// Width and height attributes reserve the space before the file loads (no jumping list).
function box(a) {
  if (!a.width || !a.height) return {};
  const width = Math.min(a.width, 320);
  return { width, height: Math.round((a.height * width) / a.width) };
}

function attachmentView(a) {
  if (!a) return null;
  if (a.status !== 'ready' || !a.urls) return h('p', { class: 'hint' }, t('processing'));
  if (a.kind === 'image') return h('a', { href: a.urls.original, target: '_blank', rel: 'noopener' }, h('img', { src: a.urls['1024'] || a.urls.original, alt: t('photo'), class: 'photo', ...box(a), onload: keepBottom }));
  if (a.kind === 'audio') return h('audio', { controls: true, src: a.urls.original, preload: 'none', 'aria-label': t('kind_voice') });
  if (a.kind === 'video') return h('video', { controls: true, src: a.urls.original, poster: a.urls['1024'] || null, preload: 'none', class: 'video', ...box(a), 'aria-label': t('kind_video'), onloadedmetadata: keepBottom, onloadeddata: keepBottom });
  return null;
}

function systemText(m) {
  const s = m.system || {};
  const name = (uuid) => {
    const member = view && view.conv.members.find((x) => x.user.uuid === uuid);
    return member ? (member.user.nickname || t('no_name')) : t('someone');
  };
  const actor = name(s.actor || s.by || s.user);
  const users = (s.users || []).map(name).join(', ');
  return t(`sys_${s.action || 'other'}`, { actor, users });
}

function messageEl(m) {
  const mine = m.sender === state.me.id;
  const content = [];
  if (m.recalled) content.push(h('em', {}, t('msg_recalled')));
  else if (m.removed_by_moderator) content.push(h('em', {}, t('msg_removed')));
  else if (m.kind === 'system') content.push(h('em', {}, systemText(m)));
  else {
    if (m.text) content.push(h('p', { class: 'text' }, m.text));
    content.push(attachmentView(m.attachment));
  }
  const actions = [];
  if (!m.recalled && !m.removed_by_moderator && m.kind !== 'system' && m.id) {
    if (mine && m.kind === 'text') actions.push(h('button', { type: 'button', class: 'link', onclick: () => editMessage(m) }, t('edit')));
    if (mine) actions.push(h('button', { type: 'button', class: 'link', onclick: () => recallMessage(m) }, t('recall')));
    if (!mine) actions.push(h('button', { type: 'button', class: 'link', onclick: () => reportMessage(m) }, t('report')));
  }
  const sender = view.conv.members.find((x) => x.user.uuid === m.sender);
  return h('li', { class: `msg ${mine ? 'mine' : 'theirs'} ${m.kind}${m.pending ? ' pending' : ''}${m.failed ? ' failed' : ''}`, dataset: { id: m.id || '', client: m.client_id || '' } },
    !mine && m.kind !== 'system' && view.conv.kind === 'group' ? h('span', { class: 'who' }, sender ? sender.user.nickname || t('no_name') : t('deleted_user')) : null,
    h('div', { class: 'bubble' }, content),
    h('div', { class: 'meta' },
      h('time', { datetime: m.created_at || '' }, fmtTime(m.created_at)),
      m.edited_at && !m.recalled ? h('span', {}, t('edited')) : null,
      m.pending ? h('span', {}, t('sending')) : null,
      m.failed ? h('button', { type: 'button', class: 'link', onclick: () => sendMessage(m) }, t('retry')) : null,
      receiptFor(m),
      actions));
}

function render() {
  if (!view) return;
  const ul = view.list;
  const atBottom = ul.scrollHeight - ul.scrollTop - ul.clientHeight < 80;
  ul.replaceChildren(...view.messages.map(messageEl));
  if (atBottom || view.stick) { ul.scrollTop = ul.scrollHeight; view.stick = false; view.atBottom = true; }
}

function upsert(m) {
  if (!view || m.conversation !== view.conv.uuid) return;
  const i = view.messages.findIndex((x) => (m.id && x.id === m.id) || (m.client_id && x.client_id === m.client_id));
  if (i >= 0) view.messages[i] = m;
  else {
    view.messages.push(m);
    view.messages.sort((a, b) => (a.id || Infinity) - (b.id || Infinity));
  }
  render();
}

async function markRead() {
  if (!view || document.hidden) return;
  const last = [...view.messages].reverse().find((m) => m.id && !m.pending);
  if (!last || last.id <= (view.conv.last_read_id || 0)) return;
  view.conv.last_read_id = last.id;
  try { await api('POST', `conversations/${view.conv.uuid}/read`, { message_id: last.id }); } catch { /* next time */ }
  loadUnread();
}

export async function conversation(uuid) {
  const [conv, page] = await Promise.all([
    api('GET', `conversations/${uuid}`),
    api('GET', `conversations/${uuid}/messages?limit=50`),
  ]);
  const list = h('ol', { class: 'messages', id: 'messages', 'aria-live': 'polite', 'aria-label': t('messages') });
  const typing = h('p', { class: 'typing', id: 'typing', 'aria-live': 'polite' });
  view = { conv, messages: page.results.slice().reverse(), hasMore: page.has_more, list, typing, stick: true };
  const older = h('button', { type: 'button', class: 'link', id: 'older', hidden: !page.has_more, onclick: loadOlder }, t('older_messages'));
  view.older = older;
  list.addEventListener('scroll', () => { view.atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80; });
  const other = conv.kind === 'direct' ? conv.members.find((m) => m.user.uuid !== state.me.id) : null;
  const text = h('textarea', { id: 'composer-text', rows: 1, maxlength: 4000, 'aria-label': t('type_message'), placeholder: t('type_message') });
  text.addEventListener('input', () => {
    if (typingTimer) return;
    state.rt && state.rt.send({ type: 'typing', conversation: conv.uuid });
    typingTimer = setTimeout(() => { typingTimer = null; }, 2000);
  });
  text.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); composer.requestSubmit(); } });
  const fileInput = h('input', { type: 'file', id: 'attach', accept: 'image/*,video/*,audio/*', class: 'sr', onchange: async () => {
    const file = fileInput.files[0];
    fileInput.value = '';
    if (file) await sendFile(file, file.name);
  } });
  const composer = h('form', { class: 'composer', id: 'composer', onsubmit: (e) => {
    e.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    text.value = '';
    sendMessage({ client_id: uuid4(), kind: 'text', text: value });
  } },
  fileInput,
  h('label', { for: 'attach', class: 'button secondary icon', title: t('attach') }, icon('attach'), h('span', { class: 'sr' }, t('attach'))),
  text,
  recorderButton({ label: t('record_voice'), onRecorded: (blob, name) => sendFile(blob, name, 'voice') }),
  recorderButton({ id: 'record-video', video: true, label: t('record_video'), onRecorded: (blob, name) => sendFile(blob, name, 'video') }),
  h('button', { type: 'submit', id: 'send' }, t('send')));
  mount(h('section', { class: 'chat', id: 'chat', dataset: { uuid: conv.uuid } },
    h('header', { class: 'chat-head' },
      h('a', { href: '#/chat', class: 'back', 'aria-label': t('back') }, '‹'),
      h('h1', {}, other ? h('a', { href: `#/user/${other.user.uuid}` }, titleOf(conv)) : titleOf(conv)),
      other ? h('button', { type: 'button', class: 'secondary', id: 'call-audio', onclick: () => startCall(conv.uuid, 'audio') }, t('call_voice')) : null,
      other ? h('button', { type: 'button', class: 'secondary', id: 'call-video', onclick: () => startCall(conv.uuid, 'video') }, t('call_video')) : null,
      h('details', { class: 'menu' }, h('summary', {}, t('more')),
        h('button', { type: 'button', class: 'link', onclick: () => toggleMute(conv) }, conv.muted ? t('unmute') : t('mute')),
        other ? h('button', { type: 'button', class: 'link', id: 'block', onclick: () => blockUser(other.user) }, t('block')) : null,
        other ? h('button', { type: 'button', class: 'link', onclick: () => reportUser(other.user) }, t('report_user')) : null,
        conv.kind === 'group' ? h('button', { type: 'button', class: 'link', onclick: () => leaveGroup(conv) }, t('leave_group')) : null)),
    h('p', { class: 'offline-note', role: 'status' }, t('offline_note')),
    conv.request === 'pending' ? h('p', { class: 'request-note', id: 'request-pending', role: 'status' }, t('request_pending_note')) : null,
    older, list, typing,
    conv.request === 'received'
      ? h('div', { class: 'request-bar', id: 'request-bar' },
        h('p', {}, t('request_from', { name: titleOf(conv) })),
        requestActions(conv, (outcome) => { loadPending(); go(outcome === 'accepted' ? `#/c/${conv.uuid}` : '#/chat'); }))
      : composer));
  render();
  if (conv.request !== 'received') { markRead(); text.focus(); }
}

async function loadOlder() {
  const first = view.messages.find((m) => m.id);
  const page = await api('GET', `conversations/${view.conv.uuid}/messages?limit=50&before=${first.id}`);
  view.messages = [...page.results.slice().reverse(), ...view.messages];
  view.older.hidden = !page.has_more;
  const ul = view.list; const before = ul.scrollHeight;
  render();
  ul.scrollTop = ul.scrollHeight - before;
}

// Send (or resend: the same client_id makes a retry idempotent).
export async function sendMessage(draft) {
  if (!view) return;
  const conv = view.conv.uuid;
  const local = { ...draft, conversation: conv, sender: state.me.id, pending: true, failed: false, created_at: new Date().toISOString() };
  view.stick = true;
  upsert(local);
  const body = { client_id: draft.client_id, kind: draft.kind };
  if (draft.text) body.text = draft.text;
  if (draft.media) body.media = draft.media;
  try {
    const saved = await api('POST', `conversations/${conv}/messages`, body);
    upsert(saved);
    markRead();
  } catch (err) {
    upsert({ ...local, pending: false, failed: true });
    notify(err instanceof ApiError ? err.message : t('send_failed'), 'error');
  }
}

async function sendFile(blob, name, forcedKind) {
  const kind = forcedKind || (blob.type.startsWith('image/') ? 'image' : blob.type.startsWith('video/') ? 'video' : blob.type.startsWith('audio/') ? 'voice' : null);
  if (!kind) { notify(t('unsupported_file'), 'error'); return; }
  const clientId = uuid4();
  const conv = view.conv.uuid;
  upsert({ client_id: clientId, conversation: conv, sender: state.me.id, kind, pending: true, created_at: new Date().toISOString(), attachment: { status: 'pending' } });
  try {
    const media = await upload('chat', blob, name || `upload.${(blob.type.split('/')[1] || 'bin').split(';')[0]}`);
    if (view && view.conv.uuid === conv) await sendMessage({ client_id: clientId, kind, media: media.uuid });
  } catch (err) {
    if (view) view.messages = view.messages.filter((m) => m.client_id !== clientId);
    render();
    notify(err.message, 'error');
  }
}

async function editMessage(m) {
  const value = window.prompt(t('edit_message'), m.text);
  if (value === null || !value.trim() || value === m.text) return;
  try { upsert(await api('PATCH', `conversations/${m.conversation}/messages/${m.id}`, { text: value.trim() })); } catch (err) { notify(err.message, 'error'); }
}

async function recallMessage(m) {
  if (!window.confirm(t('recall_confirm'))) return;
  try {
    const r = await api('DELETE', `conversations/${m.conversation}/messages/${m.id}`);
    upsert(r && r.id ? r : { ...m, recalled: true, text: '', attachment: null });
  } catch (err) { notify(err.message, 'error'); }
}

const REASONS = ['spam', 'harassment', 'sexual', 'fake', 'underage', 'violence', 'other'];
function reportDialog(target, heading, custom = null) {
  const dialog = h('dialog', { class: 'card', 'aria-label': heading });
  const select = h('select', { id: 'report-reason' }, REASONS.map((r) => h('option', { value: r }, t(`reason_${r}`))));
  const details = h('textarea', { id: 'report-details', maxlength: 1000, rows: 3 });
  dialog.append(h('form', { method: 'dialog', onsubmit: async (e) => {
    if (e.submitter && e.submitter.value === 'cancel') return;
    try {
      if (custom) {
        await api('POST', custom.path, { reason: select.value, details: details.value });
        custom.done();
        return;
      }
      await api('POST', 'reports', { reason: select.value, details: details.value, ...target });
      notify(t('report_sent'));
    } catch (err) { notify(err.message, 'error'); }
  } },
  h('h2', {}, heading),
  h('div', { class: 'field' }, h('label', { for: 'report-reason' }, t('reason')), select),
  h('div', { class: 'field' }, h('label', { for: 'report-details' }, t('details_optional')), details),
  h('div', { class: 'actions' }, h('button', { type: 'submit', value: 'send' }, t('report')), h('button', { type: 'submit', value: 'cancel', class: 'secondary' }, t('cancel')))));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
function reportMessage(m) { reportDialog({ message_id: m.id }, t('report_message')); }
function reportUser(user) { reportDialog({ user: user.uuid }, t('report_user')); }

async function blockUser(user) {
  if (!window.confirm(t('block_confirm', { name: user.nickname || t('no_name') }))) return;
  try { await api('POST', `blocks/${user.uuid}`); notify(t('blocked')); } catch (err) { notify(err.message, 'error'); }
}

async function toggleMute(conv) {
  try { await api('POST', `conversations/${conv.uuid}/mute`, { muted: !conv.muted }); go(`#/c/${conv.uuid}`); } catch (err) { notify(err.message, 'error'); }
}

async function leaveGroup(conv) {
  if (!window.confirm(t('leave_confirm'))) return;
  try { await api('POST', `conversations/${conv.uuid}/leave`); go('#/chat'); } catch (err) { notify(err.message, 'error'); }
}

// --- realtime -------------------------------------------------------------------------
let listReload = null;
let pendingReload = false;
// Redraw the list (it also counts unread messages, requests and invitations), or on
// another screen fetch only the counts: unread ones, and with `pending` the badge's.
function reloadListSoon(pending = false) {
  clearTimeout(listReload);
  pendingReload = pendingReload || pending;
  listReload = setTimeout(() => {
    const counts = pendingReload;
    pendingReload = false;
    if (state.route && state.route.name === 'chat') list().catch(() => {});
    else { loadUnread(); if (counts) loadPending(); }
  }, 150);
}

export function onFrame(frame) {
  switch (frame.type) {
    case 'message.created':
    case 'message.updated':
    case 'message.deleted':
      if (frame.message) upsert(frame.message);
      if (view && frame.conversation === view.conv.uuid) markRead();
      reloadListSoon();
      break;
    case 'conversation.read':
      if (view && frame.conversation === view.conv.uuid && view.conv.request === 'pending' && frame.user !== state.me.id) {
        refreshOpenConversation(); // my request was accepted: receipts from now on
      } else if (view && frame.conversation === view.conv.uuid) {
        const member = view.conv.members.find((m) => m.user.uuid === frame.user);
        if (member && member.last_read_id !== null) member.last_read_id = Math.max(member.last_read_id || 0, frame.last_read_id);
        render();
      }
      if (frame.user === state.me.id) reloadListSoon();
      break;
    case 'typing':
      if (view && frame.conversation === view.conv.uuid && frame.user !== state.me.id) {
        const member = view.conv.members.find((m) => m.user.uuid === frame.user);
        view.typing.textContent = t('is_typing', { name: member ? member.user.nickname || t('no_name') : t('someone') });
        clearTimeout(view.typingHide);
        view.typingHide = setTimeout(() => { if (view) view.typing.textContent = ''; }, 3000);
      }
      break;
    case 'conversation.request':
      notify(t('new_request'));
      reloadListSoon(true);
      break;
    case 'group.invitation':
      notify(t('new_invitation'));
      reloadListSoon(true);
      break;
    case 'conversation.created': // also: a request or an invitation accepted (maybe on another device)
    case 'conversation.updated':
    case 'conversation.removed': // also: a request declined
      reloadListSoon(frame.type !== 'conversation.updated');
      if (frame.type === 'conversation.removed' && view && frame.conversation === view.conv.uuid) go('#/chat');
      break;
    default:
  }
}

// The other side accepted my request (their first read receipt says so): fetch the
// conversation again for its members' receipts and drop the "pending" note.
async function refreshOpenConversation() {
  if (!view) return;
  const uuid = view.conv.uuid;
  try {
    const conv = await api('GET', `conversations/${uuid}`);
    if (!view || view.conv.uuid !== uuid) return;
    view.conv = conv;
    if (conv.request !== 'pending') document.getElementById('request-pending')?.remove();
    render();
  } catch { /* next event */ }
}

export function onStatus(online) {
  const el = document.getElementById('conn');
  if (el) el.textContent = online ? '' : t('offline_note');
}

export function refetch() {
  loadPending();
  if (state.route) go(location.hash);
}
