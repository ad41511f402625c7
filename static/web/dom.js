// A tiny element builder (no inline handlers: listeners are attached here) and helpers.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'text') el.textContent = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function mount(...children) {
  const main = document.getElementById('main');
  main.replaceChildren(...children);
  return main;
}

let bannerTimer = null;
export function notify(text, kind = 'info') {
  const banner = document.getElementById('banner');
  banner.replaceChildren(h('p', { class: `note ${kind}` }, text));
  clearTimeout(bannerTimer);
  bannerTimer = setTimeout(() => banner.replaceChildren(), kind === 'error' ? 8000 : 4000);
}

// A labelled input: every control has a visible label (accessibility).
let uid = 0;
export function field(label, attrs = {}, hint) {
  const id = attrs.id || `f${++uid}`;
  const input = h(attrs.tag || 'input', { ...attrs, tag: undefined, id, 'aria-describedby': hint ? `${id}-hint` : undefined });
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const now = new Date();
  return d.toDateString() === now.toDateString()
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// A decorative icon from static/web/icons (the button around it carries the label).
export function icon(name) {
  return h('img', { src: `${document.body.dataset.static}icons/${name}.svg`, alt: '', class: 'icon-img', width: 20, height: 20 });
}
