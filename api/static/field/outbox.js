/* The phone's store and outbox, shared by the page and the service worker (no DOM here).
 *
 * Every entry is written to IndexedDB first, with its Idempotency-Key made when the user taps
 * Simpan; syncOutbox() sends what is pending, one entry at a time, under a Web Lock so the page
 * and the service worker never send at once. The key makes a resend (after a lost reply, a killed
 * page, a second sync) the same record on the server: never two. 5xx, 429 and network failures
 * wait with exponential backoff (base x 2^tries, capped; the phone's kv 'backoff' may set
 * { base_ms, max_ms }: the tests shorten it); any other refusal is kept with its reason, shown
 * to the user. */
/* exported openStore, kvGet, kvPut, addEntry, allEntries, syncOutbox, newKey, wibNow */
'use strict';

const DB_NAME = 'bantar-field';
const BACKOFF = { base_ms: 1000, max_ms: 5 * 60 * 1000 };
const SEND_TIMEOUT_MS = 30 * 1000;  // a hung request must not hold the outbox's lock

function openStore() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('kv');
      db.createObjectStore('outbox', { keyPath: 'key' }).createIndex('created', 'created');
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function tx(db, store, mode, work) {
  return new Promise((resolve, reject) => {
    const t = db.transaction(store, mode, { durability: 'strict' });
    let result;
    Promise.resolve(work(t.objectStore(store))).then((r) => { result = r; });
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function kvGet(db, key) {
  return tx(db, 'kv', 'readonly', (s) => request(s.get(key)));
}

async function kvPut(db, key, value) {
  return tx(db, 'kv', 'readwrite', (s) => { s.put(value, key); });
}

async function addEntry(db, entry) {
  const full = Object.assign({ state: 'pending', tries: 0, next_at: 0, created: Date.now() }, entry);
  await tx(db, 'outbox', 'readwrite', (s) => { s.add(full); });
  return full;
}

async function putEntry(db, entry) {
  return tx(db, 'outbox', 'readwrite', (s) => { s.put(entry); });
}

async function allEntries(db) {
  return tx(db, 'outbox', 'readonly', (s) => request(s.index('created').getAll()));
}

function newKey(prefix) {
  const random = new Uint8Array(6);
  crypto.getRandomValues(random);
  return `${prefix}-${Date.now().toString(36)}-${Array.from(random, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function wibNow(at) {
  /* RFC 3339 in WIB (UTC+7), as the stored readings expect */
  const shifted = new Date((at || Date.now()) + 7 * 3600 * 1000);
  return shifted.toISOString().slice(0, 19) + '+07:00';
}

async function send(session, step, key) {
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${session.token}` };
  if (key) headers['Idempotency-Key'] = key;
  const body = step.body === null || step.body === undefined ? undefined : JSON.stringify(step.body);
  const response = await fetch(step.path, { method: step.method, headers, body, signal: AbortSignal.timeout(SEND_TIMEOUT_MS) });
  let answer = null;
  try { answer = await response.json(); } catch (_) { answer = null; }
  return { status: response.status, body: answer };
}

async function syncOnce(db, onChange, force) {
  const session = await kvGet(db, 'session');
  if (!session) return { sent: 0, stopped: 'no_session' };
  const backoff = Object.assign({}, BACKOFF, await kvGet(db, 'backoff'));
  let sent = 0;
  let refused = 0;
  for (const entry of await allEntries(db)) {
    if (entry.state !== 'pending') continue;
    /* in the order they were made: nothing overtakes an entry still waiting out its backoff (a
     * patrol sent before its duty start would be refused as outside the duty) */
    if (!force && entry.next_at > Date.now()) break;
    let outcome;
    try {
      const steps = entry.link && !entry.main_done ? [['main', entry], ['link', entry.link]]
        : entry.link ? [['link', entry.link]] : [['main', entry]];
      for (const [name, step] of steps) {
        outcome = await send(session, step, name === 'main' && entry.method === 'POST' ? entry.key : null);
        if (outcome.status >= 300) break;
        if (name === 'main' && entry.link) { entry.main_done = true; await putEntry(db, entry); }
      }
    } catch (_) {
      outcome = { status: 0, body: null };  // no network
    }
    const { status, body } = outcome;
    if (status >= 200 && status < 300) {
      entry.state = 'sent';
      entry.sent_at = Date.now();
      entry.error = null;
      sent += 1;
    } else if (status === 0 || status >= 500 || status === 429) {
      entry.tries += 1;
      entry.next_at = Date.now() + Math.min(backoff.max_ms, backoff.base_ms * 2 ** Math.min(entry.tries, 12));
      entry.error = { reason: status === 0 ? 'offline' : `http_${status}` };
      await putEntry(db, entry);
      if (onChange) onChange();
      return { sent, refused, stopped: status === 0 ? 'offline' : 'server' };
    } else if (status === 401) {
      return { sent, refused, stopped: 'unauthorized' };
    } else {
      entry.state = 'refused';
      entry.error = body && body.reason ? body : { reason: `http_${status}`, detail: '', detail_id: '' };
      refused += 1;
    }
    await putEntry(db, entry);
    if (onChange) onChange();
  }
  return { sent, refused, stopped: null };
}

async function syncOutbox(db, onChange, force) {
  /* one sync at a time across the page and the service worker; ``force`` (the network is back,
   * the app opens, the user taps Kirim) sends entries still waiting out their backoff */
  if (self.navigator && navigator.locks) {
    return navigator.locks.request('bantar-outbox', () => syncOnce(db, onChange, force));
  }
  return syncOnce(db, onChange, force);
}
