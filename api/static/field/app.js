/* BANTAR Lapangan: the field app for bank sampah operators, security posts and RT heads.
 * Bahasa Indonesia first (English switch), one column, every entry saved on the phone first
 * (outbox.js) and sent when there is a network. No framework: h() builds elements, and user
 * text only ever goes in as text, never as HTML. */
/* global openStore, kvGet, kvPut, addEntry, allEntries, syncOutbox, newKey, wibNow, jsQR, qrcode */
'use strict';

const T = {
  id: {
    signin_title: 'Masuk', signin_help: 'Buka tautan masuk dari ketua RT atau admin, atau pindai kode QR-nya. Kode hanya bisa dipakai sekali.',
    code: 'Kode atau tautan masuk', signin: 'Masuk', scan_code: 'Pindai kode masuk', signed_in_as: 'Masuk sebagai',
    revoked_title: 'Akses dicabut', new_code: 'Masuk dengan kode baru',
    pending: (n) => `${n} belum terkirim`, all_sent: 'Semua terkirim', refused_n: (n) => `${n} ditolak`,
    st_pending: 'Belum terkirim', st_sent: 'Terkirim', st_refused: 'Ditolak',
    save: 'Simpan', send_now: 'Kirim sekarang', outbox: 'Catatan di ponsel', nothing: 'Belum ada catatan.',
    deposit: 'Setor', members: 'Anggota', prices: 'Harga', recap: 'Rekap', history: 'Riwayat',
    duty: 'Jaga', patrol: 'Patroli', incident: 'Kejadian', gotong: 'Gotong royong', evidence: 'Bukti RT',
    checkpoints: 'Titik patroli', codes: 'Kode masuk',
    member: 'Anggota', material: 'Bahan', kg: 'Berat (kg)', kg_hint: 'mis. 2,5', total: 'Jumlah',
    new_member: '+ Anggota baru', no_members: 'Belum ada anggota: daftarkan dulu.', no_prices: 'Belum ada harga: isi daftar harga dulu.',
    bad_kg: 'Tulis berat seperti 2,5 (lebih dari 0, paling banyak 500).', receipt: 'Bukti setor', share: 'Bagikan',
    correct: 'Koreksi', correcting: 'Koreksi untuk setoran', corrects: 'mengoreksi',
    name: 'Nama', phone: 'Nomor HP (boleh kosong)', register: 'Daftarkan', book: 'Buku tabungan', balance: 'Saldo',
    withdraw: 'Tarik tabungan', amount: 'Jumlah (Rp)', bad_amount: 'Tulis jumlah rupiah, mis. 50.000.',
    remove_member: 'Hapus anggota', removed: 'Anggota dihapus.', deposits_word: 'Setoran', withdrawal_word: 'Penarikan',
    grade: 'Jenis (boleh kosong), mis. botol PET', price: 'Harga per kg (Rp)', valid_from: 'Berlaku mulai',
    in_force: 'Harga yang berlaku hari ini', month: 'Bulan', download_csv: 'Unduh CSV', download_xlsx: 'Unduh Excel (XLSX)',
    active_members: 'Anggota aktif', turnover: 'Perputaran', n_deposits: 'Jumlah setoran', offline_data: 'Tidak ada jaringan: data terakhir di ponsel.',
    needs_network: 'Butuh jaringan. Coba lagi nanti.',
    from_scale: 'Ambil dari timbangan', scale_needs_network: 'Ambil dari timbangan butuh jaringan: tulis beratnya sendiri.',
    no_weighings: 'Belum ada hasil timbangan baru.', weighed: (kg, time) => `Dari timbangan: ${kg}, ${time}`,
    retry_offline: 'Menunggu jaringan', retry_server: (n, time) => `Server belum bisa menerima (percobaan ${n}), dicoba lagi ${time}`,
    guards: 'Jumlah penjaga', start_duty: 'Mulai jaga', end_duty: 'Selesai jaga', on_duty_since: (t, g) => `Sedang jaga sejak ${t}, ${g} penjaga`,
    off_duty: 'Tidak sedang jaga.', scan_live: 'Pindai dengan kamera', scan_photo: 'Foto kode QR', stop_camera: 'Tutup kamera',
    patrol_ok: (label) => `Patroli tercatat: ${label}`, no_qr: 'Tidak ada kode QR yang terbaca. Coba lagi lebih dekat.',
    category: 'Jenis kejadian', note: 'Keterangan (boleh kosong)', choose_category: 'Pilih jenis kejadian.',
    activity: 'Kegiatan', attendance: 'Jumlah yang hadir', date: 'Tanggal',
    good: 'Yang berjalan baik', missing: 'Yang perlu diperbaiki', insufficient: 'Bukti kurang (sensor atau laporan tidak cukup)',
    assessor_sees: 'Yang dilihat penilai', assessor_text: 'Penilai melihat skor yang disarankan di bawah ini dan bukti harian di balik setiap skor, untuk 30 hari terakhir.',
    level: { 2: 'baik', 1: 'sedang', 0: 'kurang', null: 'bukti kurang' },
    label: 'Nama tempat, mis. Gerbang masjid', add_checkpoint: 'Tambah titik', print: 'Cetak',
    code_for: 'Untuk siapa', role_operator: 'Operator bank sampah', role_security_post: 'Pos ronda', make_code: 'Buat kode masuk',
    code_once: 'Tunjukkan kode ini ke ponselnya atau kirim tautannya. Hanya bisa dipakai sekali.', used: 'sudah dipakai', unused: 'belum dipakai',
    app_only_rt: 'Aplikasi lapangan ini untuk token satu RT.', saved: 'Tersimpan di ponsel.', sign_out: 'Keluar',
    reasons: {},
  },
  en: {
    signin_title: 'Sign in', signin_help: 'Open the sign-in link from your RT head or admin, or scan its QR code. A code works only once.',
    code: 'Sign-in code or link', signin: 'Sign in', scan_code: 'Scan sign-in code', signed_in_as: 'Signed in as',
    revoked_title: 'Access revoked', new_code: 'Sign in with a new code',
    pending: (n) => `${n} not sent`, all_sent: 'All sent', refused_n: (n) => `${n} refused`,
    st_pending: 'Not sent', st_sent: 'Sent', st_refused: 'Refused',
    save: 'Save', send_now: 'Send now', outbox: 'Entries on this phone', nothing: 'No entries yet.',
    deposit: 'Deposit', members: 'Members', prices: 'Prices', recap: 'Recap', history: 'History',
    duty: 'Duty', patrol: 'Patrol', incident: 'Incident', gotong: 'Gotong royong', evidence: 'RT evidence',
    checkpoints: 'Checkpoints', codes: 'Sign-in codes',
    member: 'Member', material: 'Material', kg: 'Weight (kg)', kg_hint: 'e.g. 2,5', total: 'Total',
    new_member: '+ New member', no_members: 'No members yet: register one first.', no_prices: 'No prices yet: fill in the price list first.',
    bad_kg: 'Write the weight like 2,5 (more than 0, at most 500).', receipt: 'Deposit receipt', share: 'Share',
    correct: 'Correct', correcting: 'Correction of deposit', corrects: 'corrects',
    name: 'Name', phone: 'Phone (optional)', register: 'Register', book: 'Savings book', balance: 'Balance',
    withdraw: 'Withdraw savings', amount: 'Amount (Rp)', bad_amount: 'Write an amount in rupiah, e.g. 50.000.',
    remove_member: 'Remove member', removed: 'Member removed.', deposits_word: 'Deposit', withdrawal_word: 'Withdrawal',
    grade: 'Grade (optional), e.g. PET bottles', price: 'Price per kg (Rp)', valid_from: 'Valid from',
    in_force: 'Prices in force today', month: 'Month', download_csv: 'Download CSV', download_xlsx: 'Download Excel (XLSX)',
    active_members: 'Active members', turnover: 'Turnover', n_deposits: 'Deposits', offline_data: 'No network: the last data on this phone.',
    needs_network: 'Needs a network. Try again later.',
    from_scale: 'Take from the scale', scale_needs_network: 'Taking from the scale needs a network: type the weight.',
    no_weighings: 'No new weighings yet.', weighed: (kg, time) => `From the scale: ${kg}, ${time}`,
    retry_offline: 'Waiting for a network', retry_server: (n, time) => `The server could not take it (try ${n}), trying again ${time}`,
    guards: 'Guards on duty', start_duty: 'Start duty', end_duty: 'End duty', on_duty_since: (t, g) => `On duty since ${t}, ${g} guards`,
    off_duty: 'Not on duty.', scan_live: 'Scan with camera', scan_photo: 'Photo of QR code', stop_camera: 'Close camera',
    patrol_ok: (label) => `Patrol recorded: ${label}`, no_qr: 'No QR code could be read. Try again, closer.',
    category: 'Kind of incident', note: 'Note (optional)', choose_category: 'Choose the kind of incident.',
    activity: 'Activity', attendance: 'People who took part', date: 'Date',
    good: 'Going well', missing: 'Needs work', insufficient: 'Insufficient evidence (too few sensor readings or reports)',
    assessor_sees: 'What the assessor sees', assessor_text: 'The assessor sees the suggested scores below and the daily evidence behind each, for the last 30 days.',
    level: { 2: 'good', 1: 'fair', 0: 'poor', null: 'insufficient evidence' },
    label: 'Place name, e.g. Mosque gate', add_checkpoint: 'Add checkpoint', print: 'Print',
    code_for: 'For whom', role_operator: 'Bank sampah operator', role_security_post: 'Security post', make_code: 'Create sign-in code',
    code_once: 'Show this code to their phone or send the link. It works only once.', used: 'used', unused: 'not used yet',
    app_only_rt: 'This field app is for single-RT tokens.', saved: 'Saved on this phone.', sign_out: 'Sign out',
    reasons: {
      not_a_checkpoint: 'This QR code is not a BANTAR patrol checkpoint', checkpoint_other_rt: "This checkpoint belongs to another RT",
      patrol_outside_duty: 'Patrols can only be recorded on duty: start the duty first',
      unknown_checkpoint: 'This checkpoint is not registered in this RT: ask the RT head to print its code',
      weighing_taken: 'This weighing was already used for another deposit',
      weighing_mismatch: "The deposit's weight differs from the chosen weighing",
      unknown_weighing: 'No such weighing in this RT (or it is too old)',
    },
  },
};

const S = { db: null, session: null, me: null, catalogue: null, lang: localStorage.getItem('lang') || 'id', entries: [] };
const $ = (css) => document.querySelector(css);

function t(key, ...args) {
  const value = T[S.lang][key] ?? T.id[key];
  return typeof value === 'function' ? value(...args) : value;
}

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const child of children.flat(Infinity)) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

const rupiah = (n) => `Rp ${Math.round(n).toLocaleString('id-ID')}`;
const kgText = (x) => `${x.toLocaleString('id-ID', { maximumFractionDigits: 3 })} kg`;
const timeText = (iso) => new Date(iso).toLocaleString(S.lang === 'id' ? 'id-ID' : 'en-GB', { timeZone: 'Asia/Jakarta', dateStyle: 'medium', timeStyle: 'short' });
const todayWib = () => wibNow().slice(0, 10);
const rt = () => S.session.scope_code;

function parseDecimal(text) {
  const clean = String(text).trim().replace(/\s/g, '');
  if (!/^\d{1,3}([.,]\d{1,3})?$/.test(clean)) return null;
  const value = Number(clean.replace(',', '.'));
  return value > 0 && value <= 500 ? value : null;
}

function parseRupiah(text) {
  const clean = String(text).trim().replace(/^rp\.?/i, '').replace(/[.\s]/g, '');
  return /^\d{1,9}$/.test(clean) && Number(clean) > 0 ? Number(clean) : null;
}

function reasonText(error) {
  if (!error) return '';
  if (S.lang === 'en') return T.en.reasons[error.reason] || error.detail || error.reason;
  return (S.catalogue && S.catalogue.reasons_id[error.reason]) || error.detail_id || error.reason;
}

function materialName(code) {
  const names = S.catalogue && S.catalogue.materials[code];
  return names ? names[S.lang] : code;
}

function categoryName(code) {
  const names = S.catalogue && S.catalogue.incident_categories[code];
  return names ? names[S.lang] : code;
}

/* --- network ----------------------------------------------------------------------------- */
async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${S.session.token}` }, options.headers || {});
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method: options.method || 'GET', headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  } catch (_) {
    return { status: 0, body: null };
  }
  if (options.raw) return { status: response.status, response };
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (response.status === 401) await checkSession();
  return { status: response.status, body };
}

async function cached(key, path) {
  /* the server's answer when there is one (kept on the phone), the kept one otherwise */
  const { status, body } = await api(path);
  if (status === 200) {
    await kvPut(S.db, key, body);
    return { data: body, fresh: true };
  }
  return { data: await kvGet(S.db, key), fresh: false, status, error: body };
}

async function refreshEntries() {
  S.entries = await allEntries(S.db);
  const pending = S.entries.filter((e) => e.state === 'pending').length;
  const refused = S.entries.filter((e) => e.state === 'refused').length;
  const status = $('#outbox-status');
  status.textContent = pending ? t('pending', pending) : refused ? t('refused_n', refused) : t('all_sent');
  status.className = `status${pending || refused ? ' pending' : ''}`;
  status.dataset.pending = pending;
}

let syncTimer = null;
async function syncNow(force) {
  if (!S.session) return;
  const result = await syncOutbox(S.db, refreshEntries, force === true);
  await synced(result);
}

async function synced(result) {
  /* after a sync by the page or the service worker: the screen, and the next try when the
   * first entry still waiting is due (its backoff: the entries after it wait for it) */
  await refreshEntries();
  if (result && result.stopped === 'unauthorized') await checkSession();
  const first = S.entries.find((e) => e.state === 'pending');
  clearTimeout(syncTimer);
  if (first) syncTimer = setTimeout(syncNow, Math.max(50, first.next_at - Date.now()));
  if (!result || result.sent || result.refused || result.stopped === 'server') rerenderIfListing();
}

async function save(entry) {
  /* Simpan: on the phone first, with its Idempotency-Key; then sent by a background sync of the
   * service worker where the browser has one (it fires when there is a network), by the page
   * otherwise (and on open, when online, on Kirim, after each backoff) */
  const full = await addEntry(S.db, Object.assign({ key: newKey(entry.kind) }, entry));
  await refreshEntries();
  try {
    const registration = await navigator.serviceWorker?.ready;
    if (registration && registration.sync) {
      await registration.sync.register('outbox');
      return full;
    }
  } catch (_) { /* no background sync here */ }
  syncNow();
  return full;
}

/* --- session ----------------------------------------------------------------------------- */
async function signIn(code) {
  const response = await fetch('/api/v1/sign-in', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }),
  }).catch(() => null);
  if (!response) return { reason: 'offline', detail_id: t('needs_network'), detail: t('needs_network') };
  const body = await response.json();
  if (response.status !== 201) return body;
  S.session = body;
  await kvPut(S.db, 'session', body);
  await loadBasics();
  return null;
}

async function checkSession() {
  const response = await fetch('/api/v1/field/me', { headers: { Authorization: `Bearer ${S.session.token}` } }).catch(() => null);
  if (!response) return;
  if (response.status === 200) {
    S.me = await response.json();
    await kvPut(S.db, 'me', S.me);
  } else if (response.status === 401) {
    S.revoked = await response.json();
    location.hash = '#/dicabut';
  }
}

async function loadBasics() {
  S.catalogue = (await cached('catalogue', '/api/v1/field/catalogue')).data;
  await checkSession();
  S.me = S.me || (await kvGet(S.db, 'me'));
  if (S.session.scope_level !== 'rt') return;
  // what the role needs with no network, fetched while there is one
  const needs = {
    operator: [['members', `/api/v1/rts/${rt()}/bank-sampah/members`], ['prices', `/api/v1/rts/${rt()}/bank-sampah/prices`]],
    security_post: [['checkpoints', `/api/v1/rts/${rt()}/poskamling/checkpoints`]],
  }[S.session.role] || [];
  await Promise.all(needs.map(([key, path]) => cached(key, path)));
}

function whoLine() {
  const el = $('#who');
  el.textContent = S.session ? `${t('signed_in_as')}: ${S.session.name}${S.me && S.me.rt_label ? ` · ${S.me.rt_label}` : ''}` : '';
}

/* --- tabs and routing -------------------------------------------------------------------- */
const TABS = {
  operator: [['setor', 'deposit'], ['anggota', 'members'], ['harga', 'prices'], ['rekap', 'recap']],
  security_post: [['jaga', 'duty'], ['patroli', 'patrol'], ['kejadian', 'incident'], ['riwayat', 'history']],
  rt_head: [['gotong', 'gotong'], ['bukti', 'evidence'], ['titik', 'checkpoints'], ['kode', 'codes']],
};

function drawTabs(current) {
  const nav = $('#tabs');
  nav.replaceChildren(...(S.session ? TABS[S.session.role] || [] : []).map(([path, label]) =>
    h('a', { href: `#/${path}`, class: current === path ? 'active' : null }, t(label))));
}

function view(...children) {
  $('#view').replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

let listing = null;
function rerenderIfListing() {
  if (listing && location.hash.startsWith(listing)) route();
}

async function route() {
  const asked = location.hash;
  document.body.dataset.screen = '';
  await render();
  if (location.hash === asked) document.body.dataset.screen = asked;  // drawn: for tests and screen readers alike
}

async function render() {
  await stopCamera();
  const [path, ...args] = location.hash.replace(/^#\/?/, '').split('/');
  if (location.hash.startsWith('#masuk=')) return signInFromLink(location.hash.slice(7));
  whoLine();
  if (!S.session) return screenSignIn();
  if (path === 'dicabut') return screenRevoked();
  if (S.session.scope_level !== 'rt') return view(h('p', { class: 'error' }, t('app_only_rt')));
  const home = (TABS[S.session.role] || [['kirim']])[0][0];
  const name = path || home;
  drawTabs(name);
  listing = null;
  const screens = {
    setor: screenDeposit, struk: screenReceipt, anggota: screenMembers, buku: screenBook, tarik: screenWithdraw,
    harga: screenPrices, rekap: screenRecap, jaga: screenDuty, patroli: screenPatrol, kejadian: screenIncident,
    riwayat: screenHistory, gotong: screenGotong, bukti: screenEvidence, titik: screenCheckpoints, kode: screenCodes,
    kirim: screenOutbox,
  };
  return (screens[name] || screenOutbox)(...args.map(decodeURIComponent));
}

/* --- sign-in ----------------------------------------------------------------------------- */
async function signInFromLink(code) {
  view(h('h1', {}, t('signin_title')), h('p', {}, '…'));
  const error = await signIn(decodeURIComponent(code));
  history.replaceState(null, '', '/app/#/');  // the code never stays in the address bar
  if (error) return screenSignIn(error);
  return route();
}

function codeFromText(text) {
  const match = /masuk=([A-Za-z0-9._-]+)/.exec(text);
  return match ? match[1] : text.trim();
}

function screenSignIn(error) {
  drawTabs(null);
  const field = h('input', { id: 'code', autocomplete: 'off' });
  const message = h('div', { id: 'message', class: error ? 'error' : 'hidden' }, error ? reasonText(error) : '');
  const submit = async (code) => {
    const problem = await signIn(codeFromText(code));
    if (problem) { message.className = 'error'; message.textContent = reasonText(problem); return; }
    location.hash = '#/';
    route();
  };
  view(
    h('h1', {}, t('signin_title')), h('p', {}, t('signin_help')), message,
    h('label', { for: 'code' }, t('code')), field,
    h('button', { id: 'signin', onclick: () => submit(field.value) }, t('signin')),
    scanner((text) => submit(text), t('scan_code')),
  );
}

function screenRevoked() {
  drawTabs(null);
  view(
    h('h1', {}, t('revoked_title')),
    h('p', { class: 'error', id: 'revoked' }, reasonText(S.revoked || { reason: 'token_revoked' })),
    h('button', {
      onclick: async () => { S.session = null; await kvPut(S.db, 'session', null); location.hash = '#/'; route(); },
    }, t('new_code')),
  );
}

/* --- the outbox on screen ---------------------------------------------------------------- */
function badge(entry) {
  return h('span', { class: `badge ${entry.state}`, 'data-state': entry.state }, t(`st_${entry.state}`));
}

function entryCard(entry) {
  return h('div', { class: 'card entry', 'data-key': entry.key },
    h('div', {}, h('div', {}, entry.summary), h('small', {}, timeText(entry.created)),
      entry.state === 'refused' ? h('div', { class: 'error' }, reasonText(entry.error)) : null,
      entry.state === 'pending' && entry.error ? h('small', { class: 'retry', 'data-tries': entry.tries },
        entry.error.reason === 'offline' ? t('retry_offline') : t('retry_server', entry.tries, timeText(entry.next_at))) : null),
    badge(entry));
}

async function screenOutbox() {
  await refreshEntries();
  listing = '#/kirim';
  const entries = [...S.entries].reverse();
  view(h('h1', {}, t('outbox')), h('button', { id: 'send-now', onclick: () => syncNow(true) }, t('send_now')),
    entries.length ? entries.map(entryCard) : h('p', {}, t('nothing')));
}

/* --- bank sampah --------------------------------------------------------------------------- */
function pricesInForce(history, day) {
  const latest = {};
  for (const p of history) {
    if (p.valid_from > day) continue;
    const key = `${p.material}|${p.grade}`;
    if (!latest[key] || p.valid_from >= latest[key].valid_from) latest[key] = p;
  }
  const order = Object.keys(S.catalogue.materials);
  return Object.values(latest).sort((a, b) => order.indexOf(a.material) - order.indexOf(b.material) || a.grade.localeCompare(b.grade));
}

async function localPrices() {
  const { data } = await cached('prices', `/api/v1/rts/${rt()}/bank-sampah/prices`);
  const history = data ? [...data.history] : [];
  for (const e of S.entries) if (e.kind === 'price' && e.state !== 'refused') history.push(e.body);
  return pricesInForce(history, todayWib());
}

async function localMembers() {
  const { data } = await cached('members', `/api/v1/rts/${rt()}/bank-sampah/members`);
  const members = new Map((data || []).map((m) => [m.household, m]));
  for (const e of S.entries) {
    if (e.state === 'refused') continue;
    if (e.kind === 'member') members.set(e.household, { household: e.household, name: e.body.name, phone: e.body.phone });
    if (e.kind === 'unmember') members.delete(e.household);
  }
  return [...members.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function priceLabel(p) {
  return `${materialName(p.material)}${p.grade ? ` — ${p.grade}` : ''} (${rupiah(p.price_idr_per_kg)}/kg)`;
}

async function screenDeposit(corrects) {
  await refreshEntries();
  const [members, prices] = await Promise.all([localMembers(), localPrices()]);
  const old = corrects ? S.entries.find((e) => e.key === corrects) : null;
  if (!members.length) return view(h('h1', {}, t('deposit')), h('p', {}, t('no_members')), h('a', { class: 'button', href: '#/anggota' }, t('new_member')));
  if (!prices.length) return view(h('h1', {}, t('deposit')), h('p', {}, t('no_prices')), h('a', { class: 'button', href: '#/harga' }, t('prices')));
  const member = h('select', { id: 'member' }, members.map((m) => h('option', { value: m.household }, m.name)));
  const material = h('select', { id: 'material' }, prices.map((p, i) => h('option', { value: i }, priceLabel(p))));
  const kg = h('input', { id: 'kg', inputmode: 'decimal', autocomplete: 'off', placeholder: t('kg_hint') });
  const total = h('div', { id: 'total', class: 'total' }, rupiah(0));
  const message = h('div', { id: 'message', class: 'hidden' });
  if (old) { member.value = old.body.household; }
  const recompute = () => {
    const weight = parseDecimal(kg.value);
    total.textContent = rupiah(weight ? weight * prices[material.value].price_idr_per_kg : 0);
  };
  let weighing = null;  // the scale's weighing the kg came from, while the kg is still its weight
  const scale = weighingPicker((w) => {
    weighing = w;
    kg.value = w.kg.toLocaleString('id-ID', { maximumFractionDigits: 3, useGrouping: false });
    recompute();
  });
  kg.addEventListener('input', () => {
    if (weighing && parseDecimal(kg.value) !== Math.round(weighing.kg * 1000) / 1000) { weighing = null; scale.forget(); }
    recompute();
  });
  material.addEventListener('change', recompute);
  const submit = async () => {
    const weight = parseDecimal(kg.value);
    if (weight === null) { message.className = 'error'; message.textContent = t('bad_kg'); return; }
    const price = prices[material.value];
    const key = newKey('d');
    const chosen = members.find((m) => m.household === member.value);
    const body = {
      ts: wibNow(), deposit_id: key, household: member.value,
      items: { [price.material]: weight }, price_idr_per_kg: { [price.material]: price.price_idr_per_kg },
    };
    const path = `/api/v1/rts/${rt()}/bank-sampah/deposits${weighing ? `?weighing=${encodeURIComponent(weighing.id)}` : ''}`;
    const entry = {
      key, kind: 'deposit', method: 'POST', path, body, weighing: weighing ? weighing.id : null,
      summary: `${chosen.name}: ${kgText(weight)} ${materialName(price.material)}${price.grade ? ` (${price.grade})` : ''} = ${rupiah(weight * price.price_idr_per_kg)}`,
      receipt: { name: chosen.name, grade: price.grade, value: Math.round(weight * price.price_idr_per_kg) },
    };
    if (old) {
      entry.corrects = old.key;
      entry.link = { method: 'PUT', path: `/api/v1/rts/${rt()}/bank-sampah/corrections/${key}`, body: { corrects: old.key, household: old.body.household, ts: old.body.ts } };
    }
    await save(entry);
    location.hash = `#/struk/${key}`;
  };
  view(h('h1', {}, t('deposit')),
    old ? h('p', { class: 'ok' }, `${t('correcting')}: ${old.summary}`) : null,
    h('label', { for: 'member' }, t('member')), member, h('a', { href: '#/anggota' }, t('new_member')),
    h('label', { for: 'material' }, t('material')), material,
    h('label', { for: 'kg' }, t('kg')), kg, scale.element,
    h('label', {}, t('total')), total, message,
    h('button', { id: 'save', onclick: submit }, t('save')));
}

function weighingPicker(onPick) {
  /* "Ambil dari timbangan": the RT's scales' recent weighings that no deposit took (the server's
   * list, less those this phone's unsent deposits took); needs the network, and says so */
  const box = h('div', { id: 'scale', class: 'scale' });
  const note = h('div', { id: 'scale-note', class: 'hidden' });
  const button = h('button', { id: 'from-scale', type: 'button', class: 'secondary' }, t('from_scale'));
  const choices = h('div', { id: 'weighings', class: 'grid' });
  const showOnline = () => {
    button.disabled = !navigator.onLine;
    if (!navigator.onLine) { note.className = 'offline-note'; note.textContent = t('scale_needs_network'); choices.replaceChildren(); }
    else if (note.className === 'offline-note') { note.className = 'hidden'; note.textContent = ''; }
  };
  const show = async () => {
    const { status, body } = await api(`/api/v1/rts/${rt()}/bank-sampah/weighings`);
    if (status !== 200) { note.className = 'offline-note'; note.textContent = status ? reasonText(body) : t('scale_needs_network'); return; }
    const taken = new Set(S.entries.filter((e) => e.weighing && e.state !== 'refused').map((e) => e.weighing));
    const fresh = body.filter((w) => !taken.has(w.id));
    if (!fresh.length) { note.className = ''; note.textContent = t('no_weighings'); choices.replaceChildren(); return; }
    note.className = 'hidden';
    choices.replaceChildren(...fresh.map((w) => h('button', {
      type: 'button', class: 'secondary weighing', 'data-weighing': w.id,
      onclick: () => { onPick(w); choices.replaceChildren(); note.className = 'ok'; note.textContent = t('weighed', kgText(w.kg), timeText(w.ts)); },
    }, `${kgText(w.kg)} · ${timeText(w.ts)}`)));
  };
  button.addEventListener('click', show);
  const onNetwork = () => {
    if (box.isConnected) { showOnline(); return; }
    window.removeEventListener('online', onNetwork);
    window.removeEventListener('offline', onNetwork);
  };
  window.addEventListener('online', onNetwork);
  window.addEventListener('offline', onNetwork);
  showOnline();
  box.append(button, note, choices);
  return { element: box, forget: () => { note.className = 'hidden'; note.textContent = ''; } };
}

async function screenReceipt(key) {
  await refreshEntries();
  listing = `#/struk/${key}`;
  const entry = S.entries.find((e) => e.key === key);
  if (!entry) return screenOutbox();
  const [material, kg] = Object.entries(entry.body.items)[0];
  const text = [`${t('receipt')} — BANTAR`, S.me && S.me.rt_label, entry.receipt.name, timeText(entry.body.ts),
    `${materialName(material)}${entry.receipt.grade ? ` (${entry.receipt.grade})` : ''}: ${kgText(kg)} × ${rupiah(entry.body.price_idr_per_kg[material])}`,
    `${t('total')}: ${rupiah(entry.receipt.value)}`, `No. ${key}`].filter(Boolean).join('\n');
  const share = async () => {
    if (navigator.share) await navigator.share({ title: t('receipt'), text }).catch(() => null);
    else await navigator.clipboard?.writeText(text).catch(() => null);
  };
  view(h('h1', {}, t('receipt')),
    h('div', { class: 'card receipt', id: 'receipt' }, h('pre', { class: 'receipt-text' }, text),
      h('p', {}, badge(entry)), entry.corrects ? h('small', {}, `${t('corrects')} ${entry.corrects}`) : null),
    h('button', { onclick: share }, t('share')),
    h('a', { class: 'button secondary', href: `#/setor/${key}` }, t('correct')),
    h('a', { class: 'button secondary', href: '#/setor' }, t('deposit')));
}

async function screenMembers() {
  await refreshEntries();
  const members = await localMembers();
  const name = h('input', { id: 'name', autocomplete: 'off' });
  const phone = h('input', { id: 'phone', inputmode: 'tel', autocomplete: 'off' });
  const submit = async () => {
    if (!name.value.trim()) return;
    const household = newKey('hh').replace(/-/g, '_');
    const body = { name: name.value.trim(), phone: phone.value.trim() || null };
    await save({ kind: 'member', household, method: 'PUT', path: `/api/v1/rts/${rt()}/bank-sampah/members/${household}`, body, summary: `${t('register')}: ${body.name}` });
    screenMembers();
  };
  view(h('h1', {}, t('members')),
    members.map((m) => h('a', { class: 'card entry member-link', href: `#/buku/${m.household}` },
      h('div', {}, h('div', {}, m.name), h('small', {}, m.phone || '')), h('span', { class: 'badge' }, t('book')))),
    h('h2', {}, t('new_member')), h('label', { for: 'name' }, t('name')), name, h('label', { for: 'phone' }, t('phone')), phone,
    h('button', { id: 'register', onclick: submit }, t('register')));
}

async function screenBook(household) {
  await refreshEntries();
  listing = `#/buku/${household}`;
  const members = await localMembers();
  const member = members.find((m) => m.household === household);
  const { data, fresh } = await cached(`book:${household}`, `/api/v1/rts/${rt()}/bank-sampah/members/${household}/book`);
  const lines = data ? data.lines : [];
  const local = S.entries.filter((e) => e.state === 'pending' && e.body && e.body.household === household && (e.kind === 'deposit' || e.kind === 'withdrawal'));
  const localSum = local.reduce((sum, e) => sum + (e.kind === 'deposit' ? e.receipt.value : -e.body.amount_idr), 0);
  const balance = (data ? data.balance_idr : 0) + localSum;
  const remove = async () => {
    await save({ kind: 'unmember', household, method: 'DELETE', path: `/api/v1/rts/${rt()}/bank-sampah/members/${household}`, body: null, summary: `${t('remove_member')}: ${member ? member.name : household}` });
    location.hash = '#/anggota';
  };
  view(h('h1', {}, `${t('book')}: ${member ? member.name : household}`),
    fresh ? null : h('p', { class: 'ok' }, t('offline_data')),
    h('div', { class: 'card' }, h('div', {}, t('balance')), h('div', { class: 'total', id: 'balance', 'data-idr': balance }, rupiah(balance))),
    h('table', {}, h('tbody', {},
      lines.map((l) => h('tr', {}, h('td', {}, timeText(l.ts)), h('td', {}, l.kind === 'deposit' ? Object.entries(l.kg).map(([m, k]) => `${materialName(m)} ${kgText(k)}`).join(', ') : t('withdrawal_word')),
        h('td', { class: 'num' }, rupiah(l.amount_idr)))),
      local.map((e) => h('tr', {}, h('td', {}, timeText(e.created)), h('td', {}, e.summary), h('td', { class: 'num' }, badge(e)))))),
    h('a', { class: 'button', href: `#/tarik/${household}` }, t('withdraw')),
    h('button', { class: 'danger', onclick: remove }, t('remove_member')));
}

async function screenWithdraw(household) {
  const members = await localMembers();
  const member = members.find((m) => m.household === household);
  const amount = h('input', { id: 'amount', inputmode: 'numeric', autocomplete: 'off', placeholder: '50.000' });
  const message = h('div', { class: 'hidden' });
  const submit = async () => {
    const idr = parseRupiah(amount.value);
    if (idr === null) { message.className = 'error'; message.textContent = t('bad_amount'); return; }
    await save({ kind: 'withdrawal', method: 'POST', path: `/api/v1/rts/${rt()}/bank-sampah/withdrawals`, body: { household, amount_idr: idr, ts: wibNow() }, summary: `${t('withdrawal_word')} ${member ? member.name : ''}: ${rupiah(idr)}` });
    location.hash = `#/buku/${household}`;
  };
  view(h('h1', {}, `${t('withdraw')}: ${member ? member.name : household}`), h('label', { for: 'amount' }, t('amount')), amount, message,
    h('button', { id: 'save', onclick: submit }, t('save')));
}

async function screenPrices() {
  await refreshEntries();
  const prices = await localPrices();
  const material = h('select', { id: 'p-material' }, Object.keys(S.catalogue.materials).map((code) => h('option', { value: code }, materialName(code))));
  const grade = h('input', { id: 'p-grade', autocomplete: 'off' });
  const price = h('input', { id: 'p-price', inputmode: 'numeric', autocomplete: 'off', placeholder: '3.000' });
  const from = h('input', { id: 'p-from', type: 'date', value: todayWib() });
  const message = h('div', { class: 'hidden' });
  const submit = async () => {
    const idr = parseRupiah(price.value);
    if (idr === null) { message.className = 'error'; message.textContent = t('bad_amount'); return; }
    const body = { material: material.value, grade: grade.value.trim(), price_idr_per_kg: idr, valid_from: from.value };
    await save({ kind: 'price', method: 'PUT', path: `/api/v1/rts/${rt()}/bank-sampah/prices`, body, summary: `${t('price')}: ${materialName(body.material)} ${body.grade} ${rupiah(idr)}` });
    screenPrices();
  };
  view(h('h1', {}, t('prices')), h('h2', {}, t('in_force')),
    h('table', {}, h('tbody', {}, prices.map((p) => h('tr', {}, h('td', {}, `${materialName(p.material)}${p.grade ? ` — ${p.grade}` : ''}`), h('td', { class: 'num' }, rupiah(p.price_idr_per_kg)))))),
    h('label', { for: 'p-material' }, t('material')), material, h('label', { for: 'p-grade' }, t('grade')), grade,
    h('label', { for: 'p-price' }, t('price')), price, h('label', { for: 'p-from' }, t('valid_from')), from, message,
    h('button', { id: 'save', onclick: submit }, t('save')));
}

async function download(month, format) {
  const { status, response } = await api(`/api/v1/rts/${rt()}/bank-sampah/recap?month=${month}&format=${format}`, { raw: true });
  if (status !== 200) return;
  const url = URL.createObjectURL(await response.blob());
  const link = h('a', { href: url, download: `rekap-bank-sampah-${rt()}-${month}.${format}` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function screenRecap(month) {
  const chosen = month || todayWib().slice(0, 7);
  const picker = h('input', { id: 'month', type: 'month', value: chosen, onchange: (e) => { location.hash = `#/rekap/${e.target.value}`; } });
  const { data, fresh } = await cached(`recap:${chosen}`, `/api/v1/rts/${rt()}/bank-sampah/recap?month=${chosen}`);
  view(h('h1', {}, t('recap')), h('label', { for: 'month' }, t('month')), picker,
    fresh ? null : h('p', { class: 'ok' }, data ? t('offline_data') : t('needs_network')),
    data ? h('table', { id: 'recap' }, h('tbody', {},
      Object.entries(data.kg_by_material).map(([m, kg]) => h('tr', {}, h('td', {}, materialName(m)), h('td', { class: 'num' }, kgText(kg)))),
      h('tr', {}, h('th', {}, t('n_deposits')), h('td', { class: 'num' }, String(data.deposits))),
      h('tr', {}, h('th', {}, t('active_members')), h('td', { class: 'num' }, String(data.active_members))),
      h('tr', {}, h('th', {}, t('turnover')), h('td', { class: 'num' }, rupiah(data.turnover_idr))))) : null,
    h('button', { onclick: () => download(chosen, 'csv') }, t('download_csv')),
    h('button', { class: 'secondary', onclick: () => download(chosen, 'xlsx') }, t('download_xlsx')));
}

/* --- poskamling ---------------------------------------------------------------------------- */
async function duty() {
  return (await kvGet(S.db, 'duty')) || { on: false };
}

async function screenDuty() {
  await refreshEntries();
  const current = await duty();
  const guards = h('input', { id: 'guards', type: 'number', min: 1, max: 50, value: current.guards || 2, inputmode: 'numeric' });
  const post = (onDuty, count) => ({ kind: onDuty ? 'duty' : 'dutyend', method: 'POST', path: `/api/v1/rts/${rt()}/poskamling/reports`,
    body: { ts: wibNow(), event: 'duty', on_duty: onDuty, guards: count }, summary: `${onDuty ? t('start_duty') : t('end_duty')} (${count})` });
  const start = async () => {
    const count = Math.max(1, Math.min(50, Number(guards.value) || 1));
    await save(post(true, count));
    await kvPut(S.db, 'duty', { on: true, guards: count, since: wibNow() });
    screenDuty();
  };
  const end = async () => {
    await save(post(false, current.guards));
    await kvPut(S.db, 'duty', { on: false, guards: current.guards });
    screenDuty();
  };
  view(h('h1', {}, t('duty')),
    current.on
      ? [h('p', { class: 'ok', id: 'duty-state' }, t('on_duty_since', timeText(current.since), current.guards)), h('button', { id: 'duty-end', class: 'danger', onclick: end }, t('end_duty'))]
      : [h('p', { id: 'duty-state' }, t('off_duty')), h('label', { for: 'guards' }, t('guards')), guards, h('button', { id: 'duty-start', onclick: start }, t('start_duty'))]);
}

/* A QR scanner: the live camera where the phone allows it, a photo of the code everywhere. */
let camera = null;
async function stopCamera() {
  if (camera) { camera.getTracks().forEach((track) => track.stop()); camera = null; }
}

function decodeImage(source, width, height) {
  const canvas = h('canvas', { width, height });
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(source, 0, 0, width, height);
  const found = jsQR(context.getImageData(0, 0, width, height).data, width, height, { inversionAttempts: 'attemptBoth' });
  return found ? found.data : null;
}

function scanner(onText, label) {
  const message = h('div', { class: 'hidden scan-message' });
  const video = h('video', { class: 'hidden', playsinline: true, muted: true });
  const file = h('input', { id: 'scan-file', type: 'file', accept: 'image/*', capture: 'environment', class: 'hidden' });
  file.addEventListener('change', async () => {
    const picked = file.files[0];
    if (!picked) return;
    const bitmap = await createImageBitmap(picked);
    const scale = Math.min(1, 1024 / Math.max(bitmap.width, bitmap.height));
    const text = decodeImage(bitmap, Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
    file.value = '';
    if (text) onText(text);
    else { message.className = 'error'; message.textContent = t('no_qr'); }
  });
  const live = async () => {
    try {
      camera = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    } catch (_) { file.click(); return; }
    video.srcObject = camera;
    video.className = '';
    await video.play();
    const tick = () => {
      if (!camera) { video.className = 'hidden'; return; }
      const text = video.videoWidth ? decodeImage(video, video.videoWidth, video.videoHeight) : null;
      if (text) { stopCamera(); video.className = 'hidden'; onText(text); } else requestAnimationFrame(tick);
    };
    tick();
  };
  return h('div', { class: 'scanner' }, h('h2', {}, label), message, video,
    navigator.mediaDevices ? h('button', { id: 'scan-live', onclick: live }, t('scan_live')) : null,
    h('button', { class: 'secondary', onclick: () => file.click() }, t('scan_photo')), file);
}

function checkpointProblem(text, current, known) {
  /* why a scanned text is not a patrol check-in here and now, as a reason code; null when it is */
  const match = /^BANTAR-CP\/([0-9A-Za-z.-]{2,40})\/([A-Za-z0-9_-]{1,40})$/.exec(text.trim());
  if (!match) return { reason: 'not_a_checkpoint' };
  if (match[1] !== rt()) return { reason: 'checkpoint_other_rt' };
  if (known && known.length && !known.some((c) => c.id === match[2])) return { reason: 'not_a_checkpoint' };
  if (!current.on) return { reason: 'patrol_outside_duty' };
  return { id: match[2] };
}

async function screenPatrol() {
  await refreshEntries();
  const known = (await cached('checkpoints', `/api/v1/rts/${rt()}/poskamling/checkpoints`)).data || [];
  const result = h('div', { id: 'scan-result', class: 'hidden' });
  const onText = async (text) => {
    const found = checkpointProblem(text, await duty(), known);
    if (found.reason) {
      result.className = 'error';
      result.dataset.reason = found.reason;
      result.textContent = reasonText(found);
      return;
    }
    const label = (known.find((c) => c.id === found.id) || { label: found.id }).label;
    await save({ kind: 'patrol', method: 'POST', path: `/api/v1/rts/${rt()}/poskamling/reports`, body: { ts: wibNow(), event: 'patrol', checkpoint: found.id }, summary: `${t('patrol')}: ${label}` });
    result.className = 'ok';
    result.dataset.reason = '';
    result.textContent = t('patrol_ok', label);
  };
  const current = await duty();
  view(h('h1', {}, t('patrol')), h('p', {}, current.on ? t('on_duty_since', timeText(current.since), current.guards) : t('off_duty')), result, scanner(onText, t('patrol')));
}

async function screenIncident() {
  let chosen = null;
  const buttons = Object.keys(S.catalogue.incident_categories).map((code) => h('button', {
    class: 'secondary', 'data-code': code,
    onclick: (e) => { chosen = code; buttons.forEach((b) => { b.className = b === e.currentTarget ? '' : 'secondary'; }); },
  }, categoryName(code)));
  const note = h('textarea', { id: 'note', maxlength: 500 });
  const message = h('div', { class: 'hidden', id: 'message' });
  const submit = async () => {
    if (!chosen) { message.className = 'error'; message.textContent = t('choose_category'); return; }
    await save({ kind: 'incident', method: 'POST', path: `/api/v1/rts/${rt()}/poskamling/reports`, body: { ts: wibNow(), event: 'incident', category: chosen, note: note.value.trim() }, summary: `${t('incident')}: ${categoryName(chosen)}` });
    message.className = 'ok';
    message.textContent = t('saved');
    chosen = null;
    note.value = '';
    buttons.forEach((b) => { b.className = 'secondary'; });
  };
  view(h('h1', {}, t('incident')), h('label', {}, t('category')), h('div', { class: 'grid' }, buttons),
    h('label', { for: 'note' }, t('note')), note, message, h('button', { id: 'save', onclick: submit }, t('save')));
}

async function screenHistory() {
  await refreshEntries();
  listing = '#/riwayat';
  const mine = S.entries.filter((e) => ['duty', 'dutyend', 'patrol', 'incident'].includes(e.kind)).reverse();
  const { data, fresh } = await cached('reports', `/api/v1/rts/${rt()}/poskamling/reports`);
  const words = { duty: t('duty'), patrol: t('patrol'), incident: t('incident') };
  view(h('h1', {}, t('history')), h('h2', {}, t('outbox')), mine.length ? mine.map(entryCard) : h('p', {}, t('nothing')),
    h('h2', {}, 'Server'), fresh ? null : h('p', { class: 'ok' }, data ? t('offline_data') : t('needs_network')),
    h('table', { id: 'reports' }, h('tbody', {}, (data || []).slice(0, 100).map((r) => h('tr', {},
      h('td', {}, timeText(r.ts)), h('td', {}, `${words[r.event] || r.event}${r.event === 'duty' ? ` ${r.on_duty ? '▶' : '■'} ${r.guards}` : ''}`), h('td', {}, r.via))))));
}

/* --- RT head ------------------------------------------------------------------------------- */
async function screenGotong() {
  await refreshEntries();
  const day = h('input', { id: 'g-date', type: 'date', value: todayWib(), max: todayWib() });
  const activity = h('input', { id: 'g-activity', maxlength: 120 });
  const attendance = h('input', { id: 'g-attendance', type: 'number', min: 0, max: 5000, inputmode: 'numeric' });
  const message = h('div', { class: 'hidden' });
  const submit = async () => {
    if (!activity.value.trim() || attendance.value === '') return;
    const ts = day.value === todayWib() ? wibNow() : `${day.value}T09:00:00+07:00`;
    await save({ kind: 'gotong', method: 'POST', path: `/api/v1/rts/${rt()}/gotong-royong`, body: { ts, activity: activity.value.trim(), attendance: Number(attendance.value) }, summary: `${t('gotong')}: ${activity.value.trim()} (${attendance.value})` });
    message.className = 'ok';
    message.textContent = t('saved');
    activity.value = '';
    attendance.value = '';
  };
  view(h('h1', {}, t('gotong')), h('label', { for: 'g-date' }, t('date')), day, h('label', { for: 'g-activity' }, t('activity')), activity,
    h('label', { for: 'g-attendance' }, t('attendance')), attendance, message, h('button', { id: 'save', onclick: submit }, t('save')),
    S.entries.filter((e) => e.kind === 'gotong').reverse().map(entryCard));
}

async function screenEvidence() {
  const [scores, criteria] = await Promise.all([cached('scores', `/api/v1/rts/${rt()}/scores`), cached('criteria', '/api/v1/criteria')]);
  if (!scores.data) return view(h('h1', {}, t('evidence')), h('p', { class: 'error' }, t('needs_network')));
  const name = (c) => (criteria.data && criteria.data[c] ? criteria.data[c][S.lang] : c);
  const item = (c) => h('div', { class: 'card' }, h('strong', {}, `${name(c.criterion)}: ${T[S.lang].level[c.score]}`), h('p', {}, c.rationale[S.lang]));
  const groups = [['good', (c) => c.score === 2], ['missing', (c) => c.score === 0 || c.score === 1], ['insufficient', (c) => c.score === null]];
  view(h('h1', {}, t('evidence')), scores.fresh ? null : h('p', { class: 'ok' }, t('offline_data')),
    groups.map(([title, test]) => {
      const found = scores.data.criteria.filter(test);
      return [h('h2', {}, t(title)), found.length ? found.map(item) : h('p', {}, '—')];
    }),
    h('h2', {}, t('assessor_sees')), h('p', {}, t('assessor_text')),
    h('table', {}, h('tbody', {}, scores.data.criteria.map((c) => h('tr', {}, h('td', {}, name(c.criterion)), h('td', { class: 'num' }, c.score === null ? '—' : `${c.score} / 2`))))));
}

function qrImage(text) {
  const code = qrcode(0, 'M');
  code.addData(text);
  code.make();
  return h('img', { src: code.createDataURL(8, 16), alt: text, 'data-qr': text });
}

async function screenCheckpoints() {
  const { data } = await cached('checkpoints', `/api/v1/rts/${rt()}/poskamling/checkpoints`);
  const label = h('input', { id: 'cp-label', maxlength: 60 });
  const message = h('div', { class: 'hidden' });
  const submit = async () => {
    if (!label.value.trim()) return;
    const { status, body } = await api(`/api/v1/rts/${rt()}/poskamling/checkpoints`, { method: 'POST', body: { label: label.value.trim() } });
    if (status === 201) return screenCheckpoints();
    message.className = 'error';
    message.textContent = status ? reasonText(body) : t('needs_network');
  };
  view(h('h1', {}, t('checkpoints')),
    (data || []).map((c) => h('div', { class: 'card qr checkpoint' }, h('h2', {}, c.label), qrImage(c.qr), h('small', {}, c.qr))),
    h('div', { class: 'noprint' }, h('label', { for: 'cp-label' }, t('label')), label, message,
      h('button', { id: 'add-checkpoint', onclick: submit }, t('add_checkpoint')),
      h('button', { class: 'secondary', onclick: () => window.print() }, t('print'))));
}

async function screenCodes() {
  const name = h('input', { id: 'c-name', maxlength: 80 });
  const role = h('select', { id: 'c-role' }, h('option', { value: 'operator' }, t('role_operator')), h('option', { value: 'security_post' }, t('role_security_post')));
  const out = h('div', { id: 'new-code' });
  const submit = async () => {
    if (!name.value.trim()) return;
    const { status, body } = await api('/api/v1/sign-in-codes', { method: 'POST', body: { name: name.value.trim(), role: role.value, scope_level: 'rt', scope_code: rt() } });
    if (status !== 201) { out.replaceChildren(h('p', { class: 'error' }, status ? reasonText(body) : t('needs_network'))); return; }
    out.replaceChildren(h('div', { class: 'card qr' }, h('p', {}, t('code_once')), qrImage(body.link), h('p', { class: 'link' }, body.link),
      h('button', { onclick: () => (navigator.share ? navigator.share({ url: body.link }).catch(() => null) : navigator.clipboard?.writeText(body.link)) }, t('share'))));
  };
  const { data } = await cached('codes', '/api/v1/sign-in-codes');
  view(h('h1', {}, t('codes')), h('label', { for: 'c-name' }, t('name')), name, h('label', { for: 'c-role' }, t('code_for')), role,
    h('button', { id: 'make-code', onclick: submit }, t('make_code')), out,
    h('table', {}, h('tbody', {}, (data || []).map((c) => h('tr', {}, h('td', {}, c.name), h('td', {}, t(`role_${c.role}`) || c.role), h('td', {}, c.used_ms ? t('used') : t('unused')))))));
}

/* --- start ------------------------------------------------------------------------------- */
async function start() {
  S.db = await openStore();
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => null);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js', { scope: '/app/' }).catch(() => null);
    navigator.serviceWorker.ready.then(() => { document.body.dataset.offlineReady = '1'; });
    navigator.serviceWorker.addEventListener('message', (event) => { synced(event.data && event.data.result); });
  }
  $('#lang').textContent = S.lang === 'id' ? 'EN' : 'ID';
  document.documentElement.lang = S.lang;
  $('#lang').addEventListener('click', () => {
    S.lang = S.lang === 'id' ? 'en' : 'id';
    localStorage.setItem('lang', S.lang);
    $('#lang').textContent = S.lang === 'id' ? 'EN' : 'ID';
    document.documentElement.lang = S.lang;
    refreshEntries();
    route();
  });
  $('#outbox-status').addEventListener('click', () => { location.hash = '#/kirim'; });
  S.session = await kvGet(S.db, 'session');
  S.catalogue = await kvGet(S.db, 'catalogue');
  S.me = await kvGet(S.db, 'me');
  if (S.session) await loadBasics();
  await refreshEntries();
  window.addEventListener('hashchange', route);
  window.addEventListener('online', () => syncNow(true));
  await route();
  document.body.dataset.ready = '1';
  syncNow(true);
}

start();
