"""The period a request asks about: ``start``/``end`` dates, or ``month=2026-10``, or
``quarter=2026-Q4``; by default the 30 days up to yesterday (WIB)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, Query

from api.errors import bad_request
from bantar.domain.timebase import utc_now, wib_day

MAX_DAYS = 366


MONTH = r"^(20\d{2})-(0[1-9]|1[0-2])$"
QUARTER = r"^(20\d{2})-Q([1-4])$"
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
"""the days the service answers for (the programme began in 2014)"""


@dataclass(frozen=True)
class Period:
    start: date
    end: date


def period(
    start: Annotated[date | None, Query(description="first WIB day (YYYY-MM-DD)")] = None,
    end: Annotated[date | None, Query(description="last WIB day, inclusive")] = None,
    month: Annotated[str | None, Query(description="a whole month, YYYY-MM", pattern=MONTH)] = None,
    quarter: Annotated[str | None, Query(description="a whole quarter, YYYY-Qn", pattern=QUARTER)] = None,
) -> Period:
    chosen = sum(x is not None for x in (month, quarter)) + (start is not None or end is not None)
    if chosen > 1:
        raise bad_request(
            "ambiguous_period",
            "give start/end, or month, or quarter, not several",
            "Pilih salah satu: start/end, month, atau quarter",
        )
    if month is not None:  # the pattern was checked by FastAPI
        year, number = (int(part) for part in re.fullmatch(MONTH, month).groups())  # type: ignore[union-attr]  # Query(pattern=) matched
        first = date(year, number, 1)
        return Period(first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))
    if quarter is not None:
        year, number = (int(part) for part in re.fullmatch(QUARTER, quarter).groups())  # type: ignore[union-attr]  # Query(pattern=) matched
        first = date(year, 3 * number - 2, 1)
        return Period(first, (first + timedelta(days=95)).replace(day=1) - timedelta(days=1))
    for day in (start, end):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise bad_request(
                "bad_period",
                f"{day} is outside {FIRST_DAY}..{LAST_DAY}",
                f"{day} di luar rentang {FIRST_DAY}..{LAST_DAY}",
            )
    end = end or wib_day(utc_now()) - timedelta(days=1)
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
