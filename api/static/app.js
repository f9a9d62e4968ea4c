// BANTAR assessor dashboard: a small hash-routed page over the JSON API, phone first.
// The DOM is built from data with createElement/textContent only (data never becomes markup;
// no inline scripts or handlers), so it runs under "script-src 'self'; style-src 'self'".
// Texts and formats: i18n.js. Charts: Chart.js (vendored under /static/vendor).
"use strict";

const { t } = I18N;
const AGENCIES = ["DLH", "DPMPPA", "Babinsa", "Bhabinkamtibmas", "Puskesmas", "Forum RT/Kelurahan"];
const COLORS = ["#2f855a", "#3182ce", "#805ad5", "#d69e2e", "#dd6b20", "#718096"];
const PAGE = 60;
const charts = [];
let rtRows = null;
// Each render is a generation: a view whose answers arrive after the user moved on (a newer
// render) drops them, so a slow view is never drawn over a newer one.
let generation = 0;
const movedOn = (gen) => gen !== generation;

// --- DOM from data -----------------------------------------------------------------------------

// h("p", { class: "muted" }, "text", child, ...): attributes set one by one, strings become text.
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((c) => c != null && c !== false).map((c) => (c instanceof Node ? c : String(c))));
  return node;
}

const view = () => document.getElementById("view");
const show = (...nodes) => view().replaceChildren(...nodes);

function levelBadge(score) {
  const word = score == null ? t("levelNone") : t(`level${score}`);
  return h("span", { class: `level l${score ?? "n"}`, title: word }, score == null ? "–" : String(score), " ", word);
}

// --- time: WIB days ----------------------------------------------------------------------------

function wibToday() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Jakarta", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

function addDays(isoDay, n) {
  const d = new Date(`${isoDay}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// The last four full weeks (Monday to Sunday, WIB) and today: a period that holds data.
function defaultPeriod() {
  const today = wibToday();
  const weekday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7;
  return { start: addDays(today, -weekday - 28), end: today };
}

function period() {
  return { start: document.getElementById("start").value, end: document.getElementById("end").value };
}

function dayLabel(day) {
  return day === wibToday() ? `${I18N.day(day)} (${t("inProgress")})` : I18N.day(day);
}

function periodLine() {
  const { start, end } = period();
  const parts = [`${t("period")} ${I18N.day(start, true)} – ${I18N.day(end, true)}`];
  if (start <= wibToday() && wibToday() <= end) parts.push(t("todayInProgress", { day: I18N.day(wibToday()) }));
  return h("p", { class: "period-line", id: "period-line" }, parts.join(" · "));
}

// --- the API -----------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(typeof body === "object" ? body.detail : String(body));
    this.status = status;
    this.body = typeof body === "object" ? body : { detail: String(body) };
  }

  // The catalogue's text for the reason, else the API's own words in the chosen language.
  explain() {
    const reason = this.body.reason;
    const known = reason && CATALOGUE[I18N.lang].reasons[reason];
    const own = I18N.lang === "id" ? this.body.detail_id : this.body.detail;
    if (reason === "invalid_field" && own) return own;
    return known || own || this.message;
  }
}

async function api(path, { method = "GET", params = null, body = null, signingIn = false } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) if (v != null) url.searchParams.set(k, v);
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${sessionStorage.getItem("bantar-token") || ""}`, "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : null,
    });
  } catch {
    throw new ApiError(0, { reason: "network" });
  }
  const data = response.headers.get("content-type")?.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !signingIn) endSession(error.explain());
    throw error;
  }
  return data;
}

// A token that stops working mid-session (revoked, expired): back to the login with the reason.
function endSession(reason) {
  sessionStorage.removeItem("bantar-token");
  sessionStorage.removeItem("bantar-me");
  sessionStorage.setItem("bantar-ended", reason);
  rtRows = null;
  location.hash = "#/login";
}

// The RTs of the period, kept while it stays (a late answer of an earlier render is not kept:
// its period may have changed since).
async function rows() {
  if (rtRows) return rtRows;
  const gen = generation;
  const found = await api("/api/v1/rts", { params: period() });
  if (!movedOn(gen)) rtRows = found;
  return found;
}

// --- header ------------------------------------------------------------------------------------

function crumbs(parts) {
  const nav = document.getElementById("crumbs");
  nav.replaceChildren(...parts.flatMap(([href, label], i) => [
    i ? h("span", { class: "sep", "aria-hidden": "true" }, "›") : null,
    href ? h("a", { href }, label ?? "") : h("span", {}, label ?? ""),
  ]).filter(Boolean));
}

// --- area views: city, kecamatan, kelurahan ----------------------------------------------------

function levelCounts(list, key) {
  const c = { 2: 0, 1: 0, 0: 0, n: 0 };
  for (const r of list) c[r[key] ?? "n"] += 1;
  return c;
}

function levelSummary(list, key) {
  const c = levelCounts(list, key);
  return h("div", { class: "card" },
    h("span", { class: "card-title" }, t(key)),
    h("div", { class: "level-row" }, ...[2, 1, 0].map((s) => h("span", { class: `level l${s}` }, `${c[s]} ${t(`level${s}`)}`)),
      h("span", { class: "level ln" }, `${c.n} ${t("levelNone")}`)));
}

function sum(list, key) {
  return list.reduce((s, r) => s + r[key], 0);
}

// others: alerts a device kind raises from its figures (flood danger from a water-level sensor)
function alertCell(reassess, silent, others = 0) {
  return h("span", { class: "alert-counts" },
    reassess ? h("span", { class: "pill bad" }, `${reassess} ${t("reassess")}`) : null,
    silent ? h("span", { class: "pill warn" }, `${silent} ${t("silent")}`) : null,
    others ? h("span", { class: "pill bad" }, `${others} ${t("otherAlerts")}`) : null,
    reassess || silent || others ? null : h("span", { class: "muted" }, "–"));
}

// A table on a wide screen, a stack of cards on a phone (CSS): each cell carries its label.
function responsiveTable(id, headers, bodyRows) {
  return h("table", { class: "list", id },
    h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, ...bodyRows.map((cells) => h("tr", {}, ...cells.map((cell, i) => h("td", { dataset: { label: headers[i] } }, cell))))));
}

function rtName(r) {
  return `RT ${String(r.number).padStart(3, "0")} · ${r.kelurahan_name}`;
}

const alertsOf = (r) => r.reassessment_alerts + r.device_alerts + r.kind_alerts;
const SORTS = {
  code: (a, b) => a.code.localeCompare(b.code),
  bersih: (a, b) => (a.bersih ?? -1) - (b.bersih ?? -1) || a.code.localeCompare(b.code),
  aman: (a, b) => (a.aman ?? -1) - (b.aman ?? -1) || a.code.localeCompare(b.code),
  coverage: (a, b) => (a.coverage ?? -1) - (b.coverage ?? -1) || a.code.localeCompare(b.code),
  alerts: (a, b) => alertsOf(b) - alertsOf(a) || a.code.localeCompare(b.code),
};

function rtList(list) {
  const box = h("div", { id: "rt-list" });
  const search = h("input", { type: "search", id: "rt-search", placeholder: t("search"), "aria-label": t("search") });
  const sort = h("select", { id: "rt-sort", "aria-label": t("sortBy") },
    ...Object.keys(SORTS).map((key) => h("option", { value: key }, t(`sort${key[0].toUpperCase()}${key.slice(1)}`))));
  const count = h("p", { class: "muted", id: "rt-count" });
  let limit = PAGE;
  const more = h("button", { type: "button", class: "secondary", id: "rt-more" }, "…");
  const draw = () => {
    const needle = search.value.trim().toLowerCase();
    const found = list.filter((r) => !needle || `${r.code} ${rtName(r)} ${r.kecamatan_name}`.toLowerCase().includes(needle))
      .sort(SORTS[sort.value]);
    const shown = found.slice(0, limit);
    count.textContent = t("shown", { n: I18N.number(shown.length), total: I18N.number(found.length) });
    more.hidden = shown.length >= found.length;
    box.replaceChildren(responsiveTable("rt-table", [t("rt"), t("bersih"), t("aman"), t("coverage"), t("alerts"), t("kk")],
      shown.map((r) => [
        h("a", { href: `#/rt/${encodeURIComponent(r.code)}`, class: "rt-link" }, rtName(r), h("span", { class: "muted code" }, r.code)),
        levelBadge(r.bersih), levelBadge(r.aman), I18N.percent(r.coverage),
        alertCell(r.reassessment_alerts, r.device_alerts, r.kind_alerts),
        `${I18N.number(r.kk_count)} · ${I18N.name("categories", r.category)}`,
      ])));
  };
  search.addEventListener("input", () => { limit = PAGE; draw(); });
  sort.addEventListener("change", draw);
  more.addEventListener("click", () => { limit += PAGE; draw(); });
  draw();
  return h("section", {}, h("h2", {}, t("rts")), h("div", { class: "list-tools" }, search, sort), count, box, more);
}

async function areaView(levelName, code) {
  const gen = generation;
  const all = await rows();
  if (movedOn(gen)) return;
  const inArea = all.filter((r) => levelName === "city" || r[`${levelName}_code`] === code);
  const first = inArea[0] ?? {};
  const name = levelName === "city" ? t("city") : first[`${levelName}_name`] ?? code;
  crumbs(levelName === "city" ? [[null, t("city")]]
    : levelName === "kecamatan" ? [["#/", t("city")], [null, name]]
      : [["#/", t("city")], [`#/kecamatan/${encodeURIComponent(first.kecamatan_code)}`, first.kecamatan_name], [null, name]]);
  const covered = inArea.filter((r) => r.coverage != null);
  const sections = [
    h("h1", {}, name), periodLine(),
    h("div", { class: "cards" },
      h("div", { class: "card" }, h("span", { class: "card-title" }, t("rts")), h("b", {}, I18N.number(inArea.length))),
      levelSummary(inArea, "bersih"), levelSummary(inArea, "aman"),
      h("div", { class: "card" }, h("span", { class: "card-title" }, t("coverage")),
        h("b", {}, covered.length ? I18N.percent(covered.reduce((s, r) => s + r.coverage, 0) / covered.length) : "–")),
      h("div", { class: "card", id: "alert-card" }, h("span", { class: "card-title" }, t("alerts")),
        h("b", {}, I18N.number(sum(inArea, "reassessment_alerts"))), ` ${t("reassess")} · `,
        h("b", { class: "inline" }, I18N.number(sum(inArea, "device_alerts"))), ` ${t("silent")}`,
        h("span", { class: "muted", id: "alert-states" }))),
  ];
  if (levelName !== "kelurahan") {
    const sub = levelName === "city" ? "kecamatan" : "kelurahan";
    const groups = new Map();
    for (const r of inArea) {
      if (!groups.has(r[`${sub}_code`])) groups.set(r[`${sub}_code`], []);
      groups.get(r[`${sub}_code`]).push(r);
    }
    const mix = (list, key) => {
      const c = levelCounts(list, key);
      return h("span", { class: "mix" }, ...[2, 1, 0].map((s) => h("span", { class: `level l${s}`, title: t(`level${s}`) }, String(c[s]))),
        h("span", { class: "level ln", title: t("levelNone") }, String(c.n)));
    };
    sections.push(h("section", {}, h("h2", {}, t(sub)), responsiveTable("areas", [t(sub), t("rts"), t("bersih"), t("aman"), t("alerts")],
      [...groups.entries()].map(([key, list]) => [
        h("a", { href: `#/${sub}/${encodeURIComponent(key)}` }, list[0][`${sub}_name`]), I18N.number(list.length),
        mix(list, "bersih"), mix(list, "aman"), alertCell(sum(list, "reassessment_alerts"), sum(list, "device_alerts"), sum(list, "kind_alerts"))]))));
  }
  sections.push(rtList(inArea));
  show(...sections);
  await alertStates(levelName, code, gen);
}

// --- the RT ------------------------------------------------------------------------------------

function alertText(a) {
  if (a.kind === "reassessment") {
    return t("reassessText", {
      criterion: a.criterion, awarded: a.awarded,
      scores: a.recent_scores.map((s) => (s == null ? "–" : s)).join(", "),
    });
  }
  return a.last_seen ? t("silentText", { device: a.device_id, when: I18N.moment(a.last_seen) }) : t("silentNever", { device: a.device_id });
}

const ALERT_KINDS = { device_silent: ["device", "silent"], data_quality: ["device", "dataQuality"], clock_skew: ["device", "clockSkew"] };
const MAY_ACKNOWLEDGE = ["rt_head", "assessor"];

// An alert is a work item: its state, and for the RT head or an assessor a button that takes it.
function alertList(alerts, me) {
  if (!alerts.length) return h("p", { class: "muted" }, t("noAlerts"));
  return h("ul", { class: "alerts" }, ...alerts.map((a) => {
    // a device kind's own alert (flood_danger ...): its message says it all
    const own = a.kind !== "reassessment" && !ALERT_KINDS[a.kind];
    const [style, label] = ALERT_KINDS[a.kind] ?? (own ? ["device", null] : ["reassess", "reassess"]);
    const state = a.state === "acknowledged" ? t("stateAcked", { who: a.acknowledged_by ?? "" })
      : a.state === "resolved" ? t("stateResolved") : t("stateOpen");
    const said = I18N.lang === "en" && a.message_en ? a.message_en : a.message_id;
    const text = own || (ALERT_KINDS[a.kind] && a.kind !== "device_silent") ? said : alertText(a);
    const take = a.state === "open" && MAY_ACKNOWLEDGE.includes(me.role)
      ? h("button", { type: "button", class: "ack", dataset: { ack: a.id }, onclick: () => acknowledge(a.id) }, t("ack")) : null;
    return h("li", { class: `alert ${style}`, dataset: { alert: a.id } }, label ? h("b", {}, t(label)) : null, " ", text, " ",
      h("span", { class: "muted alert-state" }, `· ${state}`), take);
  }));
}

async function acknowledge(id) {
  await api(`/api/v1/alerts/${encodeURIComponent(id)}/ack`, { method: "POST", body: { note: null } });
  render();
}

// Reports come with the token in a header, so they are fetched and saved as files here.
function reportLinks(code) {
  const { start, end } = period();
  const area = `level=rt&code=${encodeURIComponent(code)}&start=${start}&end=${end}`;
  return h("p", { id: "reports" }, `${t("reports")}: `, ...[
    [`/api/v1/reports/bank-sampah?${area}&format=xlsx`, "reportBank", `bank-sampah-${code}-${start}.xlsx`],
    [`/api/v1/reports/evidence-recap?${area}&format=xlsx`, "reportRecap", `rekap-bukti-${code}-${start}.xlsx`],
  ].flatMap(([href, label, name], i) => [i ? " · " : "", h("a", { href: "#", onclick: (e) => download(e, href, name) }, t(label))]));
}

async function download(event, href, name) {
  event.preventDefault();
  const response = await fetch(new URL(href, location.origin), {
    headers: { Authorization: `Bearer ${sessionStorage.getItem("bantar-token") || ""}` },
  });
  if (!response.ok) return showError(new ApiError(response.status, await response.json()));
  const file = URL.createObjectURL(await response.blob());
  h("a", { href: file, download: name }).click();
  URL.revokeObjectURL(file);
}

async function alertStates(levelName, code, gen) {
  const target = document.getElementById("alert-states");
  const found = await api("/api/v1/summary", { params: { level: levelName, code: levelName === "city" ? null : code, ...period() } });
  if (movedOn(gen)) return;
  const n = found.alert_states || {};
  target.textContent = t("alertStates", { open: I18N.number(n.open ?? 0), acked: I18N.number(n.acknowledged ?? 0), resolved: I18N.number(n.resolved ?? 0) });
}

function indicatorLine(i) {
  const name = I18N.name("metrics", i.metric);
  let status;
  if (i.status === "not_applicable") status = t("notApplicable");
  else if (i.status === "insufficient") status = `${t("levelNone")} (${t("insufficientOf", { coverage: I18N.percent(i.coverage) })})`;
  else status = `${I18N.metricValue(i.metric, i.value)} → ${t(`level${i.score}`)}`;
  return h("li", {}, h("span", { class: "metric" }, name), ": ", status,
    h("span", { class: "muted bounds" }, ` (${t("bounds", { baik: I18N.metricValue(i.metric, i.baik), sedang: I18N.metricValue(i.metric, i.sedang) })})`));
}

function criterionTitle(code, names) {
  return `${code} · ${names[code]?.[I18N.lang] ?? ""}`;
}

function scoreCards(scores, names) {
  return h("div", { class: "criteria", id: "scores" }, ...scores.criteria.map((c) => h("article", { class: "criterion", dataset: { criterion: c.criterion } },
    h("header", {}, h("h3", {}, criterionTitle(c.criterion, names)), levelBadge(c.score)),
    h("p", {}, c.rationale[I18N.lang]),
    basisLine(c.basis),
    h("ul", { class: "indicators" }, ...c.indicators.map(indicatorLine)))));
}

// Whose rule this is: the programme's (with its source) or this service's assumption (with its reason).
function basisLine(basis) {
  if (!basis) return null;
  const programme = basis.source === "programme";
  return h("p", { class: `muted basis ${basis.source}` }, programme ? t("basisProgramme", { ref: basis.ref })
    : t("basisAssumption", { reason: basis.reason }));
}

// --- charts: each kind's from its plug-in's description (/api/v1/charts) -----------------------

// A day's value at a path of its evidence (["bin_peak_fill"], ["kinds", "water_level", "max_level_cm"]).
function at(day, path) {
  return path.reduce((value, key) => (value == null ? undefined : value[key]), day);
}

function plotted(series, day) {
  if (series.constant != null) return series.constant;
  const value = at(day, series.path);
  if (series.per) {
    const whole = at(day, series.per);
    return whole ? 100 * value / whole : null;
  }
  return typeof value === "boolean" ? Number(value) : value ?? null;
}

// The kinds the RT has figures of: a kind with named figures always, a plug-in kind's on a day it reported.
function chartsOf(descriptions, days) {
  return descriptions.filter((c) => days.some((d) => at(d, c.root) != null));
}

function scalesOf(c) {
  const y = { ...(c.y_min != null ? { min: c.y_min } : {}), ...(c.y_max != null ? { max: c.y_max } : {}), ...(c.stacked ? { stacked: true } : {}) };
  const scales = Object.keys(y).length ? { y } : {};
  if (c.stacked) scales.x = { stacked: true };
  if (c.series.some((s) => s.axis === "y2")) scales.y2 = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } };
  return Object.keys(scales).length ? { scales } : {};
}

function drawCharts(descriptions, days) {
  const labels = days.map((d) => dayLabel(d.day));
  for (const c of descriptions) {
    const datasets = c.series.map((s, i) => {
      const color = s.color ?? COLORS[i % COLORS.length];
      return {
        label: s.label[I18N.lang], data: days.map((d) => plotted(s, d)),
        ...((s.type ?? c.type) === "bar" ? { backgroundColor: color } : { borderColor: color }), // a bar filled, a line drawn
        ...(s.type ? { type: s.type } : {}), ...(s.axis === "y2" ? { yAxisID: "y2" } : {}), ...(s.stack ? { stack: s.stack } : {}),
        ...(s.constant != null ? { borderDash: [6, 4], pointRadius: 0 } : {}),
      };
    });
    charts.push(new Chart(document.getElementById(c.canvas), {
      type: c.type, data: { labels, datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { title: { display: true, text: c.title[I18N.lang] }, legend: { labels: { boxWidth: 12 } } }, ...scalesOf(c) },
    }));
  }
}

async function rtView(code) {
  const gen = generation;
  const [rt, evidence, scores, alerts, names, described] = await Promise.all([
    api(`/api/v1/rts/${encodeURIComponent(code)}`), api(`/api/v1/rts/${encodeURIComponent(code)}/evidence`, { params: period() }),
    api(`/api/v1/rts/${encodeURIComponent(code)}/scores`, { params: period() }), api("/api/v1/alerts"), api("/api/v1/criteria"),
    api("/api/v1/charts")]);
  if (movedOn(gen)) return;
  const drawn = chartsOf(described, evidence.data);
  const mine = alerts.data.filter((a) => a.rt_code === code);
  crumbs([["#/", t("city")], [`#/kecamatan/${encodeURIComponent(rt.kecamatan_code)}`, rt.kecamatan_name],
    [`#/kelurahan/${encodeURIComponent(rt.kelurahan_code)}`, rt.kelurahan_name], [null, `RT ${rt.number}`]]);
  const me = JSON.parse(sessionStorage.getItem("bantar-me") || "{}");
  const opener = me.role === "assessor" ? h("button", { type: "button", id: "open-assessment", onclick: () => openAssessment(code) }, t("openAssessment")) : null;
  show(
    h("h1", {}, `RT ${String(rt.number).padStart(3, "0")} · ${rt.kelurahan_name}, ${rt.kecamatan_name}`), periodLine(),
    h("div", { class: "cards" },
      h("div", { class: "card" }, h("span", { class: "card-title" }, t("kk")), h("b", {}, I18N.number(rt.kk_count))),
      h("div", { class: "card" }, h("span", { class: "card-title" }, t("category")), h("b", {}, I18N.name("categories", scores.category.category)),
        `${t("award")} ${I18N.rupiah(scores.category.award_idr)}`),
      h("div", { class: "card" }, h("span", { class: "card-title" }, t("devices")), h("b", {}, I18N.number(rt.devices.length)))),
    h("h2", {}, t("alerts")), h("div", { id: "alerts" }, alertList(mine, me)), reportLinks(code),
    h("h2", {}, t("scores")), scoreCards(scores, names),
    opener ? h("p", {}, opener) : null,
    h("div", { class: "charts" }, ...drawn.map((c) => h("div", { class: "chart" }, h("canvas", { id: c.canvas })))),
    h("h2", {}, t("devices")),
    responsiveTable("devices", [t("device"), t("kind"), t("lastSeen")], rt.devices.map((d) => [
      h("span", { class: "code" }, d.id), `${d.kind_name[I18N.lang] ?? d.kind} · ${t("every", { interval: I18N.interval(d.interval_s) })}`,
      I18N.moment(d.last_seen)])),
  );
  drawCharts(drawn, evidence.data);
}

async function openAssessment(code) {
  try {
    const opened = await api("/api/v1/assessments", { method: "POST", body: { rt_code: code, ...period() } });
    location.hash = `#/assessment/${encodeURIComponent(opened.assessment.id)}`;
  } catch (e) {
    if (e.status !== 401) showError(e);
  }
}

// --- the assessment: criterion by criterion ----------------------------------------------------

function scoreChoice(criterion, current, open) {
  return h("div", { class: "choices", role: "radiogroup", "aria-label": t("yourScore") },
    ...[2, 1, 0].map((s) => h("label", { class: `choice l${s}` },
      h("input", { type: "radio", name: `score-${criterion}`, value: String(s), checked: current === s, disabled: !open }),
      h("span", {}, `${s} ${t(`level${s}`)}`))));
}

async function assessmentView(id) {
  const gen = generation;
  const [{ assessment: a, recap }, names] = await Promise.all([api(`/api/v1/assessments/${encodeURIComponent(id)}`), api("/api/v1/criteria")]);
  if (movedOn(gen)) return;
  const me = JSON.parse(sessionStorage.getItem("bantar-me") || "{}");
  const evidence = Object.fromEntries(a.evidence.criteria.map((c) => [c.criterion, c]));
  const mine = Object.fromEntries(a.member_scores.filter((m) => m.member_name === me.name).map((m) => [m.criterion, m]));
  const open = a.status === "open";
  crumbs([["#/", t("city")], [`#/rt/${encodeURIComponent(a.rt_code)}`, `RT ${a.rt_code}`], [null, t("assessment")]]);
  const message = h("p", { id: "a-message", role: "status" });
  const agency = open ? h("select", { id: "agency", "aria-label": t("agency") }, ...AGENCIES.map((x) => h("option", { value: x }, x))) : null;
  const scored = recap.criteria.filter((c) => c.result != null).length;
  const form = h("form", { id: "a-form" }, ...recap.criteria.map((c) => h("fieldset", { class: "criterion", dataset: { criterion: c.criterion } },
    h("legend", {}, criterionTitle(c.criterion, names)),
    h("dl", { class: "facts" },
      h("dt", {}, t("suggested")), h("dd", {}, a.suggested[c.criterion] === undefined ? "–" : levelBadge(a.suggested[c.criterion])),
      h("dt", {}, t("result")), h("dd", {}, c.result == null ? "–" : levelBadge(c.result))),
    evidence[c.criterion] ? h("ul", { class: "indicators" }, ...evidence[c.criterion].indicators.map(indicatorLine)) : null,
    scoreChoice(c.criterion, mine[c.criterion]?.score, open),
    h("label", { class: "comment" }, t("comment"),
      h("input", { type: "text", maxlength: "500", value: mine[c.criterion]?.comment ?? "", disabled: !open })))));
  show(
    h("h1", {}, `${t("assessment")} · RT ${a.rt_code}`),
    h("p", { class: "period-line" }, `${I18N.day(a.start, true)} – ${I18N.day(a.end, true)}`),
    h("div", { class: "cards" },
      h("div", { class: "card" }, h("span", { class: "card-title" }, t("status")),
        h("b", { id: "a-status" }, open ? t("draft") : t("signed")), open ? null : t("signedBy", { who: a.signed_by, when: I18N.moment(a.signed_at) })),
      h("div", { class: "card" }, h("span", { class: "card-title" }, t("total")), h("b", { id: "a-total" }, `${recap.total} / ${recap.max_total}`),
        t("criteriaScored", { n: scored, total: recap.criteria.length })),
      agency ? h("label", { class: "card" }, h("span", { class: "card-title" }, t("agency")), agency) : null),
    form,
    h("div", { class: "actions" },
      open ? h("button", { type: "button", id: "save", onclick: () => saveScores(id, message) }, t("save")) : null,
      open ? h("button", { type: "button", id: "sign", onclick: () => sign(id, message) }, t("sign")) : null,
      h("button", { type: "button", id: "print", class: "secondary", onclick: () => printable(id) }, t("print"))),
    message,
  );
}

async function saveScores(id, message) {
  const scores = [...document.querySelectorAll("#a-form fieldset[data-criterion]")]
    .map((box) => ({ box, chosen: box.querySelector("input[type=radio]:checked") }))
    .filter(({ chosen }) => chosen)
    .map(({ box, chosen }) => ({ criterion: box.dataset.criterion, score: Number(chosen.value), comment: box.querySelector("input[type=text]").value }));
  const gen = generation;
  try {
    await api(`/api/v1/assessments/${encodeURIComponent(id)}/scores`, { method: "PUT", body: { agency: document.getElementById("agency").value, scores } });
    await assessmentView(id);
    if (!movedOn(gen)) document.getElementById("a-message").textContent = t("saved");
  } catch (e) {
    message.textContent = e.explain();
  }
}

async function sign(id, message) {
  try {
    await api(`/api/v1/assessments/${encodeURIComponent(id)}/sign`, { method: "POST" });
    await assessmentView(id);
  } catch (e) {
    message.textContent = e.explain();
  }
}

async function printable(id) {
  const page = await api(`/api/v1/assessments/${encodeURIComponent(id)}/export`, { params: { format: "html" } });
  window.open(URL.createObjectURL(new Blob([page], { type: "text/html" })), "_blank");
}

// --- login and errors --------------------------------------------------------------------------

function loginView() {
  crumbs([]);
  const ended = sessionStorage.getItem("bantar-ended");
  sessionStorage.removeItem("bantar-ended");
  const problem = h("p", { id: "login-error", class: "error", role: "alert", hidden: !ended }, ended ? t("sessionEnded", { reason: ended }) : "");
  const field = h("input", { id: "token", name: "token", autocomplete: "off", required: true, spellcheck: "false" });
  const form = h("form", { class: "login", id: "login" },
    h("h1", {}, t("login")),
    h("label", { for: "token" }, t("token")), field,
    h("p", { class: "muted" }, t("tokenHelp")),
    h("button", { type: "submit" }, t("login")), problem);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem("bantar-token", field.value.trim());
    try {
      sessionStorage.setItem("bantar-me", JSON.stringify(await api("/api/v1/me", { signingIn: true })));
      rtRows = null;
      if (location.hash === "#/") render();
      else location.hash = "#/";
    } catch (e) {
      sessionStorage.removeItem("bantar-token");
      problem.hidden = false;
      problem.textContent = e.status === 401 ? `${t("wrongToken")} (${e.explain()})` : e.explain();
    }
  });
  show(form);
  field.focus();
}

function showError(e) {
  show(h("div", { class: "error", id: "error", role: "alert" },
    h("b", {}, e.status === 403 ? t("forbidden") : t("error")), h("p", {}, e.explain()),
    h("a", { href: "#/" }, t("back"))));
}

async function render() {
  const gen = ++generation;
  while (charts.length) charts.pop().destroy();
  const me = JSON.parse(sessionStorage.getItem("bantar-me") || "null");
  document.getElementById("who").textContent = me ? `${me.name} (${me.role})` : "";
  document.getElementById("logout").hidden = !me;
  const [, route, arg] = location.hash.split("/");
  if (!me || route === "login") return loginView();
  show(h("p", { class: "muted" }, t("loading")));
  try {
    if (!route) {
      if (me.scope_level === "rt") { location.hash = `#/rt/${me.scope_code}`; return undefined; }
      if (me.scope_level !== "city") { location.hash = `#/${me.scope_level}/${me.scope_code}`; return undefined; }
      return await areaView("city", null);
    }
    if (route === "kecamatan" || route === "kelurahan") return await areaView(route, decodeURIComponent(arg));
    if (route === "rt") return await rtView(decodeURIComponent(arg));
    if (route === "assessment") return await assessmentView(decodeURIComponent(arg));
  } catch (e) {
    if (!movedOn(gen) && e.status !== 401) showError(e);
  }
  return undefined;
}

// --- set-up ------------------------------------------------------------------------------------

function translatePage() {
  document.documentElement.lang = I18N.lang;
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  document.getElementById("lang").textContent = I18N.lang === "id" ? "EN" : "ID";
  document.getElementById("lang").setAttribute("aria-label", I18N.lang === "id" ? "English" : "Bahasa Indonesia");
}

function setup() {
  const fallback = defaultPeriod();
  for (const id of ["start", "end"]) {
    const input = document.getElementById(id);
    input.value = sessionStorage.getItem(`bantar-${id}`) || fallback[id];
    input.addEventListener("change", () => { sessionStorage.setItem(`bantar-${id}`, input.value); rtRows = null; render(); });
  }
  document.getElementById("lang").addEventListener("click", () => {
    I18N.lang = I18N.lang === "id" ? "en" : "id";
    sessionStorage.setItem("bantar-lang", I18N.lang);
    translatePage();
    render();
  });
  document.getElementById("logout").addEventListener("click", () => {
    const lang = I18N.lang;
    sessionStorage.clear();
    sessionStorage.setItem("bantar-lang", lang);
    rtRows = null;
    location.hash = "#/login";
  });
  translatePage();
  window.addEventListener("hashchange", render);
  render();
}

document.addEventListener("DOMContentLoaded", setup);
