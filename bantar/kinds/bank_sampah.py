"""Bank sampah (waste bank) deposits: a household's weighed materials and their value. Daily
figures: ``bantar.domain.evidence`` (``deposit*``, ``households``); its metric, chart and
simulator model (``simulators.devices``) are named here."""

from __future__ import annotations

import json
from typing import Any

from bantar.domain.evidence import DepositRow
from bantar.domain.names_id import MATERIALS
from bantar.domain.readings import BankSampahPayload, Material, Reading
from bantar.domain.registry import RT
from bantar.domain.scoring import Measured, PeriodTotals
from bantar.kinds.contract import Chart, KindNames, KindPlugin, Plot, Series
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common

KG_COLUMNS = tuple(f"{m.value}_kg" for m in Material)


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
    slot="deposits",
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
