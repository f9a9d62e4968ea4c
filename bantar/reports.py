"""Reports the city asks for, as tables (written as CSV or XLSX by ``bantar.report_files``):

- the monthly **bank sampah** report of an RT, a kelurahan or a kecamatan (deposits, active
  members, kg per material, turnover) for DLH;
- the programme's monthly **evidence recap** per RT (suggested levels, coverage, alerts);
- the **open-data** export of daily evidence per RT with Kemendagri area codes, its column
  descriptions and a metadata record for a CKAN / Satu Data portal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from bantar.domain.areacodes import codes_of, kecamatan_code, kelurahan_code
from bantar.domain.evidence import DayEvidence
from bantar.domain.readings import Material
from bantar.domain.registry import RegistryIndex
from bantar.domain.scoring import kind_coverage
from bantar.domain.timebase import to_epoch_ms, wib_day_bounds_utc
from bantar.evidence_service import EvidenceQueries
from bantar.kinds.registry import plugins
from bantar.ports import ReadingStore
from bantar.stores.alertbook import AlertBook

Cell = str | int | float | None
Level = Literal["rt", "kelurahan", "kecamatan"]
TURNOVER_UNKNOWN = (
    "Omzet tidak diketahui: ada setoran tanpa harga per kg; omzet memerlukan daftar harga dari aplikasi lapangan."
)
INSUFFICIENT = "bukti kurang"


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    """one line in Bahasa Indonesia: what the column holds and in which unit"""


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    totals: list[Cell] | None = None
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        names = [c.name for c in self.columns]
        return {
            "title": self.title,
            "columns": [{"name": c.name, "description": c.description} for c in self.columns],
            "rows": [dict(zip(names, r, strict=True)) for r in self.rows],
            "totals": None if self.totals is None else dict(zip(names, self.totals, strict=True)),
            "notes": self.notes,
        }


MATERIALS = [m.value for m in Material]
BANK_SAMPAH_COLUMNS = [
    Column("kode_wilayah", "kode RT, kelurahan atau kecamatan di registri BANTAR"),
    Column("nama_wilayah", "nama wilayah"),
    Column("kode_kemendagri", "kode wilayah Kemendagri (kelurahan/kecamatan)"),
    Column("bulan", "bulan laporan (WIB), YYYY-MM"),
    Column("setoran", "jumlah setoran"),
    Column("nasabah_aktif", "rumah tangga yang menyetor setidaknya sekali dalam bulan ini"),
    *(Column(f"kg_{m}", f"berat {m} yang disetor, kg") for m in MATERIALS),
    Column("kg_total", "berat seluruh setoran, kg"),
    Column("omzet_idr", "nilai setoran menurut harga per kg, rupiah; kosong bila tidak diketahui"),
]


@dataclass
class _Sums:
    deposits: int = 0
    households: int = 0
    kg: dict[str, float] = field(default_factory=lambda: dict.fromkeys(MATERIALS, 0.0))
    value_idr: int = 0
    priced: bool = True

    def add(self, other: _Sums) -> None:
        self.deposits += other.deposits
        self.households += other.households
        for m in MATERIALS:
            self.kg[m] += other.kg[m]
        self.value_idr += other.value_idr
        self.priced = self.priced and other.priced

    def cells(self) -> list[Cell]:
        kg = [round(self.kg[m], 2) for m in MATERIALS]
        return [
            self.deposits,
            self.households,
            *kg,
            round(sum(self.kg.values()), 2),
            self.value_idr if self.priced else None,
        ]


def month_label(start: date) -> str:
    return start.strftime("%Y-%m")


def bank_sampah(store: ReadingStore, registry: RegistryIndex, level: Level, code: str, start: date, end: date) -> Table:
    """Per RT (for an RT or a kelurahan) or per kelurahan (for a kecamatan), with totals."""
    codes = registry.rts_in(level, code)
    totals = store.period_totals(start, end, codes)
    per_rt: dict[str, _Sums] = {c: _Sums(households=totals[c].distinct_households if c in totals else 0) for c in codes}
    for day in store.day_evidence(codes, start, end):
        sums = per_rt[day.rt_code]
        sums.deposits += day.deposits
        for material, kg in day.deposit_kg.items():
            sums.kg[material] = sums.kg.get(material, 0.0) + kg
        sums.value_idr += day.deposit_value_idr
        if day.deposits and not day.deposit_value_idr:
            sums.priced = False
    month = month_label(start)
    groups: dict[str, _Sums] = defaultdict(_Sums)
    names: dict[str, tuple[str, str]] = {}
    for rt_code, sums in per_rt.items():
        place = registry.rts[rt_code]
        if level == "kecamatan":
            key = place.kelurahan_code
            names[key] = (f"Kel. {place.kelurahan_name}", kelurahan_code(place.kelurahan_code))
        else:
            key = rt_code
            names[key] = (f"RT {place.rt.number:03d} Kel. {place.kelurahan_name}", kelurahan_code(place.kelurahan_code))
        groups[key].add(sums)
    total = _Sums()
    for sums in groups.values():
        total.add(sums)
    rows: list[list[Cell]] = [[key, names[key][0], names[key][1], month, *groups[key].cells()] for key in groups]
    place = registry.rts[codes[0]]
    area_name = {
        "rt": f"RT {place.rt.number:03d} Kel. {place.kelurahan_name}",
        "kelurahan": f"Kel. {place.kelurahan_name}",
        "kecamatan": f"Kec. {place.kecamatan_name}",
    }[level]
    area_code = kecamatan_code(place.kecamatan_code) if level == "kecamatan" else kelurahan_code(place.kelurahan_code)
    return Table(
        title=f"Laporan bank sampah {area_name}, {month}",
        columns=BANK_SAMPAH_COLUMNS,
        rows=rows,
        totals=[code, f"Jumlah {area_name}", area_code, month, *total.cells()],
        notes=[] if total.priced else [TURNOVER_UNKNOWN],
    )


def _score(value: int | None) -> Cell:
    return INSUFFICIENT if value is None else value


def evidence_recap(
    queries: EvidenceQueries, book: AlertBook, registry: RegistryIndex, level: Level, code: str, start: date, end: date
) -> Table:
    """Per RT: suggested level per sensor-backed criterion, coverage per device kind, alerts."""
    codes = registry.rts_in(level, code)
    scores = queries.bulk_scores(codes, start, end)
    criteria = sorted({c.criterion for s in scores.values() for c in s.criteria})
    first_ms, _ = (to_epoch_ms(t) for t in wib_day_bounds_utc(start))
    _, last_ms = (to_epoch_ms(t) for t in wib_day_bounds_utc(end))
    opened: dict[str, int] = defaultdict(int)
    live: dict[str, int] = defaultdict(int)
    for alert in book.alerts(codes, ["open", "acknowledged", "resolved"]):
        if first_ms <= alert.opened_ms < last_ms:
            opened[alert.rt_code] += 1
        if alert.state != "resolved":
            live[alert.rt_code] += 1
    rows: list[list[Cell]] = []
    for rt_code in codes:
        place, result = registry.rts[rt_code], scores[rt_code]
        by_name = {c.criterion: c for c in result.criteria}
        coverage = {k: None if v is None else round(v, 3) for k, v in kind_coverage(result.criteria).items()}
        rows.append(
            [
                rt_code,
                place.kelurahan_name,
                place.kecamatan_name,
                month_label(start),
                result.category.category.value,
                *(_score(by_name[c].score) if c in by_name else INSUFFICIENT for c in criteria),
                *coverage.values(),
                opened[rt_code],
                live[rt_code],
            ]
        )
    columns = [
        Column("kode_rt", "kode RT di registri BANTAR"),
        Column("kelurahan", "nama kelurahan"),
        Column("kecamatan", "nama kecamatan"),
        Column("bulan", "bulan (WIB), YYYY-MM"),
        Column("kategori", "kategori RT menurut jumlah KK: kecil, sedang, besar"),
        *(
            Column(f"skor_{c}", f"skor yang disarankan sensor untuk kriteria {c}: 2, 1, 0 atau 'bukti kurang'")
            for c in criteria
        ),
        *(
            Column(f"cakupan_{kind}", f"bagian {p.coverage.of_id} yang diharapkan yang diterima (0–1)")
            for kind, p in plugins().items()
            if p.coverage is not None
        ),
        Column("peringatan_dibuka", "peringatan yang dibuka dalam bulan ini"),
        Column("peringatan_aktif", "peringatan yang masih terbuka atau sudah ditanggapi tetapi belum selesai"),
    ]
    totals: list[Cell] = [None] * len(columns)
    totals[0], totals[-2], totals[-1] = "Jumlah", sum(opened.values()), sum(live.values())
    return Table(title=f"Rekap bukti sensor per RT, {month_label(start)}", columns=columns, rows=rows, totals=totals)


OPEN_DATA_FIELDS: list[tuple[str, str, str]] = [
    ("bins", "jumlah_tempat_sampah", "tempat sampah bersensor yang terdaftar"),
    ("bin_readings", "pembacaan_tempat_sampah", "pembacaan tingkat isi yang diterima"),
    (
        "bin_readings_expected",
        "pembacaan_tempat_sampah_diharapkan",
        "pembacaan yang diharapkan dari interval perangkat",
    ),
    (
        "bin_mean_fill",
        "isi_rata_rata_persen",
        "rata-rata tingkat isi tempat sampah, persen; kosong bila tidak ada data",
    ),
    ("bin_peak_fill", "isi_puncak_persen", "tingkat isi tertinggi, persen"),
    ("bin_overflow_hours", "jam_tempat_sampah_penuh", "jam-tempat sampah pada atau di atas ambang meluap"),
    ("bin_collections", "pengangkutan_terdeteksi", "pengosongan tempat sampah yang terdeteksi"),
    ("cameras", "jumlah_kamera", "kamera CCTV yang terdaftar"),
    ("cameras_reporting", "kamera_melapor", "kamera yang mengirim detak hari itu"),
    ("cctv_heartbeats_expected", "detak_cctv_diharapkan", "detak CCTV yang diharapkan"),
    ("cctv_online_heartbeats", "detak_cctv_daring", "detak CCTV yang menyatakan kamera daring"),
    ("posts", "jumlah_pos_ronda", "pos ronda yang terdaftar"),
    ("night_staffed", "malam_dijaga", "apakah ada regu jaga malam itu: ya, tidak, atau kosong bila tidak ada bukti"),
    ("patrols", "patroli", "laporan patroli"),
    ("incidents", "kejadian", "kejadian yang dilaporkan"),
    ("deposits", "setoran_bank_sampah", "setoran bank sampah"),
    ("households", "rumah_tangga_menyetor", "rumah tangga yang menyetor hari itu"),
    ("gotong_royong_events", "kegiatan_gotong_royong", "kegiatan gotong royong yang dilaporkan"),
    ("gotong_royong_attendance", "peserta_gotong_royong", "jumlah peserta gotong royong"),
]
OPEN_DATA_COLUMNS = [
    Column("tanggal", "tanggal (WIB), YYYY-MM-DD"),
    Column("kode_kota", "kode Kemendagri kota (Kota Jambi 15.71)"),
    Column("kode_kecamatan", "kode Kemendagri kecamatan"),
    Column("kode_kelurahan", "kode Kemendagri kelurahan"),
    Column("nomor_rt", "nomor RT dalam kelurahan"),
    Column("nama_kecamatan", "nama kecamatan"),
    Column("nama_kelurahan", "nama kelurahan"),
    *(Column(name, description) for _, name, description in OPEN_DATA_FIELDS),
    Column("kg_bank_sampah", "berat seluruh setoran bank sampah, kg"),
]


def _open_cell(value: Any) -> Cell:
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    return value  # type: ignore[no-any-return]  # a cell is whatever the table holds (str, number, None)


def open_data(store: ReadingStore, registry: RegistryIndex, rt_codes: list[str], start: date, end: date) -> Table:
    days: list[DayEvidence] = sorted(store.day_evidence(rt_codes, start, end), key=lambda d: (d.day, d.rt_code))
    rows: list[list[Cell]] = []
    for day in days:
        place = registry.rts[day.rt_code]
        codes = codes_of(place)
        rows.append(
            [
                day.day.isoformat(),
                codes["kode_kota"],
                codes["kode_kecamatan"],
                codes["kode_kelurahan"],
                codes["nomor_rt"],
                place.kecamatan_name,
                place.kelurahan_name,
                *(_open_cell(getattr(day, attr)) for attr, _, _ in OPEN_DATA_FIELDS),
                round(sum(day.deposit_kg.values()), 2),
            ]
        )
    return Table(title="Bukti sensor harian per RT, Kampung BANTAR Kota Jambi", columns=OPEN_DATA_COLUMNS, rows=rows)


def open_data_metadata(start: date, end: date, generated: datetime, csv_name: str) -> dict[str, Any]:
    """A metadata record in CKAN's dataset vocabulary (and Satu Data Indonesia's fields)."""
    return {
        "title": "Bukti sensor harian per RT program Kampung BANTAR Kota Jambi",
        "name": "bantar-bukti-sensor-harian-rt",
        "notes": (
            "Angka harian per RT dari sensor dan laporan program Kampung BANTAR (Bersih, Aman, Pintar): "
            "tempat sampah, CCTV, pos ronda, bank sampah, gotong royong. Setiap angka disertai yang "
            "diharapkan, sehingga sensor yang mati terbaca sebagai bukti kurang, bukan nol. Tanpa data pribadi."
        ),
        "source": "Layanan bukti sensor BANTAR, Pemerintah Kota Jambi",
        "organization": "Pemerintah Kota Jambi",
        "license_id": "CC-BY-4.0",
        "license_title": "Creative Commons Attribution 4.0 International",
        "temporal_start": start.isoformat(),
        "temporal_end": end.isoformat(),
        "frequency": "harian (daily)",
        "spatial": "Kota Jambi (Kemendagri 15.71)",
        "area_code_scheme": "Kode wilayah Kemendagri (Permendagri 72/2019); RT: nomor dalam kelurahan",
        "language": "id",
        "metadata_created": generated.isoformat(),
        "resources": [
            {
                "name": csv_name,
                "format": "CSV",
                "encoding": "UTF-8",
                "fields": [{"id": c.name, "description": c.description} for c in OPEN_DATA_COLUMNS],
            }
        ],
    }
