"""A bank sampah's bookkeeping: the price in force on a day, each member's savings book
(*buku tabungan*) and the monthly recap. Pure.

Deposits are the stored readings (their value is kg x the price sent with them); withdrawals and
prices live in the application database. A deposit that a later entry corrects is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bantar.domain.readings import Material
from bantar.domain.timebase import from_epoch_ms, wib_day
from bantar.kinds.bank_sampah import DepositRow

HOUSEHOLD_PATTERN = r"^[A-Za-z0-9_-]{4,64}$"
WEIGHING_PATTERN = r"^[0-9A-Za-z.-]{1,64}:[0-9]{1,20}$"
"""a weighing as a deposit names it: ``<scale's device id>:<seq>``"""
WEIGHING_RECENT = timedelta(hours=24)
"""a deposit takes a weighing at most this long before or after its own time"""
GRADE_PATTERN = r"^[\w .,/()+-]{0,40}$"
Grade = Annotated[str, Field(pattern=GRADE_PATTERN, description="sub-grade, e.g. 'botol PET'; empty: the material")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Price(_Frozen):
    material: Material
    grade: Grade = ""
    price_idr_per_kg: int = Field(ge=0, le=1_000_000)
    valid_from: date


class Withdrawal(_Frozen):
    key: str
    household: str
    amount_idr: int = Field(gt=0, le=100_000_000)
    ts: datetime


class BookLine(_Frozen):
    ts: datetime
    kind: Literal["deposit", "withdrawal"]
    kg: dict[str, float] = Field(default_factory=dict)
    amount_idr: int
    """positive for a deposit, negative for a withdrawal"""
    balance_idr: int


class SavingsBook(_Frozen):
    household: str
    lines: list[BookLine]
    deposits_idr: int
    withdrawals_idr: int
    balance_idr: int


class MonthRecap(_Frozen):
    month: str
    kg_by_material: dict[str, float]
    deposits: int
    active_members: int
    turnover_idr: int
    withdrawals_idr: int


def prices_in_force(prices: Iterable[Price], day: date) -> list[Price]:
    """Per material and grade, the latest price set on or before ``day``."""
    latest: dict[tuple[Material, str], Price] = {}
    for price in prices:
        if price.valid_from > day:
            continue
        key = (price.material, price.grade)
        if key not in latest or price.valid_from >= latest[key].valid_from:
            latest[key] = price
    return sorted(latest.values(), key=lambda p: (list(Material).index(p.material), p.grade))


def kept(deposits: Iterable[DepositRow], superseded: set[tuple[str, int]]) -> list[DepositRow]:
    """The deposits no correction replaced (``superseded`` holds (household, ts_ms) pairs)."""
    return [d for d in deposits if (d.household, d.ts_ms) not in superseded]


def savings_book(household: str, deposits: Sequence[DepositRow], withdrawals: Sequence[Withdrawal]) -> SavingsBook:
    """Deposits and withdrawals of one member in time order, with the running balance."""
    moves: list[tuple[datetime, Literal["deposit", "withdrawal"], dict[str, float], int]] = [
        (from_epoch_ms(d.ts_ms), "deposit", d.kg, d.value_idr) for d in deposits if d.household == household
    ]
    moves += [(w.ts, "withdrawal", {}, -w.amount_idr) for w in withdrawals if w.household == household]
    moves.sort(key=lambda m: m[0])
    balance, lines = 0, []
    for ts, kind, kg, amount in moves:
        balance += amount
        lines.append(BookLine(ts=ts, kind=kind, kg=kg, amount_idr=amount, balance_idr=balance))
    paid_in = sum(m[3] for m in moves if m[3] > 0)
    return SavingsBook(
        household=household, lines=lines, deposits_idr=paid_in, withdrawals_idr=paid_in - balance, balance_idr=balance
    )


def month_recap(month: str, deposits: Sequence[DepositRow], withdrawals: Sequence[Withdrawal]) -> MonthRecap:
    """Kg per material, members who deposited, turnover (deposit value) of one WIB month."""
    in_month = [d for d in deposits if wib_day(from_epoch_ms(d.ts_ms)).isoformat()[:7] == month]
    kg: dict[str, float] = {m.value: 0.0 for m in Material}
    for deposit in in_month:
        for material, amount in deposit.kg.items():
            kg[material] = round(kg[material] + amount, 3)
    return MonthRecap(
        month=month,
        kg_by_material=kg,
        deposits=len(in_month),
        active_members=len({d.household for d in in_month}),
        turnover_idr=sum(d.value_idr for d in in_month),
        withdrawals_idr=sum(w.amount_idr for w in withdrawals if wib_day(w.ts).isoformat()[:7] == month),
    )


def weighing_id(device_id: str, seq: int) -> str:
    return f"{device_id}:{seq}"


def parse_weighing_id(text: str) -> tuple[str, int]:
    device_id, _, seq = text.rpartition(":")
    return device_id, int(seq)


def weighing_matches(items_kg: Iterable[float], weighed_kg: float) -> bool:
    """A deposit's kg (all its items) is the weighing's, to the gram the app writes."""
    return round(sum(items_kg), 3) == round(weighed_kg, 3)
