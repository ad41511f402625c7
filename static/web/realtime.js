// The WebSocket at /ws/v1/ plus catch-up through GET /api/v1/sync, as docs/chat.md says:
// authenticate with an {"type": "auth"} frame (a browser cannot set headers on the upgrade),
// keep the event cursor, and after any drop fetch the events missed with /sync?since=cursor.
import { api, session } from './api.js';

const CURSOR_KEY = 'meetnow.sync_cursor';

export class Realtime extends EventTarget {
  constructor() {
    super();
    this.ws = null;
    this.cursor = Number(localStorage.getItem(CURSOR_KEY) || 0) || null;
    this.retry = 0;
    this.stopped = true;
    this.online = false;
    this.timer = null;
    this.onOnline = () => this.reconnectNow();
    // The browser says the network is gone: stop trusting the socket (it may linger
    // half-open); reconnect and catch up with /sync when the network is back.
    this.onOffline = () => { if (this.ws) this.ws.close(4000); };
    this.onVisibility = () => this.sendPresence();
  }

  async start() {
    this.stopped = false;
    if (this.cursor === null) await this.resetCursor();
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisibility);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisibility);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.setOnline(false);
  }

  async resetCursor() {
    const r = await api('GET', 'sync');
    this.saveCursor(r.cursor);
  }

  saveCursor(value) {
    if (value === null || value === undefined) return;
    if (this.cursor !== null && value <= this.cursor) return;
    this.cursor = value;
    localStorage.setItem(CURSOR_KEY, String(value));
  }

  setOnline(value) {
    if (this.online === value) return;
    this.online = value;
    this.dispatchEvent(new CustomEvent('status', { detail: { online: value } }));
  }

  connect() {
    if (this.stopped || !session.token) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws/v1/`);
    this.ws = ws;
    ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'auth', token: session.token })));
    ws.addEventListener('message', (e) => this.onFrame(JSON.parse(e.data)));
    ws.addEventListener('close', (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setOnline(false);
      if (e.code === 4001) { this.dispatchEvent(new CustomEvent('ended')); return; }
      if (e.code === 4004) { this.dispatchEvent(new CustomEvent('consent', { detail: { code: e.reason } })); return; }
      if (this.stopped) return;
      const delay = Math.min(30000, 500 * 2 ** this.retry++);
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  reconnectNow() {
    if (this.stopped || (this.ws && this.ws.readyState <= 1)) return;
    clearTimeout(this.timer);
    this.retry = 0;
    this.connect();
  }

  send(frame) {
    if (this.ws && this.ws.readyState === 1 && this.online) { this.ws.send(JSON.stringify(frame)); return true; }
    return false;
  }

  sendPresence() {
    this.send({ type: 'presence', state: document.hidden ? 'background' : 'foreground' });
  }

  async onFrame(frame) {
    if (frame.type === 'ready') {
      this.retry = 0;
      this.setOnline(true);
      this.sendPresence();
      await this.catchUp();
      return;
    }
    if (frame.type === 'heartbeat' || frame.type === 'pong') return;
    if (frame.seq !== undefined) {
      if (this.cursor !== null && frame.seq <= this.cursor) return; // already applied by sync
      if (this.cursor !== null && frame.seq > this.cursor + 1) { await this.catchUp(); return; }
      this.saveCursor(frame.seq);
    }
    this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
  }

  // Everything after the cursor, page by page; 410 means "refetch everything".
  async catchUp() {
    if (this.syncing) { this.syncAgain = true; return; }
    this.syncing = true;
    try {
      do {
        this.syncAgain = false;
        let more = true;
        while (more) {
          let page;
          try {
            page = await api('GET', `sync?since=${this.cursor || 0}`);
          } catch (err) {
            if (err.status === 410) {
              await this.resetCursor();
              this.dispatchEvent(new CustomEvent('refetch'));
              return;
            }
            throw err;
          }
          for (const event of page.events) {
            if (this.cursor !== null && event.seq <= this.cursor) continue;
            this.saveCursor(event.seq);
            this.dispatchEvent(new CustomEvent('frame', { detail: event }));
          }
          this.saveCursor(page.cursor);
          more = page.has_more;
        }
      } while (this.syncAgain);
    } finally {
      this.syncing = false;
    }
  }
}
