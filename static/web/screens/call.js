// 1:1 voice and video calls with WebRTC: signalling frames on the chat WebSocket
// (call.invite / incoming / accept / ice / hangup, docs/calls.md) and the STUN/TURN
// servers from GET /api/v1/calls/ice-servers.
import { api } from '../api.js';
import { state } from '../app.js';
import { h, notify } from '../dom.js';
import { t } from '../i18n.js';

let call = null; // { id, pc, local, media, role, pendingIce: [], ui }

const idOf = (c) => (typeof c === 'string' ? c : c && c.uuid);

export function reset() {
  if (!call) return;
  if (call.pc) call.pc.close();
  if (call.local) call.local.getTracks().forEach((tr) => tr.stop());
  if (call.ringTimer) clearTimeout(call.ringTimer);
  const box = document.getElementById('incoming');
  box.hidden = true;
  box.replaceChildren();
  call = null;
}

async function peer(media) {
  const ice = await api('GET', 'calls/ice-servers');
  const pc = new RTCPeerConnection({ iceServers: ice.ice_servers });
  const local = await navigator.mediaDevices.getUserMedia({ audio: true, video: media === 'video' });
  local.getTracks().forEach((track) => pc.addTrack(track, local));
  pc.addEventListener('icecandidate', (e) => {
    const candidate = e.candidate ? e.candidate.toJSON() : null;
    if (call && call.id) state.rt.send({ type: 'call.ice', call: call.id, candidate });
    else if (call) call.pendingIce.push(candidate);
  });
  pc.addEventListener('track', (e) => {
    if (call) call.remote = e.streams[0];
    const remote = document.getElementById('remote-media');
    if (remote && remote.srcObject !== e.streams[0]) remote.srcObject = e.streams[0];
  });
  pc.addEventListener('connectionstatechange', () => {
    const s = document.getElementById('call-state');
    if (s) s.textContent = t(`call_${pc.connectionState}`);
  });
  return { pc, local };
}

function panel(title, buttons, status = t('call_ringing')) {
  const box = document.getElementById('incoming');
  const video = call.media === 'video';
  const remote = h(video ? 'video' : 'audio', { id: 'remote-media', autoplay: true, playsinline: true, class: 'remote' });
  const local = video ? h('video', { id: 'local-media', autoplay: true, playsinline: true, muted: true, class: 'local' }) : null;
  if (local && call.local) { local.srcObject = call.local; local.muted = true; }
  if (call.remote) remote.srcObject = call.remote;
  box.replaceChildren(h('section', { class: 'call card', role: 'dialog', 'aria-labelledby': 'call-title' },
    h('h2', { id: 'call-title' }, title),
    h('p', { id: 'call-state', role: 'status' }, status),
    remote, local,
    h('div', { class: 'actions' }, buttons)));
  box.hidden = false;
}

function hangupButton(kind) {
  return h('button', { type: 'button', class: 'danger', id: 'hangup', onclick: () => {
    if (call && call.id) state.rt.send({ type: kind(), call: call.id });
    reset();
  } }, t('hang_up'));
}

export async function startCall(conversation, media) {
  if (call) { notify(t('already_in_call'), 'error'); return; }
  if (!state.rt || !state.rt.online) { notify(t('offline_note'), 'error'); return; }
  call = { id: null, media, role: 'caller', pendingIce: [], accepted: false };
  try {
    Object.assign(call, await peer(media));
  } catch (err) { reset(); notify(t('mic_denied'), 'error'); return; }
  panel(media === 'video' ? t('call_video') : t('call_voice'), hangupButton(() => (call.accepted ? 'call.hangup' : 'call.cancel')));
  const offer = await call.pc.createOffer();
  await call.pc.setLocalDescription(offer);
  state.rt.send({ type: 'call.invite', conversation, media, sdp: { type: offer.type, sdp: offer.sdp } });
}

async function accept(frame) {
  const offer = frame.sdp;
  try {
    Object.assign(call, await peer(call.media));
  } catch { state.rt.send({ type: 'call.decline', call: call.id }); reset(); notify(t('mic_denied'), 'error'); return; }
  await call.pc.setRemoteDescription(offer);
  const answer = await call.pc.createAnswer();
  await call.pc.setLocalDescription(answer);
  call.accepted = true;
  state.rt.send({ type: 'call.accept', call: call.id, sdp: { type: answer.type, sdp: answer.sdp } });
  for (const c of call.pendingIce.splice(0)) state.rt.send({ type: 'call.ice', call: call.id, candidate: c });
  panel(t('in_call'), hangupButton(() => 'call.hangup'));
  for (const c of call.remoteIce || []) await call.pc.addIceCandidate(c).catch(() => {});
}

// The anonymous voice-match call (docs/dating.md): answered from the start (call.accepted
// with voice_match), the offerer sends its offer over call.sdp, the answerer answers.
// `buttons`: the caller's extra controls (dating's like); `endsAt`: the time limit.
export async function joinAnonymous(frame, { title, buttons = [], endsAt = null }) {
  if (call) return;
  const id = idOf(frame.call);
  const offerer = frame.voice_match && frame.voice_match.role === 'offerer';
  call = { id, media: 'audio', role: offerer ? 'caller' : 'callee', pendingIce: [], remoteIce: [], pendingSdp: [], accepted: true, anonymous: true };
  const mine = call;
  let pc;
  try {
    pc = await peer('audio');
  } catch {
    state.rt.send({ type: 'call.hangup', call: id });
    reset();
    notify(t('mic_denied'), 'error');
    return;
  }
  if (call !== mine) { pc.pc.close(); pc.local.getTracks().forEach((tr) => tr.stop()); return; } // ended meanwhile
  Object.assign(call, pc);
  const until = endsAt ? h('p', { class: 'meta', id: 'call-until' }, t('call_ends_at', { time: new Date(endsAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) })) : null;
  panel(title, [...buttons, hangupButton(() => 'call.hangup')], t('call_connecting'));
  if (until) document.getElementById('call-state').after(until);
  if (offerer) {
    const offer = await call.pc.createOffer();
    await call.pc.setLocalDescription(offer);
    state.rt.send({ type: 'call.sdp', call: id, sdp: { type: offer.type, sdp: offer.sdp } });
  }
  for (const sdp of call.pendingSdp.splice(0)) await onSdp(id, sdp);
}

async function onSdp(id, sdp) {
  if (!call || call.id !== id) return;
  if (!call.pc) { (call.pendingSdp = call.pendingSdp || []).push(sdp); return; }
  await call.pc.setRemoteDescription(sdp);
  for (const c of (call.remoteIce || []).splice(0)) await call.pc.addIceCandidate(c).catch(() => {});
  if (sdp.type === 'offer') {
    const answer = await call.pc.createAnswer();
    await call.pc.setLocalDescription(answer);
    state.rt.send({ type: 'call.sdp', call: id, sdp: { type: answer.type, sdp: answer.sdp } });
  }
}

export async function onFrame(frame) {
  if (!frame.type || !frame.type.startsWith('call.')) return;
  const id = idOf(frame.call);
  switch (frame.type) {
    case 'call.created':
      if (call && !call.id) {
        call.id = id;
        for (const c of call.pendingIce.splice(0)) state.rt.send({ type: 'call.ice', call: id, candidate: c });
      }
      break;
    case 'call.incoming': {
      if (call) return; // busy here: the server answers "busy" to a second caller anyway
      const c = frame.call;
      call = { id, media: c.media, role: 'callee', pendingIce: [], remoteIce: [], accepted: false };
      state.rt.send({ type: 'call.ringing', call: id });
      let who = (c.peer && c.peer.nickname) || t('someone');
      try { who = (await api('GET', `users/${c.caller}`)).nickname || who; } catch { /* keep "someone" */ }
      if (!call || call.id !== id) return; // ended while we looked the caller up
      panel(t(c.media === 'video' ? 'incoming_video' : 'incoming_voice', { name: who }), [
        h('button', { type: 'button', id: 'accept-call', onclick: () => accept(frame) }, t('accept_call')),
        h('button', { type: 'button', class: 'danger', id: 'decline-call', onclick: () => { state.rt.send({ type: 'call.decline', call: id }); reset(); } }, t('decline')),
      ]);
      break;
    }
    case 'call.ringing': {
      const s = document.getElementById('call-state');
      if (s) s.textContent = t('call_ringing_peer');
      break;
    }
    case 'call.accepted':
      if (!call || call.id !== id) return;
      if (call.role === 'caller' && frame.sdp) {
        call.accepted = true;
        await call.pc.setRemoteDescription(frame.sdp);
        for (const c of (call.remoteIce || []).splice(0)) await call.pc.addIceCandidate(c).catch(() => {});
      } else if (call.role === 'callee' && !call.accepted) {
        reset(); // answered on another device
      }
      break;
    case 'call.ice':
      if (!call || call.id !== id) return;
      if (call.pc && call.pc.remoteDescription) await call.pc.addIceCandidate(frame.candidate || null).catch(() => {});
      else (call.remoteIce = call.remoteIce || []).push(frame.candidate || null);
      break;
    case 'call.sdp':
      await onSdp(id, frame.sdp);
      break;
    case 'call.ended':
      if (call && (call.id === id || !call.id)) {
        const outcome = frame.call && frame.call.outcome;
        reset();
        notify(t(`call_outcome_${outcome || 'ended'}`));
      }
      break;
    default:
  }
}
