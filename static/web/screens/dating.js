// Voice dating (docs/dating.md): voice posts (feed, publish, like, comment, report),
// discover people (like / pass), who liked me, matches (unmatch) and the voice match
// (queue, an anonymous call through call.js, like during or after it).
import { api, upload } from '../api.js';
import { go, state } from '../app.js';
import { fmtTime, h, mount, notify } from '../dom.js';
import { t } from '../i18n.js';
import { joinAnonymous } from './call.js';
import { recorderButton } from './recorder.js';

const TABS = ['posts', 'discover', 'likes', 'matches', 'voice', 'mine'];
const REASONS = ['spam', 'harassment', 'sexual', 'fake', 'underage', 'violence', 'other'];
const GENDERS = ['female', 'male', 'other'];
const COMMENTS_PAGE = 20;

// The last voice match (the session from call.accepted), kept across screens and
// reloads of this tab (the API has no list of my sessions).
const VM_KEY = 'meetnow.voice_match';
const voice = { session: sessionStorage.getItem(VM_KEY), timer: null, inCall: false };

function page(tab, ...content) {
  return mount(h('section', { class: 'card dating', id: `dating-${tab}` },
    h('nav', { class: 'tabs', 'aria-label': t('nav_dating') }, TABS.map((name) => h('a', {
      href: `#/dating/${name}`, 'aria-current': name === tab ? 'page' : false, id: `tab-${name}`,
      // The current tab again: draw it again (new posts, people).
      onclick: (e) => { e.preventDefault(); go(`#/dating/${name}`); },
    }, t(`dating_tab_${name}`)))),
    content));
}

function avatar(p) {
  return p.avatar && p.avatar.urls
    ? h('img', { src: p.avatar.urls['256'] || p.avatar.urls.original, alt: '', class: 'avatar' })
    : h('span', { class: 'avatar empty', 'aria-hidden': 'true' });
}

function personLine(p) {
  return h('a', { href: `#/user/${p.id}`, class: 'who-link' }, avatar(p),
    h('span', {}, p.nickname || t('no_name'), p.age ? h('span', { class: 'age' }, ` · ${p.age}`) : null,
      p.verified ? h('span', { class: 'tag' }, t('verified')) : null));
}

function voiceIntro(p) {
  return p.voice_intro && p.voice_intro.urls
    ? h('audio', { controls: true, preload: 'none', src: p.voice_intro.urls.original, 'aria-label': t('voice_intro') })
    : null;
}

// "It's a match": the other person and a way into the conversation.
function matchPanel(match) {
  return h('div', { class: 'match-made', id: 'match-made', role: 'status' },
    h('p', {}, h('strong', {}, t('its_a_match', { name: match.user.nickname || t('no_name') }))),
    match.conversation ? h('button', { type: 'button', id: 'open-match-chat', onclick: () => go(`#/c/${match.conversation}`) }, t('send_message')) : null);
}

async function likePerson(p, container) {
  try {
    const r = await api('POST', `dating/users/${p.id}/like`);
    if (r.match) container.replaceChildren(matchPanel(r.match));
    else { container.replaceChildren(h('p', { class: 'hint' }, t('liked_person', { name: p.nickname || t('no_name') }))); }
  } catch (err) { notify(err.message, 'error'); }
}

async function passPerson(p, container) {
  try { await api('POST', `dating/users/${p.id}/pass`); container.remove(); } catch (err) { notify(err.message, 'error'); }
}

function reportDialog(body) {
  const dialog = h('dialog', { class: 'card', 'aria-label': t('report') });
  const select = h('select', { id: 'post-report-reason' }, REASONS.map((r) => h('option', { value: r }, t(`reason_${r}`))));
  const details = h('textarea', { id: 'post-report-details', maxlength: 1000, rows: 3 });
  dialog.append(h('form', { method: 'dialog', onsubmit: async (e) => {
    if (e.submitter && e.submitter.value === 'cancel') return;
    try { await api('POST', 'dating/reports', { ...body, reason: select.value, details: details.value }); notify(t('report_sent')); } catch (err) { notify(err.message, 'error'); }
  } },
  h('h2', {}, t('report')),
  h('div', { class: 'field' }, h('label', { for: 'post-report-reason' }, t('reason')), select),
  h('div', { class: 'field' }, h('label', { for: 'post-report-details' }, t('details_optional')), details),
  h('div', { class: 'actions' }, h('button', { type: 'submit', value: 'send' }, t('report')), h('button', { type: 'submit', value: 'cancel', class: 'secondary' }, t('cancel')))));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

// --- voice posts -------------------------------------------------------------------------
function likeButton(post) {
  const button = h('button', { type: 'button', class: 'secondary like-post', 'aria-pressed': post.liked_by_me ? 'true' : 'false' },
    post.liked_by_me ? t('post_liked') : t('post_like'), h('span', { class: 'count' }, ` ${post.like_count}`));
  button.addEventListener('click', async () => {
    try {
      const r = await api(post.liked_by_me ? 'DELETE' : 'POST', `dating/posts/${post.id}/like`);
      Object.assign(post, r);
      button.replaceWith(likeButton(post));
    } catch (err) { notify(err.message, 'error'); }
  });
  return button;
}

function commentEl(post, c, list) {
  return h('li', { class: 'comment', dataset: { id: c.id } },
    h('strong', {}, c.author.nickname || t('no_name')), ' ', c.taken_down ? h('em', {}, t('msg_removed')) : c.text,
    ' ', h('time', { class: 'meta', datetime: c.created_at }, fmtTime(c.created_at)),
    c.can_delete ? h('button', { type: 'button', class: 'link', onclick: async () => {
      try { await api('DELETE', `dating/posts/${post.id}/comments/${c.id}`); list.querySelector(`[data-id="${c.id}"]`)?.remove(); } catch (err) { notify(err.message, 'error'); }
    } }, t('delete')) : null,
    c.author.id !== state.me.id ? h('button', { type: 'button', class: 'link', onclick: () => reportDialog({ post: post.id, comment: c.id }) }, t('report')) : null);
}

// Older comments (the list is newest first): the API's cursor, one page per click.
function moreComments(post, next, list) {
  if (!next) return null;
  const button = h('button', { type: 'button', class: 'link more-comments' }, t('more_comments'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const r = await api('GET', next.replace(/^.*\/api\/v1\//, ''));
      const known = new Set([...list.children].map((li) => li.dataset.id));
      list.append(...r.results.filter((c) => !known.has(String(c.id))).map((c) => commentEl(post, c, list)));
      button.replaceWith(moreComments(post, r.next, list) || '');
    } catch (err) { button.disabled = false; notify(err.message, 'error'); }
  });
  return button;
}

async function toggleComments(post, box) {
  if (box.childElementCount) { box.replaceChildren(); return; }
  const r = await api('GET', `dating/posts/${post.id}/comments?limit=${COMMENTS_PAGE}`);
  const list = h('ul', { class: 'comments' });
  list.append(...r.results.map((c) => commentEl(post, c, list)));
  const input = h('input', { type: 'text', maxlength: 500, 'aria-label': t('write_comment'), placeholder: t('write_comment'), class: 'comment-text' });
  box.replaceChildren(list, moreComments(post, r.next, list) || '', h('form', { class: 'comment-form', onsubmit: async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    try {
      const c = await api('POST', `dating/posts/${post.id}/comments`, { text });
      input.value = '';
      list.prepend(commentEl(post, c, list));
    } catch (err) { notify(err.message, 'error'); }
  } }, input, h('button', { type: 'submit' }, t('comment'))));
}

function postEl(post) {
  const mine = post.author.id === state.me.id;
  const comments = h('div', { class: 'comments-box' });
  const personBox = h('div', { class: 'person-actions' });
  let listened = false;
  const audio = post.voice && post.voice.urls
    ? h('audio', { controls: true, preload: 'none', src: post.voice.urls.original, 'aria-label': t('voice_post'), onended: () => {
      if (listened || mine) return;
      listened = true;
      api('POST', `dating/posts/${post.id}/listened`).catch(() => {});
    } })
    : h('p', { class: 'hint' }, t(post.state === 'rejected' ? 'post_rejected' : post.state === 'taken_down' ? 'post_taken_down' : 'processing'));
  if (!mine) {
    personBox.append(h('button', { type: 'button', class: 'secondary like-person', onclick: () => likePerson(post.author, personBox) },
      t('like_person', { name: post.author.nickname || t('no_name') })));
  }
  return h('article', { class: 'post', dataset: { id: post.id, state: post.state } },
    h('header', { class: 'row' }, personLine(post.author), h('time', { class: 'meta', datetime: post.created_at }, fmtTime(post.created_at))),
    post.caption ? h('p', { class: 'caption' }, post.caption) : null,
    audio,
    post.photos.length ? h('div', { class: 'post-photos' }, post.photos.map((p) => h('a', { href: p.urls.original, target: '_blank', rel: 'noopener' },
      h('img', { src: p.urls['1024'] || p.urls.original, alt: t('photo'), class: 'post-photo' })))) : null,
    h('div', { class: 'actions' },
      likeButton(post),
      h('button', { type: 'button', class: 'secondary show-comments', onclick: () => toggleComments(post, comments).catch((err) => notify(err.message, 'error')) },
        t('comments_n', { n: post.comment_count })),
      mine && post.listen_count !== null ? h('span', { class: 'meta' }, t('listens_n', { n: post.listen_count })) : null,
      mine && post.audience === 'matches' ? h('span', { class: 'tag' }, t('audience_matches')) : null,
      mine ? h('button', { type: 'button', class: 'link delete-post', onclick: async (e) => {
        if (!window.confirm(t('delete_post_confirm'))) return;
        try { await api('DELETE', `dating/posts/${post.id}`); e.target.closest('article').remove(); notify(t('post_deleted')); } catch (err) { notify(err.message, 'error'); }
      } }, t('delete')) : h('button', { type: 'button', class: 'link', onclick: () => reportDialog({ post: post.id }) }, t('report'))),
    personBox,
    comments);
}

function moreButton(next, list) {
  if (!next) return null;
  const button = h('button', { type: 'button', class: 'secondary', id: 'more' }, t('load_more'));
  button.addEventListener('click', async () => {
    const r = await api('GET', next.replace(/^.*\/api\/v1\//, ''));
    list.append(...r.results.map(postEl));
    button.replaceWith(moreButton(r.next, list) || '');
  });
  return button;
}

async function feed() {
  const r = await api('GET', 'dating/posts?limit=20');
  const list = h('div', { class: 'posts', id: 'feed' }, r.results.map(postEl));
  page('posts',
    h('div', { class: 'row' }, h('h1', {}, t('voice_posts')), h('a', { href: '#/dating/mine', class: 'button', id: 'new-post' }, t('publish_post'))),
    r.results.length ? list : h('p', { class: 'empty' }, t('no_posts')),
    moreButton(r.next, list));
}

// Publish: a clip recorded here or uploaded, a caption, up to 4 photos, an audience.
function publishForm() {
  let clip = null; // { blob, name }
  const status = h('p', { class: 'hint', id: 'clip-status', role: 'status' }, t('no_clip_yet'));
  const setClip = (blob, name) => {
    clip = { blob, name };
    status.replaceChildren(t('clip_ready'), ' ', h('audio', { controls: true, src: URL.createObjectURL(blob), 'aria-label': t('voice_post') }));
  };
  const file = h('input', { type: 'file', id: 'post-voice-file', accept: 'audio/*', onchange: () => { if (file.files[0]) setClip(file.files[0], file.files[0].name); } });
  const photos = h('input', { type: 'file', id: 'post-photos', accept: 'image/*', multiple: true });
  const caption = h('textarea', { id: 'post-caption', maxlength: 300, rows: 2 });
  const audience = h('select', { id: 'post-audience' },
    h('option', { value: 'public' }, t('audience_public')), h('option', { value: 'matches' }, t('audience_matches')));
  const submit = h('button', { type: 'submit', id: 'publish' }, t('publish'));
  return h('form', { class: 'publish', id: 'publish-form', onsubmit: async (e) => {
    e.preventDefault();
    if (!clip) { notify(t('no_clip_yet'), 'error'); return; }
    const files = [...photos.files];
    if (files.length > 4) { notify(t('too_many_photos'), 'error'); return; }
    submit.disabled = true;
    notify(t('uploading'));
    try {
      const media = await upload('dating_voice', clip.blob, clip.name);
      const pics = [];
      for (const f of files) pics.push((await upload('dating_photo', f, f.name)).uuid);
      await api('POST', 'dating/posts', { voice: media.uuid, caption: caption.value.trim(), photos: pics, audience: audience.value });
      notify(t('post_published'));
      mine();
    } catch (err) { notify(err.message, 'error'); submit.disabled = false; }
  } },
  h('h2', {}, t('publish_post')),
  h('div', { class: 'actions' }, recorderButton({ id: 'record-post', label: t('record_post'), onRecorded: setClip }), h('span', {}, t('record_post'))),
  h('div', { class: 'field' }, h('label', { for: 'post-voice-file' }, t('or_upload_audio')), file),
  status,
  h('div', { class: 'field' }, h('label', { for: 'post-caption' }, t('caption')), caption),
  h('div', { class: 'field' }, h('label', { for: 'post-photos' }, t('post_photos')), photos),
  h('div', { class: 'field' }, h('label', { for: 'post-audience' }, t('audience')), audience),
  h('p', { class: 'hint' }, t('clip_rules')),
  h('div', { class: 'actions' }, submit));
}

async function mine() {
  const r = await api('GET', `dating/users/${state.me.id}/posts?limit=50`);
  page('mine', publishForm(),
    h('h2', {}, t('my_posts')),
    r.results.length ? h('div', { class: 'posts', id: 'my-posts' }, r.results.map(postEl)) : h('p', { class: 'empty' }, t('no_posts')));
}

// --- people: discover, who liked me, matches ----------------------------------------------
function personCard(p, buttons) {
  const box = h('li', { class: 'person dating-person', dataset: { user: p.id } }, personLine(p), voiceIntro(p));
  const actions = h('div', { class: 'actions' }, buttons(box));
  box.append(actions);
  return box;
}

function likePassButtons(p) {
  return (box) => [
    h('button', { type: 'button', class: 'like-person', onclick: () => likePerson(p, box.querySelector('.actions')) }, t('like')),
    h('button', { type: 'button', class: 'secondary pass-person', onclick: () => passPerson(p, box) }, t('pass')),
  ];
}

async function discover() {
  const saved = JSON.parse(sessionStorage.getItem('meetnow.dating_filters') || '{}');
  const gender = h('select', { id: 'filter-gender' }, h('option', { value: '' }, t('anyone')), GENDERS.map((g) => h('option', { value: g, selected: saved.gender === g }, t(`gender_${g}`))));
  const ageMin = h('input', { type: 'number', id: 'filter-age-min', min: 18, max: 150, value: saved.age_min || '' });
  const ageMax = h('input', { type: 'number', id: 'filter-age-max', min: 18, max: 150, value: saved.age_max || '' });
  const query = new URLSearchParams({ limit: '20' });
  for (const [key, value] of Object.entries(saved)) if (value) query.set(key, value);
  let r = { results: [] };
  try {
    r = await api('GET', `dating/discover?${query}`);
  } catch (err) {
    if (err.status !== 400) throw err;
    sessionStorage.removeItem('meetnow.dating_filters'); // refused filters: not kept
    notify(err.message, 'error');
  }
  page('discover',
    h('h1', {}, t('discover')),
    h('form', { class: 'filters', id: 'discover-filters', onsubmit: (e) => {
      e.preventDefault();
      sessionStorage.setItem('meetnow.dating_filters', JSON.stringify({ gender: gender.value, age_min: ageMin.value, age_max: ageMax.value }));
      discover().catch((err) => notify(err.message, 'error'));
    } },
    h('div', { class: 'field' }, h('label', { for: 'filter-gender' }, t('gender')), gender),
    h('div', { class: 'field' }, h('label', { for: 'filter-age-min' }, t('age_min')), ageMin),
    h('div', { class: 'field' }, h('label', { for: 'filter-age-max' }, t('age_max')), ageMax),
    h('button', { type: 'submit' }, t('apply_filters'))),
    r.results.length ? h('ul', { class: 'people', id: 'discover-people' }, r.results.map((p) => personCard(p, likePassButtons(p))))
      : h('p', { class: 'empty' }, t('nobody_new')));
}

async function likes() {
  const r = await api('GET', 'dating/likes/received?limit=50');
  page('likes',
    h('h1', {}, t('who_liked_me')),
    r.results.length ? h('ul', { class: 'people', id: 'liked-me' }, r.results.map((x) => personCard(x.user, (box) => [
      h('button', { type: 'button', class: 'like-back', onclick: () => likePerson(x.user, box.querySelector('.actions')) }, t('like_back')),
      h('button', { type: 'button', class: 'secondary pass-person', onclick: () => passPerson(x.user, box) }, t('pass')),
    ]))) : h('p', { class: 'empty' }, t('no_likes_yet')));
}

async function matches() {
  const r = await api('GET', 'dating/matches?limit=50');
  page('matches',
    h('h1', {}, t('matches')),
    r.results.length ? h('ul', { class: 'people', id: 'matches' }, r.results.map((m) => personCard(m.user, (box) => [
      m.conversation ? h('button', { type: 'button', class: 'open-chat', onclick: () => go(`#/c/${m.conversation}`) }, t('message')) : null,
      h('button', { type: 'button', class: 'secondary unmatch', onclick: async () => {
        if (!window.confirm(t('unmatch_confirm', { name: m.user.nickname || t('no_name') }))) return;
        try { await api('DELETE', `dating/matches/${m.id}`); box.remove(); notify(t('unmatched')); } catch (err) { notify(err.message, 'error'); }
      } }, t('unmatch')),
    ]))) : h('p', { class: 'empty' }, t('no_matches_yet')));
}

// --- voice match --------------------------------------------------------------------------
function stopWaitTimer() { clearTimeout(voice.timer); voice.timer = null; }

async function voiceMatch() {
  let queue = { state: 'idle' };
  try { queue = await api('GET', 'dating/voice-match'); } catch { /* idle */ }
  const gender = h('select', { id: 'vm-gender' }, h('option', { value: '' }, t('anyone')), GENDERS.map((g) => h('option', { value: g }, t(`gender_${g}`))));
  const ageMin = h('input', { type: 'number', id: 'vm-age-min', min: 18, max: 150 });
  const ageMax = h('input', { type: 'number', id: 'vm-age-max', min: 18, max: 150 });
  const status = h('div', { id: 'vm-status', role: 'status' });
  const session = voice.session ? await sessionPanel(voice.session) : null;
  const form = h('form', { class: 'filters', id: 'vm-form', hidden: queue.state === 'waiting', onsubmit: async (e) => {
    e.preventDefault();
    const body = {};
    if (gender.value) body.gender = gender.value;
    if (ageMin.value) body.age_min = Number(ageMin.value);
    if (ageMax.value) body.age_max = Number(ageMax.value);
    try {
      const r = await api('POST', 'dating/voice-match', body);
      if (r.state === 'waiting') showWaiting(r, status, form);
    } catch (err) { notify(err.message, 'error'); }
  } },
  h('div', { class: 'field' }, h('label', { for: 'vm-gender' }, t('talk_to')), gender),
  h('div', { class: 'field' }, h('label', { for: 'vm-age-min' }, t('age_min')), ageMin),
  h('div', { class: 'field' }, h('label', { for: 'vm-age-max' }, t('age_max')), ageMax),
  h('button', { type: 'submit', id: 'vm-start' }, t('vm_start')));
  page('voice', h('h1', {}, t('voice_match')), h('p', { class: 'hint' }, t('vm_explain')), session, form, status);
  if (queue.state === 'waiting') showWaiting(queue, status, form);
}

function showWaiting(queue, status, form) {
  form.hidden = true;
  status.replaceChildren(h('p', { class: 'waiting' }, t('vm_waiting')),
    h('button', { type: 'button', class: 'secondary', id: 'vm-leave', onclick: async () => {
      stopWaitTimer();
      try { await api('DELETE', 'dating/voice-match'); } catch { /* gone anyway */ }
      status.replaceChildren();
      form.hidden = false;
    } }, t('vm_leave')));
  stopWaitTimer();
  const left = Math.max(1000, new Date(queue.expires_at).getTime() - Date.now() + 500);
  voice.timer = setTimeout(async () => {
    const again = await api('GET', 'dating/voice-match').catch(() => ({ state: 'idle' }));
    if (state.route && state.route.name === 'dating' && again.state === 'idle' && !voice.inCall) {
      status.replaceChildren(h('p', {}, t('vm_nobody')));
      form.hidden = false;
    }
  }, left);
}

async function likeSession(id, box) {
  try {
    const r = await api('POST', `dating/voice-match/${id}/like`);
    if (r.match) box.replaceChildren(matchPanel(r.match));
    else box.replaceChildren(h('p', { class: 'hint' }, t('vm_liked')));
  } catch (err) { notify(err.message, 'error'); }
}

// After the call (or on coming back): my like, and the match once both liked.
async function sessionPanel(id) {
  let s;
  try { s = await api('GET', `dating/voice-match/${id}`); } catch { voice.session = null; sessionStorage.removeItem(VM_KEY); return null; }
  const box = h('div', { class: 'vm-session', id: 'vm-session' });
  if (s.match) box.append(matchPanel(s.match));
  else if (s.liked) box.append(h('p', { class: 'hint' }, t('vm_liked')));
  else if (new Date(s.like_until) > new Date()) {
    box.append(h('p', {}, t('vm_after')), h('button', { type: 'button', id: 'vm-like-after', onclick: () => likeSession(id, box) }, t('like')));
  }
  return h('section', { class: 'card' }, h('h2', {}, t('vm_last')), box);
}

// --- realtime -----------------------------------------------------------------------------
export function onFrame(frame) {
  if (frame.type === 'call.accepted' && frame.voice_match) {
    stopWaitTimer();
    voice.session = frame.voice_match.session;
    sessionStorage.setItem(VM_KEY, voice.session);
    voice.inCall = true;
    const likeBox = h('span', { class: 'vm-like-box' });
    likeBox.append(h('button', { type: 'button', id: 'vm-like', onclick: () => likeSession(frame.voice_match.session, likeBox) }, t('like')));
    joinAnonymous(frame, { title: t('voice_match_call'), buttons: [likeBox], endsAt: frame.voice_match.ends_at });
    return;
  }
  if (frame.type === 'call.ended' && voice.inCall) {
    voice.inCall = false;
    if (state.route && state.route.name === 'dating' && state.route.args[0] === 'voice') voiceMatch().catch(() => {});
    else notify(t('vm_call_ended'));
    return;
  }
  if (frame.type === 'dating.matched') {
    notify(t('new_match'));
    // (not the tab where I just liked back: its "It is a match" panel stays)
    if (state.route && state.route.name === 'dating' && ['matches', 'voice'].includes(state.route.args[0])) screen(state.route.args[0]).catch(() => {});
    return;
  }
  if (frame.type === 'dating.match_ended') {
    if (state.route && state.route.name === 'dating' && state.route.args[0] === 'matches') matches().catch(() => {});
    return;
  }
  if (frame.type === 'dating.post_liked' || frame.type === 'dating.post_commented') {
    notify(t(frame.type === 'dating.post_liked' ? 'post_got_like' : 'post_got_comment'));
  }
}

export function leave() {
  if (!(state.route && state.route.name === 'dating' && state.route.args[0] === 'voice')) stopWaitTimer();
}

export async function screen(tab = 'posts') {
  const name = TABS.includes(tab) ? tab : 'posts';
  if (name !== 'voice') stopWaitTimer();
  if (name === 'posts') return feed();
  if (name === 'discover') return discover();
  if (name === 'likes') return likes();
  if (name === 'matches') return matches();
  if (name === 'voice') return voiceMatch();
  return mine();
}
