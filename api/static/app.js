// BANTAR assessor dashboard: a small hash-routed page over the JSON API.
// Charts: Chart.js; tables: Grid.js (both vendored under /static/vendor, no network needed).
"use strict";

const TEXT = {
  id: {
    period: "Periode", logout: "Keluar", login: "Masuk", token: "Token API", city: "Kota Jambi",
    kecamatan: "Kecamatan", kelurahan: "Kelurahan", rts: "RT", bersih: "Bersih", aman: "Aman",
    baik: "baik", sedang: "sedang", kurang: "kurang", none: "bukti kurang", coverage: "Cakupan bukti",
    alerts: "Peringatan", reassess: "penilaian ulang", devices: "perangkat diam", kk: "KK",
    category: "Kategori", search: "Cari…", open: "Buka", fill: "Isi tong sampah (%)", mean: "rata-rata",
    peak: "puncak", threshold: "batas penuh", collections: "pengangkutan", uptime: "CCTV menyala (%)",
    staffed: "malam dijaga", patrols: "patroli", deposits: "Bank sampah (kg)", households: "KK menabung",
    scores: "Skor yang disarankan", criterion: "Kriteria", score: "Skor", rule: "Aturan & bukti",
    device: "Perangkat", lastSeen: "Laporan terakhir", never: "belum pernah", openAssessment: "Buka penilaian",
    assessment: "Penilaian", suggested: "Saran sensor", yourScore: "Nilai Anda", comment: "Catatan",
    agency: "Instansi", save: "Simpan", sign: "Tandatangani", print: "Halaman cetak", signed: "Ditandatangani",
    result: "Hasil", total: "Total", forbidden: "Tidak boleh dibuka dengan token ini", saved: "Tersimpan",
    noAlerts: "Tidak ada peringatan", award: "Penghargaan", status: "Status", draft: "draf",
  },
  en: {
    period: "Period", logout: "Log out", login: "Log in", token: "API token", city: "Kota Jambi",
    kecamatan: "District", kelurahan: "Village", rts: "RTs", bersih: "Clean", aman: "Safe",
    baik: "good", sedang: "fair", kurang: "poor", none: "insufficient", coverage: "Evidence coverage",
    alerts: "Alerts", reassess: "re-assessment", devices: "silent devices", kk: "Households",
    category: "Category", search: "Search…", open: "Open", fill: "Bin fill (%)", mean: "mean",
    peak: "peak", threshold: "overflow", collections: "collections", uptime: "CCTV up (%)",
    staffed: "nights staffed", patrols: "patrols", deposits: "Waste bank (kg)", households: "households",
    scores: "Suggested scores", criterion: "Criterion", score: "Score", rule: "Rule & evidence",
    device: "Device", lastSeen: "Last report", never: "never", openAssessment: "Open an assessment",
    assessment: "Assessment", suggested: "Sensors suggest", yourScore: "Your score", comment: "Comment",
    agency: "Agency", save: "Save", sign: "Sign", print: "Printable page", signed: "Signed",
    result: "Result", total: "Total", forbidden: "This token may not open this page", saved: "Saved",
    noAlerts: "No alerts", award: "Award", status: "Status", draft: "draft",
  },
};
const AGENCIES = ["DLH", "DPMPPA", "Babinsa", "Bhabinkamtibmas", "Puskesmas", "Forum RT/Kelurahan"];
const MATERIALS = ["plastic", "paper", "metal", "glass", "organic", "other"];
const COLORS = ["#2f855a", "#3182ce", "#805ad5", "#d69e2e", "#dd6b20", "#718096"];
let lang = sessionStorage.getItem("bantar-lang") || "id";
const t = (key) => TEXT[lang][key] || key;
const num = (x, digits = 0) => x == null ? "–" : new Intl.NumberFormat("id-ID", { maximumFractionDigits: digits }).format(x);
const rupiah = (x) => "Rp " + num(x);
const wib = (iso) => iso ? new Intl.DateTimeFormat("id-ID", { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Jakarta" }).format(new Date(iso)) + " WIB" : t("never");
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const view = () => document.getElementById("view");
const charts = [];
let rtRows = null;

function level(score) {
  const word = { 2: t("baik"), 1: t("sedang"), 0: t("kurang") }[score] ?? t("none");
  return `<span class="level l${score ?? "n"}">${score ?? "–"} ${word}</span>`;
}

class ApiError extends Error {
  constructor(status, body) { super(body.detail || status); this.status = status; this.body = body; }
}

async function api(path, { method = "GET", params = null, body = null } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) if (v != null) url.searchParams.set(k, v);
  const response = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${sessionStorage.getItem("bantar-token") || ""}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : null,
  });
  const data = response.headers.get("content-type")?.includes("json") ? await response.json() : await response.text();
  if (response.status === 401) { location.hash = "#/login"; throw new ApiError(401, data); }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function period() {
  return { start: document.getElementById("start").value, end: document.getElementById("end").value };
}

function crumbs(parts) {
  document.getElementById("crumbs").innerHTML = parts.map(([href, label]) => href ? `<a href="${href}">${esc(label)}</a>` : esc(label)).join(" › ");
}

async function rows() {
  rtRows = rtRows || await api("/api/v1/rts", { params: period() });
  return rtRows;
}

function counts(list, key) {
  const c = { 2: 0, 1: 0, 0: 0, null: 0 };
  for (const r of list) c[r[key] ?? null] += 1;
  return `${c[2]} / ${c[1]} / ${c[0]} / ${c[null]}`;
}

function grid(target, columns, data, pageLimit = 25) {
  return new gridjs.Grid({ columns, data, search: true, sort: true, pagination: { limit: pageLimit },
    language: lang === "id" ? gridjs.l10n.idID : undefined }).render(target);
}

async function areaView(levelName, code) {
  const all = await rows();
  const inArea = all.filter((r) => levelName === "city" || r[`${levelName}_code`] === code);
  const sub = levelName === "city" ? "kecamatan" : "kelurahan";
  const name = levelName === "city" ? t("city") : inArea[0]?.[`${levelName}_name`] ?? code;
  crumbs(levelName === "city" ? [[null, t("city")]] : levelName === "kecamatan" ? [["#/", t("city")], [null, name]]
    : [["#/", t("city")], [`#/kecamatan/${inArea[0]?.kecamatan_code}`, inArea[0]?.kecamatan_name], [null, name]]);
  const groups = new Map();
  for (const r of inArea) {
    const key = levelName === "kelurahan" ? r.code : r[`${sub}_code`];
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  const reassess = inArea.reduce((s, r) => s + r.reassessment_alerts, 0);
  const silent = inArea.reduce((s, r) => s + r.device_alerts, 0);
  const covered = inArea.filter((r) => r.coverage != null);
  view().innerHTML = `<h1>${esc(name)}</h1>
    <div class="cards">
      <div class="card"><b>${num(inArea.length)}</b>${t("rts")}</div>
      <div class="card"><b>${counts(inArea, "bersih")}</b>${t("bersih")}: ${t("baik")} / ${t("sedang")} / ${t("kurang")} / ${t("none")}</div>
      <div class="card"><b>${counts(inArea, "aman")}</b>${t("aman")}: ${t("baik")} / ${t("sedang")} / ${t("kurang")} / ${t("none")}</div>
      <div class="card"><b>${covered.length ? num(100 * covered.reduce((s, r) => s + r.coverage, 0) / covered.length) + " %" : "–"}</b>${t("coverage")}</div>
      <div class="card" id="alert-card"><b>${num(reassess)}</b>${t("reassess")} · ${num(silent)} ${t("devices")}<br><span class="muted" id="alert-states"></span></div>
    </div>
    ${levelName !== "kelurahan" ? `<h2>${t(sub)}</h2><div id="areas"></div>` : ""}
    <h2>${t("rts")}</h2><div id="rt-table"></div>`;
  alertStates(levelName, code);
  if (levelName !== "kelurahan") {
    grid(document.getElementById("areas"), [
      { name: t(sub), formatter: (cell) => gridjs.html(cell) }, t("rts"),
      `${t("bersih")} (2/1/0/–)`, `${t("aman")} (2/1/0/–)`, t("reassess"), t("devices")],
      [...groups.entries()].map(([key, list]) => [
        `<a href="#/${sub}/${esc(key)}">${esc(list[0][`${sub}_name`])}</a>`, list.length,
        counts(list, "bersih"), counts(list, "aman"),
        list.reduce((s, r) => s + r.reassessment_alerts, 0), list.reduce((s, r) => s + r.device_alerts, 0)]), 15);
  }
  grid(document.getElementById("rt-table"), [
    { name: "RT", formatter: (cell) => gridjs.html(cell) }, t("kelurahan"), t("kk"), t("category"),
    { name: t("bersih"), formatter: (c) => gridjs.html(level(c)) }, { name: t("aman"), formatter: (c) => gridjs.html(level(c)) },
    t("coverage"), t("reassess"), t("devices")],
    inArea.map((r) => [`<a href="#/rt/${esc(r.code)}">RT ${String(r.number).padStart(3, "0")} · ${esc(r.code)}</a>`,
      r.kelurahan_name, r.kk_count, r.category, r.bersih, r.aman,
      r.coverage == null ? "–" : `${num(100 * r.coverage)} %`, r.reassessment_alerts, r.device_alerts]));
}

function chart(id, type, labels, datasets, options = {}) {
  charts.push(new Chart(document.getElementById(id), { type, data: { labels, datasets },
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...options } }));
}

async function rtView(code) {
  const [rt, evidence, scores, alerts] = await Promise.all([
    api(`/api/v1/rts/${code}`), api(`/api/v1/rts/${code}/evidence`, { params: period() }),
    api(`/api/v1/rts/${code}/scores`, { params: period() }), api("/api/v1/alerts")]);
  const mine = alerts.data.filter((a) => a.rt_code === code);
  crumbs([["#/", t("city")], [`#/kecamatan/${rt.kecamatan_code}`, rt.kecamatan_name],
    [`#/kelurahan/${rt.kelurahan_code}`, rt.kelurahan_name], [null, `RT ${rt.number}`]]);
  const days = evidence.data.map((d) => d.day);
  const me = JSON.parse(sessionStorage.getItem("bantar-me") || "{}");
  view().innerHTML = `<h1>RT ${String(rt.number).padStart(3, "0")} · ${esc(rt.kelurahan_name)}, ${esc(rt.kecamatan_name)}</h1>
    <div class="cards">
      <div class="card"><b>${num(rt.kk_count)}</b>${t("kk")}</div>
      <div class="card"><b>${esc(scores.category.category)}</b>${t("award")} ${rupiah(scores.category.award_idr)}</div>
      <div class="card"><b>${num(rt.devices.length)}</b>${t("device")}</div>
    </div>
    <h2>${t("alerts")}</h2><div id="alerts">${alertItems(mine)}</div><p id="reports">${reportLinks(rt.kelurahan_code)}</p>
    <h2>${t("scores")}</h2>
    <table class="plain" id="scores"><tr><th>${t("criterion")}</th><th>${t("score")}</th><th>${t("rule")}</th></tr>
    ${scores.criteria.map((c) => `<tr><td>${esc(c.criterion)}</td><td>${level(c.score)}</td><td>${esc(c.rationale[lang])}<br>
      <span class="muted">${c.indicators.map((i) => `${esc(i.metric)}: ${i.value == null ? "–" : num(i.value, 3)}${i.coverage == null ? "" : ` (${t("coverage").toLowerCase()} ${num(100 * i.coverage)} %)`} [${i.status}]`).join("; ")}</span></td></tr>`).join("")}
    </table>
    ${me.role === "assessor" || me.role === "admin" ? `<p><button id="open-assessment">${t("openAssessment")}</button></p>` : ""}
    <div class="charts">
      <div class="chart"><canvas id="c-fill"></canvas></div>
      <div class="chart"><canvas id="c-cctv"></canvas></div>
      <div class="chart"><canvas id="c-posts"></canvas></div>
      <div class="chart"><canvas id="c-bank"></canvas></div>
    </div>
    <h2>${t("device")}</h2>
    <table class="plain"><tr><th>${t("device")}</th><th>kind</th><th>${t("lastSeen")}</th></tr>
    ${rt.devices.map((d) => `<tr><td>${esc(d.id)}</td><td>${esc(d.kind)}</td><td>${wib(d.last_seen)}</td></tr>`).join("")}</table>`;
  const threshold = 90;
  chart("c-fill", "line", days, [
    { label: t("mean"), data: evidence.data.map((d) => d.bin_mean_fill), borderColor: COLORS[0] },
    { label: t("peak"), data: evidence.data.map((d) => d.bin_peak_fill), borderColor: COLORS[4] },
    { label: t("threshold"), data: days.map(() => threshold), borderColor: "#c53030", borderDash: [6, 4], pointRadius: 0 },
    { label: t("collections"), type: "bar", data: evidence.data.map((d) => d.bin_collections), backgroundColor: "#90cdf4", yAxisID: "y2" },
  ], { plugins: { title: { display: true, text: t("fill") } }, scales: { y: { min: 0, max: 100 }, y2: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } } });
  chart("c-cctv", "line", days, [{ label: t("uptime"), borderColor: COLORS[1],
    data: evidence.data.map((d) => d.cctv_heartbeats_expected ? 100 * d.cctv_online_heartbeats / d.cctv_heartbeats_expected : null) }],
    { plugins: { title: { display: true, text: t("uptime") } }, scales: { y: { min: 0, max: 100 } } });
  chart("c-posts", "bar", days, [
    { label: t("staffed"), data: evidence.data.map((d) => d.night_staffed == null ? null : Number(d.night_staffed)), backgroundColor: COLORS[2] },
    { label: t("patrols"), data: evidence.data.map((d) => d.patrols), backgroundColor: COLORS[3] },
  ], { plugins: { title: { display: true, text: `${t("staffed")} · ${t("patrols")}` } } });
  chart("c-bank", "bar", days, [
    ...MATERIALS.map((m, i) => ({ label: m, data: evidence.data.map((d) => d.deposit_kg[m] || 0), backgroundColor: COLORS[i], stack: "kg" })),
    { label: t("households"), type: "line", data: evidence.data.map((d) => d.households), borderColor: "#1a202c", yAxisID: "y2" },
  ], { plugins: { title: { display: true, text: t("deposits") } }, scales: { x: { stacked: true }, y: { stacked: true }, y2: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } } });
  document.getElementById("open-assessment")?.addEventListener("click", async () => {
    const opened = await api("/api/v1/assessments", { method: "POST", body: { rt_code: code, ...period() } });
    location.hash = `#/assessment/${opened.assessment.id}`;
  });
  wireAlerts();
}

async function assessmentView(id) {
  const [{ assessment: a, recap }, names] = await Promise.all([api(`/api/v1/assessments/${id}`), api("/api/v1/criteria")]);
  const me = JSON.parse(sessionStorage.getItem("bantar-me") || "{}");
  const evidence = Object.fromEntries(a.evidence.criteria.map((c) => [c.criterion, c]));
  const mine = Object.fromEntries(a.member_scores.filter((m) => m.member_name === me.name).map((m) => [m.criterion, m]));
  const open = a.status === "open";
  crumbs([["#/", t("city")], [`#/rt/${a.rt_code}`, `RT ${a.rt_code}`], [null, t("assessment")]]);
  view().innerHTML = `<h1>${t("assessment")} · RT ${esc(a.rt_code)} · ${esc(a.start)} – ${esc(a.end)}</h1>
    <p>${t("status")}: <b id="a-status">${open ? t("draft") : `${t("signed")} ${esc(a.signed_by)} ${wib(a.signed_at)}`}</b>
      · ${t("result")}: <b id="a-total">${recap.total} / ${recap.max_total}</b>
      ${open ? `· ${t("agency")}: <select id="agency">${AGENCIES.map((x) => `<option>${x}</option>`).join("")}</select>` : ""}</p>
    <table class="plain" id="a-table"><tr><th>${t("criterion")}</th><th>${t("suggested")}</th><th>${t("result")}</th><th>${t("yourScore")}</th><th>${t("comment")}</th></tr>
    ${recap.criteria.map((c) => `<tr data-criterion="${c.criterion}"><td><b>${c.criterion}</b> ${esc(names[c.criterion]?.[lang] ?? "")}
      ${evidence[c.criterion] ? `<br><span class="muted">${evidence[c.criterion].indicators.map((i) => `${esc(i.metric)}: ${i.value == null ? "–" : num(i.value, 3)}`).join("; ")}</span>` : ""}</td>
      <td>${a.suggested[c.criterion] === undefined ? "–" : level(a.suggested[c.criterion])}</td><td>${c.result == null ? "–" : level(c.result)}</td>
      <td><select ${open ? "" : "disabled"}><option value="">–</option>${[2, 1, 0].map((s) => `<option value="${s}" ${mine[c.criterion]?.score === s ? "selected" : ""}>${s}</option>`).join("")}</select></td>
      <td><input ${open ? "" : "disabled"} maxlength="500" value="${esc(mine[c.criterion]?.comment ?? "")}"></td></tr>`).join("")}</table>
    <p>${open ? `<button id="save">${t("save")}</button> <button id="sign">${t("sign")}</button> ` : ""}
      <button id="print" class="secondary">${t("print")}</button> <span id="a-message"></span></p>`;
  const message = (text) => { document.getElementById("a-message").textContent = text; };
  document.getElementById("save")?.addEventListener("click", async () => {
    const scores = [...document.querySelectorAll("#a-table tr[data-criterion]")]
      .filter((row) => row.querySelector("select").value !== "")
      .map((row) => ({ criterion: row.dataset.criterion, score: Number(row.querySelector("select").value), comment: row.querySelector("input").value }));
    try { await api(`/api/v1/assessments/${id}/scores`, { method: "PUT", body: { agency: document.getElementById("agency").value, scores } }); await assessmentView(id); message(t("saved")); }
    catch (e) { message(e.message); }
  });
  document.getElementById("sign")?.addEventListener("click", async () => {
    try { await api(`/api/v1/assessments/${id}/sign`, { method: "POST" }); await assessmentView(id); } catch (e) { message(e.message); }
  });
  document.getElementById("print").addEventListener("click", async () => {
    const page = await api(`/api/v1/assessments/${id}/export`, { params: { format: "html" } });
    window.open(URL.createObjectURL(new Blob([page], { type: "text/html" })), "_blank");
  });
}

function loginView() {
  crumbs([]);
  view().innerHTML = `<form class="login" id="login"><h1>${t("login")}</h1>
    <label>${t("token")}<input id="token" autocomplete="off" required></label>
    <button type="submit">${t("login")}</button><p id="login-error" class="error" hidden></p></form>`;
  document.getElementById("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem("bantar-token", document.getElementById("token").value.trim());
    try {
      sessionStorage.setItem("bantar-me", JSON.stringify(await api("/api/v1/me")));
      rtRows = null;
      location.hash = "#/";
    } catch (e) {
      const box = document.getElementById("login-error");
      if (box) { box.hidden = false; box.textContent = e.body?.detail_id || e.message; }
    }
  });
}

async function render() {
  while (charts.length) charts.pop().destroy();
  const me = JSON.parse(sessionStorage.getItem("bantar-me") || "null");
  document.getElementById("who").textContent = me ? `${me.name} (${me.role})` : "";
  const [, route, arg] = location.hash.split("/");
  if (!me || route === "login") return loginView();
  try {
    if (!route) {
      if (me.scope_level === "rt") { location.hash = `#/rt/${me.scope_code}`; return; }
      if (me.scope_level !== "city") { location.hash = `#/${me.scope_level}/${me.scope_code}`; return; }
      return await areaView("city", null);
    }
    if (route === "kecamatan" || route === "kelurahan") return await areaView(route, decodeURIComponent(arg));
    if (route === "rt") return await rtView(decodeURIComponent(arg));
    if (route === "assessment") return await assessmentView(decodeURIComponent(arg));
  } catch (e) {
    if (e.status === 401) return undefined;
    view().innerHTML = `<div class="error" id="error"><b>${e.status === 403 ? t("forbidden") : "Error"}</b><br>${esc(e.body?.[lang === "id" ? "detail_id" : "detail"] || e.message)}</div>`;
  }
  return undefined;
}

function translateHeader() {
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
}

function setup() {
  const yesterday = new Date(Date.now() + 7 * 3600e3 - 86400e3);
  const first = new Date(yesterday.getTime() - 29 * 86400e3);
  document.getElementById("start").value = sessionStorage.getItem("bantar-start") || first.toISOString().slice(0, 10);
  document.getElementById("end").value = sessionStorage.getItem("bantar-end") || yesterday.toISOString().slice(0, 10);
  for (const id of ["start", "end"]) {
    document.getElementById(id).addEventListener("change", (e) => { sessionStorage.setItem(`bantar-${id}`, e.target.value); rtRows = null; render(); });
  }
  const langButton = document.getElementById("lang");
  langButton.textContent = lang === "id" ? "EN" : "ID";
  langButton.addEventListener("click", () => { lang = lang === "id" ? "en" : "id"; sessionStorage.setItem("bantar-lang", lang); document.documentElement.lang = lang; langButton.textContent = lang === "id" ? "EN" : "ID"; translateHeader(); render(); });
  document.getElementById("logout").addEventListener("click", () => { sessionStorage.clear(); rtRows = null; location.hash = "#/login"; render(); });
  translateHeader();
  window.addEventListener("hashchange", render);
  render();
}

document.addEventListener("DOMContentLoaded", setup);

// --- Alerts as work items (acknowledge, counts) and report downloads --------------------------
const ALERT_TEXT = {
  id: { ack: "Tanggapi", acked: "ditanggapi", open_: "terbuka", resolved: "selesai", note: "Catatan tindak lanjut (boleh kosong):",
    bankSampah: "Laporan bank sampah (XLSX)", recap: "Rekap bukti (XLSX)", openData: "Data terbuka (CSV)" },
  en: { ack: "Acknowledge", acked: "acknowledged", open_: "open", resolved: "resolved", note: "Follow-up note (optional):",
    bankSampah: "Waste bank report (XLSX)", recap: "Evidence recap (XLSX)", openData: "Open data (CSV)" },
};
const at = (key) => ALERT_TEXT[lang][key];

function alertItems(list) {
  if (!list.length) return `<p class="muted">${t("noAlerts")}</p>`;
  const me = JSON.parse(sessionStorage.getItem("bantar-me") || "{}");
  const may = ["rt_head", "assessor", "admin"].includes(me.role);
  return list.map((a) => `<div class="alert ${a.kind === "device_silent" ? "device" : "reassess"}" data-alert="${a.id}">
    ${esc(a.message_id)} <span class="muted">· ${a.state === "open" ? at("open_") : `${at("acked")} ${esc(a.acknowledged_by)}${a.note ? `: ${esc(a.note)}` : ""}`}</span>
    ${a.state === "open" && may ? `<button class="ack" data-ack="${a.id}">${at("ack")}</button>` : ""}</div>`).join("");
}

function wireAlerts() {
  for (const button of document.querySelectorAll("button[data-ack]")) {
    button.addEventListener("click", async () => {
      const note = prompt(at("note"));
      if (note === null) return;
      await api(`/api/v1/alerts/${button.dataset.ack}/ack`, { method: "POST", body: { note: note || null } });
      render();
    });
  }
  for (const link of document.querySelectorAll("a[data-download]")) {
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      const url = new URL(link.dataset.download, location.origin);
      const response = await fetch(url, { headers: { Authorization: `Bearer ${sessionStorage.getItem("bantar-token") || ""}` } });
      if (!response.ok) return;
      const file = URL.createObjectURL(await response.blob());
      const a = Object.assign(document.createElement("a"), { href: file, download: link.dataset.name });
      a.click();
      URL.revokeObjectURL(file);
    });
  }
}

function reportLinks(kelurahan) {
  const month = (period().end || "").slice(0, 7);
  const q = `level=kelurahan&code=${encodeURIComponent(kelurahan)}&month=${month}`;
  const { start, end } = period();
  return [[`/api/v1/reports/bank-sampah?${q}&format=xlsx`, at("bankSampah"), `bank-sampah-${kelurahan}-${month}.xlsx`],
    [`/api/v1/reports/evidence-recap?${q}&format=xlsx`, at("recap"), `rekap-bukti-${kelurahan}-${month}.xlsx`],
    [`/api/v1/open-data/daily-evidence.csv?level=kelurahan&code=${encodeURIComponent(kelurahan)}&start=${start}&end=${end}`, at("openData"), `bukti-harian-${kelurahan}.csv`]]
    .map(([href, label, name]) => `<a href="#" data-download="${esc(href)}" data-name="${esc(name)}">${esc(label)}</a>`).join(" · ");
}

async function alertStates(levelName, code) {
  const target = document.getElementById("alert-states");
  if (!target) return;
  try {
    const s = await api("/api/v1/summary", { params: { level: levelName, code: levelName === "city" ? null : code, ...period() } });
    const n = s.alert_states || {};
    target.textContent = `${num(n.open)} ${at("open_")} · ${num(n.acknowledged)} ${at("acked")} · ${num(n.resolved)} ${at("resolved")}`;
  } catch { /* counts are a hint; the page works without them */ }
}
