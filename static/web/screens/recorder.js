// Record audio in the browser with MediaRecorder (Chrome: Opus in WebM, Safari: AAC in MP4;
// the media pipeline accepts both). A toggle button: press to record, press again to stop.
import { h, icon, notify } from '../dom.js';
import { t } from '../i18n.js';

const TYPES = {
  audio: ['audio/webm;codecs=opus', 'audio/webm', 'audio/mp4', 'audio/ogg;codecs=opus'],
  video: ['video/webm;codecs=vp8,opus', 'video/webm', 'video/mp4'],
};

function pickType(video) {
  for (const type of TYPES[video ? 'video' : 'audio']) {
    if (window.MediaRecorder && MediaRecorder.isTypeSupported(type)) return type;
  }
  return '';
}

export function recorderButton({ label, onRecorded, id = 'record', video = false }) {
  let recorder = null;
  let chunks = [];
  let started = 0;
  const button = h('button', { type: 'button', class: 'secondary icon', id, 'aria-pressed': 'false', title: label },
    icon(video ? 'video' : 'mic'), h('span', { class: 'sr' }, label));
  button.addEventListener('click', async () => {
    if (recorder) { recorder.stop(); return; }
    if (!window.MediaRecorder || !navigator.mediaDevices) { notify(t('no_recorder'), 'error'); return; }
    let stream;
    try { stream = await navigator.mediaDevices.getUserMedia({ audio: true, video }); } catch { notify(t('mic_denied'), 'error'); return; }
    const mimeType = pickType(video);
    recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    chunks = [];
    recorder.addEventListener('dataavailable', (e) => { if (e.data.size) chunks.push(e.data); });
    recorder.addEventListener('stop', () => {
      stream.getTracks().forEach((track) => track.stop());
      const type = recorder.mimeType || mimeType || (video ? 'video/webm' : 'audio/webm');
      const blob = new Blob(chunks, { type: type.split(';')[0] });
      recorder = null;
      button.setAttribute('aria-pressed', 'false');
      button.classList.remove('recording');
      if (Date.now() - started < 500 || !blob.size) { notify(t('too_short')); return; }
      const base = video ? 'video' : 'voice';
      onRecorded(blob, `${base}.${type.includes('mp4') ? (video ? 'mp4' : 'm4a') : type.includes('ogg') ? 'ogg' : 'webm'}`);
    });
    started = Date.now();
    recorder.start(250);
    button.setAttribute('aria-pressed', 'true');
    button.classList.add('recording');
    notify(t('recording'));
  });
  return button;
}
