"""A bank sampah's bookkeeping for its operator: members (names and phones only for the RT's
operator and RT head), the price list, withdrawals, corrections, each member's savings book and
the monthly recap (JSON, CSV, XLSX). Deposits themselves are posts
(``POST /api/v1/rts/{rt}/bank-sampah/deposits``) and stay in the reading store."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from openpyxl import Workbook
from pydantic import AwareDatetime, BaseModel, Field

from api.deps import PrincipalDep, ServicesDep, client_address, require_rt
from api.errors import AUTHENTICATED, ApiError, refusals
from api.params import RTCode
from api.routes.field import IdempotencyKey, checked_key, refusal
from bantar.domain.access import Action
from bantar.domain.bank_sampah import (
    HOUSEHOLD_PATTERN,
    WEIGHING_RECENT,
    MonthRecap,
    Price,
    SavingsBook,
    Withdrawal,
    kept,
    month_recap,
    parse_weighing_id,
    prices_in_force,
    savings_book,
    weighing_id,
    weighing_matches,
)
from bantar.domain.errors import Reason
from bantar.domain.names_id import MATERIALS
from bantar.domain.readings import BankSampahPayload, Reading
from bantar.domain.timebase import PROGRAMME_START, from_epoch_ms, to_epoch_ms, utc_now, wib_day, wib_day_bounds_utc
from bantar.domain.topics import DeviceKind
from bantar.kinds.bank_sampah import DepositRow
from bantar.kinds.contract import KindRow
from bantar.services import Services
from bantar.stores.field_records import Member

router = APIRouter(
    prefix="/api/v1/rts/{rt_code}/bank-sampah",
    tags=["bank sampah"],
    responses=refusals(*AUTHENTICATED, 409, 413, 428),
)
Household = Annotated[str, Path(pattern=HOUSEHOLD_PATTERN, description="the member's pseudonymous household id")]
MONTH = r"^20\d{2}-(0[1-9]|1[0-2])$"


class MemberSave(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 -]{6,20}$")


class PriceList(BaseModel):
    day: date
    in_force: list[Price]
    """per material and sub-grade, the price in force on ``day``"""
    history: list[Price]


class WithdrawalCreate(BaseModel):
    household: str = Field(pattern=HOUSEHOLD_PATTERN)
    amount_idr: int = Field(gt=0, le=100_000_000)
    ts: AwareDatetime


class EntryResult(BaseModel):
    status: Literal["stored", "duplicate"]
    idempotency_key: str


class CorrectionCreate(BaseModel):
    corrects: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="Idempotency-Key of the corrected deposit")
    household: str = Field(pattern=HOUSEHOLD_PATTERN, description="the corrected deposit's household")
    ts: AwareDatetime = Field(description="the corrected deposit's time, as it was sent")


class WeighingPublic(BaseModel):
    id: str
    """what a deposit names to take it: ``POST .../deposits?weighing=<id>``"""
    device_id: str
    ts: datetime
    kg: float


def _deposits(services: Services, rt_code: str) -> list[DepositRow]:
    """Every deposit of the RT that no correction replaced."""
    end = utc_now() + timedelta(days=2)
    rows = services.store.rt_readings(rt_code, to_epoch_ms(PROGRAMME_START), to_epoch_ms(end)).of(
        DeviceKind.bank_sampah
    )
    return kept(rows, services.app_db.field.superseded(rt_code))


@router.get("/members", response_model=list[Member], summary="Members with names and phones (operator, RT head)")
def list_members(rt_code: RTCode, services: ServicesDep, who: PrincipalDep) -> list[Member]:
    require_rt(services, who, rt_code, Action.read_members)
    return services.app_db.field.members(rt_code)


@router.put("/members/{household}", response_model=Member, summary="Register or update a member (operator)")
def save_member(
    rt_code: RTCode, household: Household, body: MemberSave, request: Request, services: ServicesDep, who: PrincipalDep
) -> Member:
    require_rt(services, who, rt_code, Action.keep_bank_book)
    if not services.app_db.field.save_member(rt_code, household, body.name, body.phone):
        raise refusal(409, Reason.unknown_member, f"household {household!r} was removed from this bank sampah")
    services.app_db.audit(who, "member_save", rt_code, {}, client_address(request))
    return next(m for m in services.app_db.field.members(rt_code) if m.household == household)


@router.delete("/members/{household}", status_code=204, summary="Remove a member: name and phone are erased")
def remove_member(
    rt_code: RTCode, household: Household, request: Request, services: ServicesDep, who: PrincipalDep
) -> None:
    require_rt(services, who, rt_code, Action.keep_bank_book)
    if not services.app_db.field.remove_member(rt_code, household):
        raise refusal(404, Reason.unknown_member, f"household {household!r} is not a member here")
    services.app_db.audit(who, "member_remove", rt_code, {}, client_address(request))


@router.get("/prices", response_model=PriceList, summary="The price list: what is in force on a day, and its history")
def list_prices(
    rt_code: RTCode,
    services: ServicesDep,
    who: PrincipalDep,
    day: Annotated[date | None, Query(description="WIB day (default: today)")] = None,
) -> PriceList:
    require_rt(services, who, rt_code, Action.read_private)
    history = services.app_db.field.prices(rt_code)
    on = day or wib_day(utc_now())
    return PriceList(day=on, in_force=prices_in_force(history, on), history=history)


@router.put("/prices", response_model=Price, summary="Set a material's (sub-grade's) price from a day on (operator)")
def set_price(rt_code: RTCode, body: Price, request: Request, services: ServicesDep, who: PrincipalDep) -> Price:
    require_rt(services, who, rt_code, Action.keep_bank_book)
    services.app_db.field.set_price(rt_code, body)
    services.app_db.audit(who, "price_set", rt_code, body.model_dump(mode="json"), client_address(request))
    return body


@router.post(
    "/withdrawals",
    status_code=201,
    response_model=EntryResult,
    summary="A member withdraws savings (operator); the Idempotency-Key makes a retry a no-op",
)
def withdraw(
    rt_code: RTCode,
    body: WithdrawalCreate,
    request: Request,
    services: ServicesDep,
    who: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    require_rt(services, who, rt_code, Action.keep_bank_book)
    key = checked_key(idempotency_key)
    if not services.app_db.field.is_member(rt_code, body.household):
        raise refusal(404, Reason.unknown_member, f"household {body.household!r} is not a member here")
    withdrawal = Withdrawal(key=key, household=body.household, amount_idr=body.amount_idr, ts=body.ts)
    book = savings_book(
        body.household, _deposits(services, rt_code), services.app_db.field.withdrawals(rt_code, body.household)
    )
    outcome = services.app_db.field.add_withdrawal(rt_code, withdrawal, book.balance_idr)
    if outcome == "conflict":
        raise refusal(409, Reason.sequence_conflict, f"Idempotency-Key {key!r} was already used for another entry")
    if outcome == "insufficient":
        raise refusal(
            422, Reason.insufficient_balance, f"balance Rp {book.balance_idr}, withdrawal Rp {body.amount_idr}"
        )
    services.app_db.audit(
        who, "withdrawal", rt_code, {"idempotency_key": key, "status": outcome}, client_address(request)
    )
    result = EntryResult(status="stored" if outcome == "stored" else "duplicate", idempotency_key=key)
    return JSONResponse(status_code=201 if outcome == "stored" else 200, content=result.model_dump())


@router.put(
    "/corrections/{new_key}",
    response_model=EntryResult,
    summary="Say that deposit new_key corrects an earlier one (which then leaves the books)",
)
def correct(
    rt_code: RTCode,
    new_key: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")],
    body: CorrectionCreate,
    request: Request,
    services: ServicesDep,
    who: PrincipalDep,
) -> EntryResult:
    require_rt(services, who, rt_code, Action.keep_bank_book)
    added = services.app_db.field.add_correction(rt_code, new_key, body.corrects, body.household, body.ts)
    services.app_db.audit(
        who, "deposit_correction", rt_code, {"new": new_key, "old": body.corrects}, client_address(request)
    )
    return EntryResult(status="stored" if added else "duplicate", idempotency_key=new_key)


@router.get(
    "/weighings",
    response_model=list[WeighingPublic],
    summary="The RT's scales' recent weighings that no deposit took yet, newest first (operator)",
)
def list_weighings(
    rt_code: RTCode,
    services: ServicesDep,
    who: PrincipalDep,
    hours: Annotated[int, Query(ge=1, le=168, description="how far back")] = 24,
) -> list[WeighingPublic]:
    require_rt(services, who, rt_code, Action.post_deposit)  # what the weighing is for: a deposit
    now = utc_now()
    rows = _weighings(services, rt_code, now - timedelta(hours=hours), now + WEIGHING_RECENT)
    used = services.app_db.field.used_weighings(rt_code)
    return [
        WeighingPublic(
            id=weighing_id(w.device_id, w.seq), device_id=w.device_id, ts=from_epoch_ms(w.ts_ms), kg=w.values[0]
        )
        for w in reversed(rows)
        if (w.device_id, w.seq) not in used
    ]


def _weighings(services: Services, rt_code: str, start: datetime, end: datetime) -> list[KindRow]:
    """The RT's scales' weighings in [start, end), by time; each row's ``values`` is ``(kg,)``."""
    return services.store.series_rows(DeviceKind.weighing, rt_code, to_epoch_ms(start), to_epoch_ms(end))


def take_weighing(services: Services, rt_code: str, weighing: str, reading: Reading, key: str) -> ApiError | None:
    """A deposit that names a scale's weighing (``?weighing=``) takes it, once: the weighing must be
    the RT's, near the deposit's time, of the deposit's weight, and no other deposit's."""
    body = reading.payload
    assert isinstance(body, BankSampahPayload)
    device_id, seq = parse_weighing_id(weighing)
    at = reading.ts
    window = _weighings(services, rt_code, at - WEIGHING_RECENT, at + WEIGHING_RECENT)
    found = next((w for w in window if (w.device_id, w.seq) == (device_id, seq)), None)
    if found is None:
        return refusal(422, Reason.unknown_weighing, f"no weighing {weighing!r} in RT {rt_code} within a day of {at}")
    (kg,) = found.values
    if not weighing_matches(body.items.values(), kg):
        weighed = sum(body.items.values())
        return refusal(422, Reason.weighing_mismatch, f"the deposit weighs {weighed} kg, the weighing {kg} kg")
    holder = services.app_db.field.take_weighing(rt_code, device_id, seq, key)
    if holder != key:
        return refusal(409, Reason.weighing_taken, f"weighing {weighing!r} was taken by deposit {holder!r}")
    return None


@router.get("/members/{household}/book", response_model=SavingsBook, summary="A member's savings book (buku tabungan)")
def book(rt_code: RTCode, household: Household, services: ServicesDep, who: PrincipalDep) -> SavingsBook:
    require_rt(services, who, rt_code, Action.read_private)
    return savings_book(household, _deposits(services, rt_code), services.app_db.field.withdrawals(rt_code, household))


@router.get(
    "/recap",
    response_model=MonthRecap,
    summary="The month's recap: kg per material, active members, turnover (format=json, csv or xlsx)",
    responses={200: {"content": {"text/csv": {}, "application/vnd.ms-excel": {}}}},
)
def recap(
    rt_code: RTCode,
    services: ServicesDep,
    who: PrincipalDep,
    month: Annotated[str, Query(pattern=MONTH, description="YYYY-MM (WIB)")],
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
) -> Response | MonthRecap:
    require_rt(services, who, rt_code, Action.read_private)
    first = date.fromisoformat(f"{month}-01")
    start, _ = wib_day_bounds_utc(first)
    _, end = wib_day_bounds_utc((first + timedelta(days=32)).replace(day=1) - timedelta(days=1))
    rows = services.store.rt_readings(rt_code, to_epoch_ms(start), to_epoch_ms(end)).of(DeviceKind.bank_sampah)
    result = month_recap(
        month, kept(rows, services.app_db.field.superseded(rt_code)), services.app_db.field.withdrawals(rt_code)
    )
    if format == "json":
        return result
    table = recap_table(rt_code, result)
    name = f"rekap-bank-sampah-{rt_code}-{month}"
    if format == "csv":
        text = io.StringIO()
        csv.writer(text).writerows(table)
        return Response(
            text.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    book_ = Workbook()
    sheet = book_.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = f"Rekap {month}"
    for row in table:
        sheet.append(row)
    data = io.BytesIO()
    book_.save(data)
    return Response(
        data.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


def recap_table(rt_code: str, recap_: MonthRecap) -> list[list[str | int | float]]:
    """The recap as rows, Indonesian headings and material names, for CSV and XLSX alike."""
    rows: list[list[str | int | float]] = [
        ["Rekap bank sampah", rt_code, recap_.month],
        ["Bahan", "Kg"],
    ]
    rows += [[MATERIALS[m]["id"], kg] for m, kg in recap_.kg_by_material.items()]
    rows += [
        ["Jumlah setoran", recap_.deposits],
        ["Anggota aktif", recap_.active_members],
        ["Perputaran (Rp)", recap_.turnover_idr],
        ["Penarikan (Rp)", recap_.withdrawals_idr],
    ]
    return rows
