"""The period a request asks about: ``start``/``end`` dates, or ``month=2026-10``, or
``quarter=2026-Q4``; by default the 30 days up to yesterday (WIB)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, Query

from api.errors import bad_request
from bantar.domain.timebase import wib_day
from bantar.evidence_service import utc_now

MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    start: date
    end: date


def period(
    start: Annotated[date | None, Query(description="first WIB day (YYYY-MM-DD)")] = None,
    end: Annotated[date | None, Query(description="last WIB day, inclusive")] = None,
    month: Annotated[str | None, Query(description="a whole month, YYYY-MM", max_length=7)] = None,
    quarter: Annotated[str | None, Query(description="a whole quarter, YYYY-Qn", max_length=7)] = None,
) -> Period:
    chosen = sum(x is not None for x in (month, quarter)) + (start is not None or end is not None)
    if chosen > 1:
        raise bad_request(
            "ambiguous_period",
            "give start/end, or month, or quarter, not several",
            "Pilih salah satu: start/end, month, atau quarter",
        )
    if month is not None:
        match = re.fullmatch(r"(\d{4})-(\d{2})", month)
        if not match or not 1 <= int(match[2]) <= 12:
            raise bad_request("bad_period", f"month {month!r} is not YYYY-MM", f"Bulan {month!r} bukan YYYY-MM")
        first = date(int(match[1]), int(match[2]), 1)
        return Period(first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))
    if quarter is not None:
        match = re.fullmatch(r"(\d{4})-Q([1-4])", quarter)
        if not match:
            raise bad_request(
                "bad_period", f"quarter {quarter!r} is not YYYY-Qn (n 1-4)", f"Triwulan {quarter!r} bukan YYYY-Qn"
            )
        first = date(int(match[1]), 3 * int(match[2]) - 2, 1)
        last = (first + timedelta(days=95)).replace(day=1) - timedelta(days=1)
        return Period(first, last)
    yesterday = wib_day(utc_now()) - timedelta(days=1)
    end = end or yesterday
    start = start or end - timedelta(days=29)
    if end < start:
        raise bad_request(
            "bad_period", f"end {end} is before start {start}", f"Tanggal akhir {end} sebelum tanggal awal {start}"
        )
    if (end - start).days + 1 > MAX_DAYS:
        raise bad_request(
            "bad_period",
            f"the period is {(end - start).days + 1} days; at most {MAX_DAYS}",
            f"Periode {(end - start).days + 1} hari; paling lama {MAX_DAYS} hari",
        )
    return Period(start, end)


PeriodDep = Annotated[Period, Depends(period)]
