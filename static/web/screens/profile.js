// My profile (nickname, gender, bio, photo, voice intro) and public cards.
import { api, upload } from '../api.js';
import { state } from '../app.js';
import { field, h, mount, notify } from '../dom.js';
import { t } from '../i18n.js';
import { openDirect } from './chat.js';
import { recorderButton } from './recorder.js';

function card(p, { actions } = {}) {
  return h('article', { class: 'profile-card', id: 'public-card', 'aria-label': t('public_card') },
    p.avatar && p.avatar.urls ? h('img', { src: p.avatar.urls['1024'] || p.avatar.urls.original, alt: t('photo_of', { name: p.nickname || t('no_name') }), class: 'card-photo' })
      : h('div', { class: 'card-photo empty', 'aria-hidden': 'true' }, (p.nickname || '?').slice(0, 1)),
    h('h2', {}, p.nickname || t('no_name'), p.age ? h('span', { class: 'age' }, ` · ${p.age}`) : null,
      p.verified ? h('span', { class: 'tag' }, t('verified')) : null),
    p.gender ? h('p', { class: 'meta' }, t(`gender_${p.gender}`)) : null,
    p.voice_intro && p.voice_intro.urls ? h('div', {}, h('p', { class: 'meta' }, t('voice_intro')), h('audio', { controls: true, src: p.voice_intro.urls.original, preload: 'none', 'aria-label': t('voice_intro') })) : null,
    actions || null);
}

export async function profile() {
  const me = await api('GET', 'me');
  state.me = me;
  // My card exactly as others get it (GET /users/<me>): only what the API shows them.
  const mine = await api('GET', `users/${me.id}`);
  const nickname = field(t('nickname'), { id: 'nickname', value: me.nickname, maxlength: 40, autocomplete: 'nickname' });
  const gender = h('div', { class: 'field' }, h('label', { for: 'gender' }, t('gender')),
    h('select', { id: 'gender' }, ['', 'female', 'male', 'other'].map((g) => h('option', { value: g, selected: me.gender === g }, g ? t(`gender_${g}`) : t('not_said')))));
  const bio = field(t('bio'), { tag: 'textarea', id: 'bio', maxlength: 500, rows: 3 });
  const dmFrom = h('div', { class: 'field' }, h('label', { for: 'dm-from' }, t('dm_from')),
    h('select', { id: 'dm-from' }, ['everyone', 'matches_only'].map((v) => h('option', { value: v, selected: me.dm_from === v }, t(`dm_from_${v}`)))));
  const hidden = h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'hidden-from-discover', checked: Boolean(me.hidden_from_discover) }),
    h('label', { for: 'hidden-from-discover' }, t('hidden_from_discover')));
  bio.querySelector('textarea').value = me.bio || '';
  const save = async (patch, message) => {
    try { state.me = await api('PATCH', 'me', patch); notify(message || t('saved')); profile(); } catch (err) { notify(err.message, 'error'); }
  };
  const photoInput = h('input', { type: 'file', id: 'avatar-file', accept: 'image/*', onchange: async () => {
    const file = photoInput.files[0];
    if (!file) return;
    notify(t('uploading'));
    try { const m = await upload('avatar', file, file.name); await save({ avatar: m.uuid }, t('photo_saved')); } catch (err) { notify(err.message, 'error'); }
  } });
  const voiceInput = h('input', { type: 'file', id: 'voice-file', accept: 'audio/*', onchange: async () => {
    const file = voiceInput.files[0];
    if (file) await saveVoice(file, file.name);
  } });
  const saveVoice = async (blob, name) => {
    notify(t('uploading'));
    try { const m = await upload('voice_intro', blob, name); await save({ voice_intro: m.uuid }, t('voice_saved')); } catch (err) { notify(err.message, 'error'); }
  };
  mount(h('div', { class: 'grid' },
    h('form', { class: 'card', id: 'profile-form', onsubmit: (e) => {
      e.preventDefault();
      const patch = { nickname: nickname.querySelector('input').value.trim(), gender: gender.querySelector('select').value, bio: bio.querySelector('textarea').value };
      if ('dm_from' in me) patch.dm_from = dmFrom.querySelector('select').value;
      if ('hidden_from_discover' in me) patch.hidden_from_discover = hidden.querySelector('input').checked;
      save(patch);
    } },
    h('h1', {}, t('profile')),
    h('p', { class: 'meta' }, t('phone'), ': ', me.phone_display || me.phone || '—', ' · ', t('age'), ': ', me.age ?? '—'),
    nickname, gender, bio,
    h('h2', {}, t('who_can_find_me')), dmFrom, hidden,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'profile-save' }, t('save'))),
    h('h2', {}, t('photo')),
    h('div', { class: 'field' }, h('label', { for: 'avatar-file' }, t('choose_photo')), photoInput),
    me.avatar ? h('button', { type: 'button', class: 'secondary', onclick: () => save({ avatar: null }) }, t('remove_photo')) : null,
    h('h2', {}, t('voice_intro')),
    h('div', { class: 'actions' }, recorderButton({ id: 'record-intro', label: t('record_intro'), onRecorded: saveVoice }), h('span', {}, t('record_intro'))),
    h('div', { class: 'field' }, h('label', { for: 'voice-file' }, t('or_upload_audio')), voiceInput),
    me.voice_intro ? h('button', { type: 'button', class: 'secondary', onclick: () => save({ voice_intro: null }) }, t('remove_voice')) : null,
    h('p', { class: 'hint' }, t('optional_fields'))),
    h('div', {},
      h('section', { class: 'card' }, h('h2', {}, t('as_others_see')), card(mine),
        h('p', { class: 'hint' }, t('your_id'), ' ', h('code', { id: 'my-id' }, me.id))),
      await chatSettings(),
      await blockedPeople())));
}

// Read receipts and push previews (GET/PATCH /chat/settings).
async function chatSettings() {
  const s = await api('GET', 'chat/settings');
  const toggle = (key, label) => h('div', { class: 'check' },
    h('input', { type: 'checkbox', id: `set-${key}`, checked: Boolean(s[key]), onchange: async (e) => {
      try { await api('PATCH', 'chat/settings', { [key]: e.target.checked }); notify(t('saved')); } catch (err) { e.target.checked = !e.target.checked; notify(err.message, 'error'); }
    } }),
    h('label', { for: `set-${key}` }, label));
  return h('section', { class: 'card', id: 'chat-settings' }, h('h2', {}, t('chat_settings')),
    toggle('share_read_receipts', t('share_read_receipts')),
    toggle('push_previews', t('push_previews')));
}

// People I blocked, with unblock (GET /blocks, DELETE /blocks/{uuid}).
async function blockedPeople() {
  const r = await api('GET', 'blocks?limit=100');
  return h('section', { class: 'card', id: 'blocked' }, h('h2', {}, t('blocked_people')),
    r.results.length ? h('ul', { class: 'rows' }, r.results.map((b) => h('li', {},
      h('span', {}, b.user.nickname || t('no_name')),
      h('button', { type: 'button', class: 'link', onclick: async () => {
        try { await api('DELETE', `blocks/${b.user.id}`); notify(t('unblocked')); profile(); } catch (err) { notify(err.message, 'error'); }
      } }, t('unblock'))))) : h('p', { class: 'empty' }, t('nobody_blocked')));
}

export async function userCard(uuid) {
  const p = await api('GET', `users/${uuid}`);
  mount(h('section', { class: 'card' }, card(p, {
    actions: h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => openDirect(p.id).catch((err) => notify(err.message, 'error')) }, t('message')),
      h('button', { type: 'button', class: 'secondary', onclick: async () => {
        if (!window.confirm(t('block_confirm', { name: p.nickname || t('no_name') }))) return;
        try { await api('POST', `blocks/${p.id}`); notify(t('blocked')); history.back(); } catch (err) { notify(err.message, 'error'); }
      } }, t('block'))),
  })));
}
