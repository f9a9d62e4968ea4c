"""The bank sampah's bookkeeping and the Indonesian name catalogue (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from bantar.domain.bank_sampah import Price, Withdrawal, kept, month_recap, prices_in_force, savings_book
from bantar.domain.names_id import INCIDENT_CATEGORIES, MATERIALS
from bantar.domain.readings import BankSampahPayload, IncidentCategory, IncidentEvent, Material
from bantar.domain.timebase import to_epoch_ms
from bantar.kinds.bank_sampah import DepositRow


def at(day: int, hour: int = 2) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def row(household: str, day: int, value: int, kg: float = 1.0) -> DepositRow:
    return DepositRow("web", to_epoch_ms(at(day)), household, {"plastic": kg}, value)


def test_the_price_in_force_is_the_latest_set_on_or_before_the_day() -> None:
    prices = [
        Price(material=Material.plastic, price_idr_per_kg=3000, valid_from=date(2026, 11, 1)),
        Price(material=Material.plastic, price_idr_per_kg=3500, valid_from=date(2026, 11, 15)),
        Price(material=Material.plastic, grade="botol PET", price_idr_per_kg=4000, valid_from=date(2026, 11, 1)),
        Price(material=Material.paper, price_idr_per_kg=1500, valid_from=date(2026, 11, 20)),
    ]
    on_10th = {(p.material, p.grade): p.price_idr_per_kg for p in prices_in_force(prices, date(2026, 11, 10))}
    assert on_10th == {(Material.plastic, ""): 3000, (Material.plastic, "botol PET"): 4000}
    on_15th = {(p.material, p.grade): p.price_idr_per_kg for p in prices_in_force(prices, date(2026, 11, 15))}
    assert on_15th[(Material.plastic, "")] == 3500
    assert prices_in_force(prices, date(2026, 10, 31)) == []


def test_the_savings_book_runs_in_time_order_and_leaves_corrected_deposits_out() -> None:
    deposits = [row("hh_a001", 3, 4000), row("hh_a001", 1, 1000), row("hh_b002", 2, 9999), row("hh_a001", 5, 700)]
    withdrawals = [Withdrawal(key="w1", household="hh_a001", amount_idr=1500, ts=at(4))]
    superseded = {("hh_a001", to_epoch_ms(at(5)))}
    book = savings_book("hh_a001", kept(deposits, superseded), withdrawals)
    assert [line.balance_idr for line in book.lines] == [1000, 5000, 3500]
    assert (book.deposits_idr, book.withdrawals_idr, book.balance_idr) == (5000, 1500, 3500)


def test_the_monthly_recap_counts_kg_members_and_turnover_of_the_wib_month() -> None:
    deposits = [row("hh_a001", 1, 3000, 1.0), row("hh_b002", 2, 6000, 2.0)]
    late_october = DepositRow("web", to_epoch_ms(datetime(2026, 10, 31, 16, 30, tzinfo=UTC)), "hh_c003", {}, 5)
    recap = month_recap("2026-11", [*deposits, late_october], [])  # 23:30 WIB on 31 October
    assert recap.kg_by_material["plastic"] == 3.0
    assert (recap.deposits, recap.active_members, recap.turnover_idr) == (2, 2, 9000)
    after_midnight = DepositRow("web", to_epoch_ms(datetime(2026, 10, 31, 17, 30, tzinfo=UTC)), "hh_c003", {}, 5)
    assert month_recap("2026-11", [after_midnight], []).deposits == 1  # 00:30 WIB on 1 November


def test_indonesian_names_stand_for_the_stored_codes() -> None:
    assert {names["id"] for names in MATERIALS.values()} == {"plastik", "kertas", "logam", "kaca", "organik", "lainnya"}
    assert set(MATERIALS) == {m.value for m in Material}
    assert set(INCIDENT_CATEGORIES) == {c.value for c in IncidentCategory}
    assert Material("Plastik") is Material.plastic
    assert IncidentCategory("kebakaran") is IncidentCategory.fire
    deposit = BankSampahPayload.model_validate_json(
        '{"ts": "2026-11-29T09:30:00+07:00", "seq": 1, "deposit_id": "d1", "household": "hh_x1",'
        ' "items": {"kertas": 1.5}, "price_idr_per_kg": {"kertas": 1500}}'
    )
    assert deposit.items == {Material.paper: 1.5}
    with pytest.raises(ValidationError):
        IncidentEvent.model_validate_json(
            '{"ts": "2026-11-29T01:00:00+07:00", "seq": 2, "event": "incident", "category": "maling"}'
        )
