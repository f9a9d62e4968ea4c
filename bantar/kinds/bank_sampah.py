"""Bank sampah (waste bank) deposits: a household's weighed materials and their value. Daily
figures: the named ``DayEvidence`` fields ``deposit*``, ``households`` (and who they are, for
period totals), bursts of tiny deposits left out; its metric, chart and simulator model
(``simulators.devices``) are named here."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, NamedTuple

from bantar.domain.names_id import MATERIALS
from bantar.domain.quality import DayFlag, FlagCode, deposit_bursts
from bantar.domain.readings import BankSampahPayload, Material, Reading
from bantar.domain.registry import RT
from bantar.domain.scoring import Measured, PeriodTotals
from bantar.kinds.contract import Chart, KindDay, KindEvidence, KindNames, KindPlugin, Plot, Series, Source, source_of
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common

KG_COLUMNS = tuple(f"{m.value}_kg" for m in Material)


class DepositRow(NamedTuple):
    device_id: str
    ts_ms: int
    household: str
    kg: dict[str, float]
    value_idr: int
    seq: int = 0
    received_ms: int = 0


def _row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, BankSampahPayload)
    kgs = [body.items.get(m, 0.0) for m in Material]
    prices = json.dumps({m.value: p for m, p in sorted(body.price_idr_per_kg.items())})
    return (*common(r), body.deposit_id, body.household, *kgs, body.value_idr, prices, r.digest)


def _fields(r: Reading) -> dict[str, Any]:
    body = r.payload
    assert isinstance(body, BankSampahPayload)
    prices = json.dumps({m.value: p for m, p in sorted(body.price_idr_per_kg.items())})
    kgs = {f"{m.value}_kg": float(kg) for m, kg in body.items.items()}
    return {
        "deposit_id": body.deposit_id,
        "household": body.household,
        **kgs,
        "value_idr": body.value_idr,
        "prices_json": prices,
    }


def _row_of(device_id: str, ts_ms: int, household: str, *rest: Any) -> DepositRow:
    *kgs, value_idr, seq, received_ms = rest
    kg = {m.value: float(w) for m, w in zip(Material, kgs, strict=True) if w}
    return DepositRow(device_id, ts_ms, household, kg, value_idr, seq, received_ms)


def day_figures(day: KindDay) -> KindEvidence:
    w, q = day.window, day.derivation.quality
    rows: list[DepositRow] = list(day.rows)
    flags: list[DayFlag] = []
    sources: list[Source] = []
    today = [r for r in rows if w.start <= r.ts_ms < w.end]
    bursts = {i for i in deposit_bursts([(r.ts_ms, sum(r.kg.values())) for r in today], q)}
    per_device: dict[str, list[DepositRow]] = defaultdict(list)
    for r in today:
        per_device[r.device_id].append(r)
    burst_rows = {id(today[i]) for i in bursts}
    for device_id, series in per_device.items():
        bad = sum(1 for r in series if id(r) in burst_rows or device_id in w.skewed)
        sources.append(source_of(DeviceKind.bank_sampah, device_id, series, w.late_ms, bad))
        if bad and device_id not in w.skewed:
            flags.append(DayFlag(code=FlagCode.deposit_burst, device_id=device_id, readings=bad))
    counted = [r for r in today if id(r) not in burst_rows and r.device_id not in w.skewed]
    kg: dict[str, float] = defaultdict(float)
    for row in counted:
        for material, weight in row.kg.items():
            kg[material] += weight
    households = sorted({r.household for r in counted})
    figures = {
        "deposits": len(counted),
        "deposits_flagged": len(today) - len(counted),
        "deposit_kg": {m: round(wt, 3) for m, wt in sorted(kg.items())},
        "households": len(households),
        "deposit_value_idr": sum(r.value_idr for r in counted),
        "household_ids": households,
    }
    return KindEvidence(figures, sources, flags)


def households_per_kk(t: PeriodTotals, rt: RT, kinds: dict[DeviceKind, int]) -> Measured:
    if not kinds.get(DeviceKind.bank_sampah) and not t.deposits and not t.deposits_flagged:
        return None
    # No deposit at all cannot tell an abandoned bank sampah from a dead scale: that is
    # insufficient evidence (the scale's silence raises its own alert), not a proven zero.
    return t.distinct_households / rt.kk_count, 1.0 if t.deposits else 0.0


PLUGIN = KindPlugin(
    kind=DeviceKind.bank_sampah,
    names=KindNames("timbangan bank sampah", "waste bank scale"),
    parse=BankSampahPayload.model_validate_json,
    series=Series(
        name="bank_sampah_deposits",
        columns=(
            "deposit_id TEXT NOT NULL, household TEXT NOT NULL, "
            + ", ".join(f"{c} REAL NOT NULL DEFAULT 0" for c in KG_COLUMNS)
            + ", value_idr INTEGER NOT NULL, prices_json TEXT NOT NULL"
        ),
        values=("deposit_id", "household", *KG_COLUMNS, "value_idr", "prices_json"),
        row=_row,
        fields=_fields,
        present_field="household",
        read=("household", *KG_COLUMNS, "value_idr", "seq", "received_ms"),
        row_of=_row_of,
    ),
    named=True,
    evidence=day_figures,
    simulator="simulators.devices:bank_sampah",
    metrics={"bank_sampah_households_per_kk": households_per_kk},
    chart=Chart(
        title_id="Bank sampah (kg)",
        title_en="Waste bank (kg)",
        type="bar",
        series=(
            *(
                Plot(f"deposit_kg.{m.value}", MATERIALS[m.value]["id"], MATERIALS[m.value]["en"], stack="kg")
                for m in Material
            ),
            Plot("households", "KK menabung", "households depositing", type="line", axis="y2", color="#1a202c"),
        ),
        named=True,
        canvas="c-bank",
        stacked=True,
    ),
    example={
        "ts": "2026-11-29T09:15:00+07:00",
        "seq": 1,
        "deposit_id": "d-0001",
        "household": "hh-7f3a",
        "items": {"plastic": 2.5, "paper": 1.2},
        "price_idr_per_kg": {"plastic": 3000, "paper": 1500},
    },
)
