"""Synthetic but stable registry of Kota Jambi, built from the programme's published counts.

Real: the 11 kecamatan names, their kelurahan and RT counts, and per year how many RTs won in
each category. Synthetic (seeded, so the same seed gives the same city): kelurahan names and
codes, RT household counts, which RTs won, their scores, and the devices in each RT.

Flood sensors (``water_level``) are placed by a rule, not drawn (``flood_waters``), with the
levels of their water (``FLOOD_LEVELS_CM``); their ids and places come from their RT's code, so
adding them left every other draw, RT and device as it was.
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bantar.domain.registry import (
    RT,
    Award,
    Category,
    Device,
    ExternalIds,
    Kecamatan,
    Kelurahan,
    Location,
    Registry,
)
from bantar.domain.topics import DeviceKind

CITY_CENTRE = (-1.6101, 103.6131)
AWARD_YEARS = range(2015, 2021)
EXPECTED_INTERVAL_S: dict[DeviceKind, int] = {
    DeviceKind.bin: 300,
    DeviceKind.cctv: 60,
    DeviceKind.poskamling: 3600,
    DeviceKind.bank_sampah: 7 * 86400,
    DeviceKind.water_level: 600,
}
RIVER_KECAMATAN = frozenset({"Pelayangan", "Danau Teluk", "Telanaipura", "Danau Sipin", "Pasar", "Jambi Timur"})
"""the kecamatan on the Batanghari: Pelayangan and Danau Teluk (Seberang Kota Jambi) on its north
bank, the other four on its south bank"""
FLOOD_LEVELS_CM: dict[str, dict[str, float]] = {
    "drain": {"warning_cm": 60.0, "danger_cm": 90.0},
    "river": {"warning_cm": 150.0, "danger_cm": 200.0},
}
"""registered warning and danger levels (``calibration``) in cm above the sensor's zero: a drain's
floor (a drain about a metre deep) or the river's usual dry-season level at the bank; this
service's assumption, for the generated city (a real registry carries each sensor's own, from
BPBD or PUPR)"""
_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]


@dataclass(frozen=True)
class KecamatanCounts:
    """One row of the programme's 2014-2020 table."""

    no: int
    name: str
    kelurahan_count: int
    rt_count: int
    winners_by_year: dict[int, dict[Category, int]]

    @classmethod
    def read_csv(cls, path: Path) -> list[KecamatanCounts]:
        with path.open(encoding="utf-8", newline="") as handle:
            return [cls._from_row(row) for row in csv.DictReader(handle)]

    @classmethod
    def _from_row(cls, row: dict[str, str]) -> KecamatanCounts:
        return cls(
            no=int(row["no"]),
            name=row["kecamatan"],
            kelurahan_count=int(row["kelurahan_count"]),
            rt_count=int(row["rt_count"]),
            winners_by_year={year: {c: int(row[f"{c.value}_{year}"]) for c in Category} for year in AWARD_YEARS},
        )


def generate_city(rows: Iterable[KecamatanCounts], seed: int = 1571) -> Registry:
    rng = random.Random(seed)
    kecamatan: list[Kecamatan] = []
    devices: list[Device] = []
    for row in rows:
        kec_code = f"1571{row.no:02d}0"
        centre = (
            CITY_CENTRE[0] + rng.uniform(-0.05, 0.05),
            CITY_CENTRE[1] + rng.uniform(-0.06, 0.06),
        )
        kelurahan = []
        for j, n_rts in enumerate(_split(row.rt_count, row.kelurahan_count, rng), start=1):
            kel_code = f"{kec_code}{j:03d}"
            rts = [_rt(kel_code, n, rng) for n in range(1, n_rts + 1)]
            name = f"{row.name} {_ROMAN[j - 1] if j <= len(_ROMAN) else j}"
            kelurahan.append(Kelurahan(code=kel_code, name=name, rts=rts))
        kelurahan = _with_awards(kelurahan, row, rng)
        for k, kel in enumerate(kelurahan):
            for rt in kel.rts:
                devices.extend(_devices_for(rt, centre, rng))
                waters = flood_waters(row.name, k, len(kel.rts), rt.number)
                devices.extend(_flood_sensors(rt, waters, centre))
        kecamatan.append(Kecamatan(code=kec_code, name=row.name, kelurahan=kelurahan))
    return Registry(kecamatan=kecamatan, devices=devices)


def one_kelurahan(city: Registry) -> Registry:
    """The first kelurahan of the first kecamatan, with its devices: a small registry for demos."""
    kec = city.kecamatan[0]
    kel = kec.kelurahan[0]
    codes = {rt.code for rt in kel.rts}
    return Registry(
        kecamatan=[Kecamatan(code=kec.code, name=kec.name, kelurahan=[kel])],
        devices=[d for d in city.devices if d.rt in codes],
    )


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split ``total`` RTs over ``parts`` kelurahan with uneven but plausible sizes, each >= 1."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    raw = [total * w / sum(weights) for w in weights]
    counts = [max(1, math.floor(x)) for x in raw]
    by_fraction = sorted(range(parts), key=lambda i: raw[i] - math.floor(raw[i]), reverse=True)
    i = 0
    while sum(counts) < total:
        counts[by_fraction[i % parts]] += 1
        i += 1
    while sum(counts) > total:
        largest = counts.index(max(counts))
        counts[largest] -= 1
    return counts


def _rt(kel_code: str, number: int, rng: random.Random) -> RT:
    kk = round(rng.lognormvariate(math.log(68), 0.5))
    return RT(code=f"{kel_code}-{number:03d}", number=number, kk_count=min(350, max(12, kk)))


def _with_awards(kelurahan: list[Kelurahan], row: KecamatanCounts, rng: random.Random) -> list[Kelurahan]:
    """Give the published number of winners per year and category to RTs of that category.
    An RT wins once ("satu kampung hanya sekali", thesis-2023.txt): a draw that falls on an RT
    already awarded is dropped, so a kecamatan may show fewer winners than published (the draws
    stay as they were, so the generated RTs and devices do not change)."""
    awards: dict[str, Award] = {}
    all_rts = [rt for kel in kelurahan for rt in kel.rts]
    for year, per_category in row.winners_by_year.items():
        for category, count in per_category.items():
            eligible = [rt for rt in all_rts if rt.category is category]
            for rt in rng.sample(eligible, min(count, len(eligible))):
                award = _award(year, category, rng)
                awards.setdefault(rt.code, award)
    return [
        kel.model_copy(
            update={
                "rts": [
                    rt.model_copy(update={"awards": [awards[rt.code]] if rt.code in awards else []}) for rt in kel.rts
                ]
            }
        )
        for kel in kelurahan
    ]


def _award(year: int, category: Category, rng: random.Random) -> Award:
    def pillar() -> dict[str, int]:
        return {letter: rng.choices([2, 1], weights=[4, 1])[0] for letter in "abcdefg"}

    return Award.model_validate(
        {"year": year, "category": category, "scores": {p: pillar() for p in ("bersih", "aman", "pintar")}}
    )


def _devices_for(rt: RT, centre: tuple[float, float], rng: random.Random) -> list[Device]:
    awarded = bool(rt.awards)
    counts = {
        DeviceKind.bin: max(1, round(rt.kk_count / 60)),
        DeviceKind.cctv: rng.choices([0, 1, 2, 3], weights=[2, 4, 3, 1] if awarded else [4, 4, 2, 0])[0],
        DeviceKind.poskamling: int(rng.random() < (0.95 if awarded else 0.75)),
        DeviceKind.bank_sampah: int(rng.random() < (0.6 if awarded else 0.25)),
    }
    devices = []
    for kind, count in counts.items():
        for i in range(1, count + 1):
            devices.append(
                Device(
                    id=f"{rt.code}-{kind.value.replace('_', '')}{i}".lower(),
                    kind=kind,
                    rt=rt.code,
                    interval_s=EXPECTED_INTERVAL_S[kind],
                    location=Location(
                        lat=round(centre[0] + rng.uniform(-0.02, 0.02), 5),
                        lon=round(centre[1] + rng.uniform(-0.02, 0.02), 5),
                    ),
                    depth_cm=round(rng.uniform(90, 140)) if kind is DeviceKind.bin else None,
                    **_external(f"{rt.code}-{kind.value.replace('_', '')}{i}".lower(), kind),
                )
            )
    return devices


def flood_waters(kecamatan: str, kelurahan_index: int, rt_count: int, rt_number: int) -> list[str]:
    """The water an RT's flood sensors watch, by rule: in every kelurahan of ``rt_count`` RTs, the
    RTs numbered ⌈n/4⌉, ⌈n/2⌉ and ⌈3n/4⌉ lie along its main drains (``drain``); in the first
    kelurahan (``kelurahan_index`` 0) of each kecamatan on the Batanghari (``RIVER_KECAMATAN``),
    the first quarter of its RTs (1 to ⌈n/4⌉) lie on the bank (``river``). An RT on the bank may
    watch a drain too, with a second sensor."""
    waters = []
    if kecamatan in RIVER_KECAMATAN and kelurahan_index == 0 and rt_number <= math.ceil(rt_count / 4):
        waters.append("river")
    if rt_number in {math.ceil(rt_count * q / 4) for q in (1, 2, 3)}:
        waters.append("drain")
    return waters


def _flood_sensors(rt: RT, waters: list[str], centre: tuple[float, float]) -> list[Device]:
    """One sensor per water, placed near the kecamatan's centre as the other devices are, but from
    a hash of its id rather than a draw."""
    sensors = []
    for i, water in enumerate(waters, start=1):
        device_id = f"{rt.code}-waterlevel{i}"
        digest = hashlib.blake2b(device_id.encode(), digest_size=8).digest()
        spread = (int.from_bytes(digest[:4]) / 2**32 - 0.5, int.from_bytes(digest[4:]) / 2**32 - 0.5)
        sensors.append(
            Device(
                id=device_id,
                kind=DeviceKind.water_level,
                rt=rt.code,
                interval_s=EXPECTED_INTERVAL_S[DeviceKind.water_level],
                location=Location(
                    lat=round(centre[0] + 0.04 * spread[0], 5), lon=round(centre[1] + 0.04 * spread[1], 5)
                ),
                calibration=FLOOD_LEVELS_CM[water],
            )
        )
    return sensors


def _external(device_id: str, kind: DeviceKind) -> dict[str, Any]:
    """Ids in the devices' own formats, derived from the id (no draw from the generator's random
    stream, so everything else stays as it was): a bin is a LoRaWAN node (Milesight EM310-UDL) that
    also has Tasmota and ESPHome names, so each ``bantar simulate --format`` can drive the same
    fleet; a camera has its name; a scale its Tasmota topic."""
    if kind is DeviceKind.bin:
        eui = hashlib.blake2b(device_id.encode(), digest_size=8).hexdigest()
        ids = ExternalIds(dev_eui=eui, tts_device_id=device_id, tasmota_topic=device_id, esphome_node=device_id)
        return {"external_ids": ids, "model": "milesight-em310-udl"}
    if kind is DeviceKind.cctv:
        return {"external_ids": ExternalIds(camera=device_id)}
    if kind is DeviceKind.bank_sampah:
        return {"external_ids": ExternalIds(tasmota_topic=device_id)}
    return {}
