// The dashboard's one text catalogue: Bahasa Indonesia first, English as the switch.
// Every word the dashboard shows comes from here (or from the API's own Indonesian/English
// fields): screen texts, metric, material, incident and device-kind names, units, alert texts,
// chart legends and the refusals' reason codes. Formats: id-ID numbers, Rupiah, WIB dates.
"use strict";

const CATALOGUE = {
  id: {
    title: "BANTAR — Bukti Kampung BANTAR Kota Jambi",
    period: "Periode", from: "dari", to: "sampai", logout: "Keluar", login: "Masuk", token: "Token API",
    tokenHelp: "Tempel token dari `bantar token create` atau dari ringkasan demo.",
    city: "Kota Jambi", kecamatan: "Kecamatan", kelurahan: "Kelurahan", rts: "RT", rt: "RT",
    bersih: "Bersih", aman: "Aman", pintar: "Pintar",
    level2: "baik", level1: "sedang", level0: "kurang", levelNone: "bukti kurang",
    coverage: "Cakupan bukti", alerts: "Peringatan", reassess: "penilaian ulang", silent: "perangkat diam", otherAlerts: "peringatan lain",
    kk: "KK", category: "Kategori", search: "Cari RT atau kelurahan…", sortBy: "Urutkan",
    sortCode: "kode RT", sortBersih: "Bersih terendah", sortAman: "Aman terendah", sortCoverage: "cakupan terendah",
    sortAlerts: "peringatan terbanyak", shown: "{n} dari {total} RT", open: "Buka",
    scores: "Skor yang disarankan sensor", criterion: "Kriteria", score: "Skor", rule: "Aturan",
    evidence: "Bukti", devices: "Perangkat", device: "Perangkat", kind: "Jenis", lastSeen: "Laporan terakhir",
    never: "belum pernah", every: "tiap {interval}", openAssessment: "Buka penilaian", assessment: "Penilaian",
    suggested: "Saran sensor", result: "Hasil tim", yourScore: "Nilai Anda", comment: "Catatan",
    agency: "Instansi", save: "Simpan", sign: "Tandatangani", print: "Halaman cetak", signed: "Ditandatangani",
    total: "Total", forbidden: "Tidak boleh dibuka dengan token ini", saved: "Tersimpan",
    basisProgramme: "Aturan program: {ref}", basisAssumption: "Asumsi layanan ini: {reason}",
    ack: "Tanggapi", stateOpen: "terbuka", stateAcked: "ditanggapi {who}", stateResolved: "selesai",
    alertStates: "{open} terbuka · {acked} ditanggapi · {resolved} selesai", dataQuality: "mutu data", clockSkew: "jam perangkat",
    reports: "Laporan", reportBank: "Bank sampah (XLSX)", reportRecap: "Rekap bukti (XLSX)", reportOpenData: "Data terbuka (CSV)",
    noAlerts: "Tidak ada peringatan", award: "Penghargaan", status: "Status", draft: "draf",
    inProgress: "berjalan", todayInProgress: "hari ini ({day}) masih berjalan",
    error: "Terjadi kesalahan", back: "Kembali ke Kota Jambi", loading: "Memuat…",
    wrongToken: "Token ini tidak dikenal. Periksa apakah token disalin utuh.",
    sessionEnded: "Sesi berakhir: {reason} Silakan masuk lagi.",
    noScore: "–", insufficientOf: "cakupan {coverage}, perlu ≥ 60 %", notApplicable: "tidak berlaku",
    bounds: "baik {baik}, sedang {sedang}", value: "nilai", meetsBar: "memenuhi syarat", failsBar: "belum memenuhi syarat",
    criteriaScored: "{n} dari {total} kriteria dinilai", signedBy: "oleh {who}, {when}",
    reassessText: "Kriteria {criterion} di bawah tingkat penghargaan ({awarded}) selama 3 minggu berturut-turut: perlu penilaian ulang. Skor mingguan: {scores}.",
    silentText: "Perangkat {device} tidak melapor sejak {when}.",
    silentNever: "Perangkat {device} belum pernah melapor.",
    reasons: {
      invalid_token: "Token tidak dikenal atau sudah dicabut.",
      missing_token: "Belum ada token.",
      out_of_scope: "Wilayah ini di luar wilayah token.",
      forbidden: "Peran token ini tidak mengizinkan tindakan ini.",
      rate_limited: "Terlalu banyak permintaan; coba lagi sebentar.",
      assessment_signed: "Penilaian sudah ditandatangani dan tidak dapat diubah.",
      bad_period: "Periode terbalik atau terlalu panjang.",
      unknown_rt: "RT ini tidak terdaftar.",
      unknown_assessment: "Penilaian ini tidak ada.",
      invalid_field: "Isian tidak sah.",
      network: "Server tidak dapat dihubungi.",
    },
    metrics: {
      bin_overflow_share: "Jam-tong di atas 90 %",
      longest_days_without_collection: "Hari terpanjang tanpa pengangkutan",
      bank_sampah_households_per_kk: "KK yang menabung di bank sampah",
      gotong_royong_per_month: "Gotong royong per bulan",
      staffed_night_share: "Malam poskamling dijaga",
      patrols_per_staffed_night: "Patroli per malam dijaga",
      cctv_uptime: "CCTV menyala",
    },
    incidents: { theft: "pencurian", fire: "kebakaran", flood: "banjir", disturbance: "keributan", suspicious: "mencurigakan", other: "lainnya" },
    categories: { kecil: "kecil", sedang: "sedang", besar: "besar" },
    units: { days: "hari", perMonth: "/bulan", perNight: "/malam", minutes: "menit", hours: "jam", week: "minggu" },
  },
  en: {
    title: "BANTAR — Kampung BANTAR evidence, Kota Jambi",
    period: "Period", from: "from", to: "to", logout: "Log out", login: "Log in", token: "API token",
    tokenHelp: "Paste a token from `bantar token create` or from the demo's summary.",
    city: "Kota Jambi", kecamatan: "District", kelurahan: "Village", rts: "RTs", rt: "RT",
    bersih: "Clean", aman: "Safe", pintar: "Smart",
    level2: "good", level1: "fair", level0: "poor", levelNone: "insufficient evidence",
    coverage: "Evidence coverage", alerts: "Alerts", reassess: "re-assessment", silent: "silent devices", otherAlerts: "other alerts",
    kk: "Households", category: "Category", search: "Search RT or village…", sortBy: "Sort",
    sortCode: "RT code", sortBersih: "lowest Clean", sortAman: "lowest Safe", sortCoverage: "lowest coverage",
    sortAlerts: "most alerts", shown: "{n} of {total} RTs", open: "Open",
    scores: "Scores the sensors suggest", criterion: "Criterion", score: "Score", rule: "Rule",
    evidence: "Evidence", devices: "Devices", device: "Device", kind: "Kind", lastSeen: "Last report",
    never: "never", every: "every {interval}", openAssessment: "Open an assessment", assessment: "Assessment",
    suggested: "Sensors suggest", result: "Team result", yourScore: "Your score", comment: "Comment",
    agency: "Agency", save: "Save", sign: "Sign", print: "Printable page", signed: "Signed",
    total: "Total", forbidden: "This token may not open this page", saved: "Saved",
    basisProgramme: "Programme rule: {ref}", basisAssumption: "This service's assumption: {reason}",
    ack: "Acknowledge", stateOpen: "open", stateAcked: "acknowledged by {who}", stateResolved: "resolved",
    alertStates: "{open} open · {acked} acknowledged · {resolved} resolved", dataQuality: "data quality", clockSkew: "device clock",
    reports: "Reports", reportBank: "Waste bank (XLSX)", reportRecap: "Evidence recap (XLSX)", reportOpenData: "Open data (CSV)",
    noAlerts: "No alerts", award: "Award", status: "Status", draft: "draft",
    inProgress: "in progress", todayInProgress: "today ({day}) is still in progress",
    error: "Something went wrong", back: "Back to Kota Jambi", loading: "Loading…",
    wrongToken: "This token is not known. Check that it was copied whole.",
    sessionEnded: "Session ended: {reason} Please log in again.",
    noScore: "–", insufficientOf: "coverage {coverage}, needs ≥ 60 %", notApplicable: "not applicable",
    bounds: "good {baik}, fair {sedang}", value: "value", meetsBar: "meets the bar", failsBar: "does not meet the bar yet",
    criteriaScored: "{n} of {total} criteria scored", signedBy: "by {who}, {when}",
    reassessText: "Criterion {criterion} below the awarded level ({awarded}) for 3 weeks in a row: re-assessment needed. Weekly scores: {scores}.",
    silentText: "Device {device} has not reported since {when}.",
    silentNever: "Device {device} has never reported.",
    reasons: {
      invalid_token: "The token is unknown or revoked.",
      missing_token: "No token yet.",
      out_of_scope: "This area is outside the token's scope.",
      forbidden: "This token's role does not allow this.",
      rate_limited: "Too many requests; try again shortly.",
      assessment_signed: "The assessment is signed and cannot change.",
      bad_period: "The period is reversed or too long.",
      unknown_rt: "This RT is not registered.",
      unknown_assessment: "No such assessment.",
      invalid_field: "A field is invalid.",
      network: "The server cannot be reached.",
    },
    metrics: {
      bin_overflow_share: "Bin-hours above 90 %",
      longest_days_without_collection: "Longest stretch without collection",
      bank_sampah_households_per_kk: "Households depositing at the waste bank",
      gotong_royong_per_month: "Communal work per month",
      staffed_night_share: "Poskamling nights staffed",
      patrols_per_staffed_night: "Patrols per staffed night",
      cctv_uptime: "CCTV up",
    },
    incidents: { theft: "theft", fire: "fire", flood: "flood", disturbance: "disturbance", suspicious: "suspicious", other: "other" },
    categories: { kecil: "small", sedang: "medium", besar: "large" },
    units: { days: "days", perMonth: "/month", perNight: "/night", minutes: "min", hours: "h", week: "week" },
  },
};

// How each metric's value reads: a share in %, days, or a count per month / per night.
const METRIC_UNITS = {
  bin_overflow_share: "share", longest_days_without_collection: "days", bank_sampah_households_per_kk: "share",
  gotong_royong_per_month: "perMonth", staffed_night_share: "share", patrols_per_staffed_night: "perNight",
  cctv_uptime: "share",
};

const I18N = {
  lang: sessionStorage.getItem("bantar-lang") || "id",
  t(key, values = {}) {
    const text = CATALOGUE[I18N.lang][key] ?? CATALOGUE.id[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
  },
  name(group, key) { return CATALOGUE[I18N.lang][group][key] ?? key; },
  number(x, digits = 0) {
    return x == null ? "–" : new Intl.NumberFormat(I18N.lang === "id" ? "id-ID" : "en-GB", { maximumFractionDigits: digits }).format(x);
  },
  percent(share) { return share == null ? "–" : `${I18N.number(100 * share)} %`; },
  rupiah(x) { return new Intl.NumberFormat("id-ID", { style: "currency", currency: "IDR", maximumFractionDigits: 0 }).format(x); },
  metricValue(metric, value) {
    if (value == null) return "–";
    const unit = METRIC_UNITS[metric];
    if (unit === "share") return I18N.percent(value);
    const units = CATALOGUE[I18N.lang].units;
    if (unit === "days") return `${I18N.number(value, 1)} ${units.days}`;
    return `${I18N.number(value, 1)}${units[unit] ?? ""}`;
  },
  // A moment (ISO 8601) as a WIB date and time.
  moment(iso) {
    if (!iso) return I18N.t("never");
    return new Intl.DateTimeFormat(I18N.lang === "id" ? "id-ID" : "en-GB",
      { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Jakarta" }).format(new Date(iso)) + " WIB";
  },
  // A WIB calendar day (YYYY-MM-DD) as "3 Nov" or, with the year, "3 Nov 2026".
  day(isoDay, withYear = false) {
    const [y, m, d] = isoDay.split("-").map(Number);
    return new Intl.DateTimeFormat(I18N.lang === "id" ? "id-ID" : "en-GB",
      { day: "numeric", month: "short", ...(withYear ? { year: "numeric" } : {}), timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d)));
  },
  interval(seconds) {
    const u = CATALOGUE[I18N.lang].units;
    if (seconds >= 7 * 86400) return `${I18N.number(seconds / (7 * 86400))} ${u.week}`;
    if (seconds >= 3600) return `${I18N.number(seconds / 3600)} ${u.hours}`;
    return `${I18N.number(seconds / 60)} ${u.minutes}`;
  },
};
