"""The evidence service: keeps daily evidence up to date and answers questions about it.

``EvidenceUpdater`` derives the RT-days the store marked dirty (new, late or replayed readings
mark the days they touch, in the same transaction as the readings), so work is proportional to
what changed; ``rebuild`` derives everything again from scratch and must give the same result.
``EvidenceQueries`` turns stored evidence into period scores, summaries and alerts.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from bantar.domain.alert_text import kind_alert_text
from bantar.domain.evidence import NIGHT_END_H, DayEvidence, Source, derive_day, readings_window
from bantar.domain.quality import DayFlag, FlagCode
from bantar.domain.registry import RT, Device, RegistryIndex
from bantar.domain.scoring import (
    CategoryAward,
    CriterionScore,
    PeriodTotals,
    Rules,
    awarded_levels,
    category_of,
    device_counts,
    held_level,
    is_silent,
    kind_coverage,
    lapsed_criteria,
    month_starts,
    score_criteria,
    week_starts,
)
from bantar.domain.timebase import DAY_MS, from_epoch_ms, to_epoch_ms, utc_now, wib_day, wib_day_bounds_utc
from bantar.domain.topics import DeviceKind
from bantar.kinds.registry import plugins
from bantar.ports import ReadingStore

log = logging.getLogger("bantar.evidence")
T = TypeVar("T")


class VersionedCache:
    """Results valid for one version of the stored evidence; the oldest go first when full."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._items: dict[Hashable, tuple[int, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: int, compute: Callable[[], T]) -> T:
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = (version, value)
            while len(self._items) > self.entries:
                self._items.pop(next(iter(self._items)))
        return value


class WarmSummaries:
    """The latest summaries of the default period, per area, swapped in whole by the evidence
    loop after each turn. A set is served for at most ``max_age`` after it was made: the loop
    remakes it within a turn of any change, so a summary follows the evidence by one turn (as
    the evidence follows the readings) and never waits for its own recompute."""

    def __init__(self, max_age: timedelta = timedelta(seconds=90)) -> None:
        self.max_age = max_age
        self._summaries: dict[tuple[str, str | None], Summary] = {}
        self._made: tuple[int, datetime, date, date] | None = None

    def get(self, level: str, code: str | None, start: date, end: date, now: datetime) -> Summary | None:
        made, summaries = self._made, self._summaries
        if made is None or (made[2], made[3]) != (start, end) or not timedelta(0) <= now - made[1] <= self.max_age:
            return None
        return summaries.get((level, code))

    def stale(self, version: int, now: datetime, start: date, end: date) -> bool:
        made = self._made
        minute = int(now.timestamp() // 60)
        return made is None or (made[0], int(made[1].timestamp() // 60), made[2], made[3]) != (
            version,
            minute,
            start,
            end,
        )

    def replace(
        self, summaries: dict[tuple[str, str | None], Summary], version: int, now: datetime, start: date, end: date
    ) -> None:
        self._summaries, self._made = summaries, (version, now, start, end)


class EvidenceUpdater:
    def __init__(
        self, store: ReadingStore, registry: RegistryIndex, rules: Rules, now: Callable[[], datetime] | None = None
    ) -> None:
        self.store, self.registry, self.rules = store, registry, rules
        self.now = now or utc_now
        self.derived_total = 0
        """RT-days derived since start (for the metrics)"""
        self._derivation = rules.derivation()

    def derive(self, rt_code: str, day: date) -> DayEvidence:
        start_ms, end_ms = readings_window(day)
        readings = self.store.rt_readings(rt_code, start_ms, end_ms)
        rt = self.registry.rts[rt_code].rt
        now_ms = to_epoch_ms(self.now())
        devices = self.registry.devices_in(rt_code, channel=None)  # live: a new registry file counts at once
        return derive_day(rt, devices, day, readings, self._derivation, now_ms)

    def update(self, limit: int = 500, cause: str | None = None) -> int:
        """Derive up to ``limit`` dirty RT-days; return how many were derived. ``cause`` says
        why, for days whose figures change without new or late readings (``rule_change``)."""
        marks = self.store.take_dirty(limit)
        known = [m for m in marks if m.rt_code in self.registry.rts]
        evidence = [self.derive(m.rt_code, m.day) for m in known]
        self.store.save_evidence(evidence, marks, to_epoch_ms(self.now()), cause)
        self.derived_total += len(marks)
        return len(marks)

    def update_all(self, batch: int = 500, cause: str | None = None) -> int:
        total = 0
        while n := self.update(batch, cause):
            total += n
        return total

    def rebuild(self, workers: int = 1) -> int:
        """Derive every RT-day with readings again, from scratch (after a rule change: a day whose
        figures change gets a new revision saying so). A store that can be read in bulk is
        derived in bulk (``bantar.bulk``: the same figures, many times faster), on up to
        ``workers`` processes."""
        self.store.mark_all_dirty()
        if hasattr(self.store, "rows_between"):
            from bantar.bulk.rebuild import rebuild_marked  # loads pyarrow: only when rebuilding

            rts = {code: place.rt for code, place in self.registry.rts.items()}
            devices = {code: self.registry.devices_in(code, channel=None) for code in rts}
            done = rebuild_marked(
                self.store, rts, devices, self._derivation, lambda: to_epoch_ms(self.now()), workers=workers
            )
            self.derived_total += done
            return done
        return self.update_all(cause="rule_change")

    def run(self, stop: threading.Event, every_s: float = 10.0, on_update: Callable[[], object] | None = None) -> None:
        """Keep evidence current until ``stop`` is set (the API process runs this in a thread);
        after each turn, ``on_update`` can refresh cached views before anyone asks."""
        while not stop.is_set():
            try:
                derived = self.update_all()
                if derived:
                    log.info("derived evidence for %d RT-days", derived)
                if on_update is not None:
                    on_update()
            except Exception:  # keep the service alive; the marks stay and are retried
                log.exception("evidence update failed; will retry")
            stop.wait(every_s)


class PeriodScores(BaseModel):
    rt_code: str
    start: date
    end: date
    category: CategoryAward
    kk_count: int
    criteria: list[CriterionScore]
    in_progress: bool = False
    """the period includes today ("berjalan"): expected figures cover only what has passed"""
    flagged_days: dict[str, int] = {}
    """per quality flag, the days of the period that carry it (their flagged readings are not scored)"""
    sources: list[Source] = []
    """per device: the sequence range the period's figures came from, late and flagged readings"""


class LiveFigure(BaseModel):
    """A figure an assessment holds next to its live value, when they differ."""

    criterion: str
    metric: str | None = None
    """None: the criterion's suggested score"""
    held: float | None
    live: float | None
    since: datetime | None = None
    """when the evidence behind it last changed (late readings, a rebuild, ...)"""


AlertKind = Literal["reassessment", "device_silent", "data_quality", "clock_skew"]


class Alert(BaseModel):
    kind: AlertKind | str
    """one of ``AlertKind``, or a device kind's own (``KindAlert.code``, e.g. ``flood_danger``)"""
    rt_code: str
    criterion: str | None = None
    awarded: int | None = None
    recent_scores: list[int | None] = []
    device_id: str | None = None
    last_seen: datetime | None = None
    flag: FlagCode | None = None
    """data_quality: what was found"""
    day: date | None = None
    """data_quality, clock_skew: the latest day it was found on"""
    offset_s: int | None = None
    """clock_skew: device time behind (+) or ahead (-) of the receive time"""
    message_id: str
    """Bahasa Indonesia, for people"""
    message_en: str | None = None
    """English: a kind's alert (``KindPlugin.alert_texts``); the dashboard words the others"""


class LevelCounts(BaseModel):
    criterion: str
    baik: int = 0
    sedang: int = 0
    kurang: int = 0
    insufficient: int = 0


class Summary(BaseModel):
    level: Literal["city", "kecamatan", "kelurahan"]
    code: str | None
    name: str
    start: date
    end: date
    rts: int
    criteria: list[LevelCounts]
    mean_coverage: dict[str, float | None]
    open_alerts: dict[str, int]


class EvidenceQueries:
    def __init__(self, store: ReadingStore, registry: RegistryIndex, rules: Rules, now: Callable[[], datetime]) -> None:
        self.store, self.registry, self.rules, self.now = store, registry, rules, now
        self._cache = VersionedCache(entries=64)
        self._warm = WarmSummaries()

    def _complete(self, totals: PeriodTotals | None, devices: Sequence[Device], start: date, end: date) -> PeriodTotals:
        """Add what was expected over the period, from the registry: a device that sent
        nothing at all still counts as expected (coverage 0), never as absent."""
        t = totals or PeriodTotals()
        now = self.now()
        last = min(end, wib_day(now))
        days = max(0, (last - start).days + 1)
        t.days = days
        period_end = min(wib_day_bounds_utc(end)[1], now)
        seconds = max(0, int((period_end - wib_day_bounds_utc(start)[0]).total_seconds()))
        t.nights = sum(1 for i in range(days) if _night_over(start + timedelta(days=i), now))
        by_kind: dict[DeviceKind, list[Device]] = {}
        for d in devices:
            if d.active:
                by_kind.setdefault(d.kind, []).append(d)
        for p in plugins().values():
            if p.expected is not None:
                for name, value in p.expected(by_kind.get(p.kind, []), seconds, days).items():
                    setattr(t, name, value)
        return t

    def scores(self, rt_code: str, start: date, end: date, totals: PeriodTotals | None = None) -> PeriodScores:
        """An RT's suggested scores over [start, end]; days after today are not part of it yet.
        Asked for one RT (no ``totals``), it also names the devices and readings behind them."""
        rt = self.registry.rts[rt_code].rt
        devices = self.registry.devices_in(rt_code)  # live: an admin's switch counts at once
        today = wib_day(self.now())
        days: list[DayEvidence] = []
        if totals is None:
            totals = self.store.period_totals(start, min(end, today), [rt_code]).get(rt_code)
            days = self.store.day_evidence([rt_code], start, min(end, today))
        complete = self._complete(totals, devices, start, end)
        return PeriodScores(
            rt_code=rt_code,
            start=start,
            end=end,
            category=category_of(rt),
            kk_count=rt.kk_count,
            criteria=score_criteria(complete, rt, device_counts(devices), self.rules),
            in_progress=start <= today <= end,
            flagged_days=dict(Counter(code for e in days for code in {f.code.value for f in e.flags})),
            sources=merged_sources(days),
        )

    def live_differences(
        self, rt_code: str, start: date, end: date, held: dict[str, Any], after: datetime
    ) -> list[LiveFigure]:
        """Figures of ``held`` (a ``PeriodScores`` as an assessment keeps it) whose live value
        differs now; ``since``: the latest change to the period's daily evidence after ``after``."""
        live = self.scores(rt_code, start, end)
        changes = [
            e.changed_at_ms
            for e in self.store.day_evidence([rt_code], start, end)
            if e.changed_at_ms and e.changed_at_ms > to_epoch_ms(after)
        ]
        since = from_epoch_ms(max(changes)) if changes else None
        kept = {c["criterion"]: c for c in held.get("criteria", [])}
        found = []
        for criterion in live.criteria:
            old = kept.get(criterion.criterion, {})
            if old.get("score") != criterion.score:
                found.append(
                    LiveFigure(criterion=criterion.criterion, held=old.get("score"), live=criterion.score, since=since)
                )
            values = {i["metric"]: i.get("value") for i in old.get("indicators", [])}
            for indicator in criterion.indicators:
                if values.get(indicator.metric) != indicator.value:
                    found.append(
                        LiveFigure(
                            criterion=criterion.criterion,
                            metric=indicator.metric,
                            held=values.get(indicator.metric),
                            live=indicator.value,
                            since=since,
                        )
                    )
        return found

    def evidence(self, rt_code: str, start: date, end: date) -> list[DayEvidence]:
        """Stored daily evidence; today's marked as in progress ("berjalan"), whenever it was derived."""
        today = wib_day(self.now())
        return [
            e if e.in_progress == (e.day >= today) else e.model_copy(update={"in_progress": e.day >= today})
            for e in self.store.day_evidence([rt_code], start, end)
        ]

    def bulk_scores(self, rt_codes: Sequence[str], start: date, end: date) -> dict[str, PeriodScores]:
        """Scores of many RTs at once: one read of the period's totals, cached until the stored
        evidence changes (city-wide views ask for the same periods again and again)."""
        key = ("bulk", tuple(rt_codes), start, end, wib_day(self.now()))

        def compute() -> dict[str, PeriodScores]:
            totals = self.store.period_totals(start, end, None if len(rt_codes) > 500 else rt_codes)
            return {code: self.scores(code, start, end, totals.get(code)) for code in rt_codes}

        return self._cache.get(key, self.version(), compute)

    def summary(
        self, level: Literal["city", "kecamatan", "kelurahan"], code: str | None, start: date, end: date
    ) -> Summary:
        """Every area's summary of the default period is kept warm (``warm``); other periods are
        cached per evidence version and minute (silent-device alerts age with the clock)."""
        ready = self._warm.get(level, code, start, end, self.now())
        if ready is not None:
            return ready
        minute = int(self.now().timestamp() // 60)
        key = ("summary", level, code, start, end, minute)
        return self._cache.get(key, self.version(), lambda: self._summary(level, code, start, end))

    def version(self) -> int:
        """Grows whenever stored evidence or a device switch changes (both counters only grow)."""
        return self.store.evidence_version() + self.registry.revision

    def default_period(self) -> tuple[date, date]:
        """The 30 days up to yesterday (WIB): what dashboards show first."""
        yesterday = wib_day(self.now()) - timedelta(days=1)
        return yesterday - timedelta(days=29), yesterday

    def warm(self) -> None:
        """Summaries of the default period for the city, every kecamatan and every kelurahan,
        recomputed when the evidence changed or the minute turned (the evidence loop calls this
        each turn): one read of the period's totals and one pass over the alerts for all of them.
        Requests meanwhile get the previous set, so none waits for the recompute (``WarmSummaries``)."""
        start, end = self.default_period()
        version, now = self.version(), self.now()
        if not self._warm.stale(version, now, start, end):
            return
        codes = self.registry.rts_in("city", None)
        scores = self.bulk_scores(codes, start, end)
        alerts: dict[str, Counter[str]] = {}
        for alert in self.alerts(codes):
            alerts.setdefault(alert.rt_code, Counter())[alert.kind] += 1
        areas: list[tuple[Literal["city", "kecamatan", "kelurahan"], str | None]] = [("city", None)]
        areas += [("kecamatan", c) for c in sorted({p.kecamatan_code for p in self.registry.rts.values()})]
        areas += [("kelurahan", c) for c in sorted({p.kelurahan_code for p in self.registry.rts.values()})]
        fresh: dict[tuple[str, str | None], Summary] = {}
        for level, code in areas:
            area = self.registry.rts_in(level, code)
            counted = sum((alerts.get(c, Counter()) for c in area), Counter[str]())
            fresh[(level, code)] = self._summarise(level, code, start, end, area, scores, counted)
        self._warm.replace(fresh, version, now, start, end)

    def _summary(
        self, level: Literal["city", "kecamatan", "kelurahan"], code: str | None, start: date, end: date
    ) -> Summary:
        codes = self.registry.rts_in(level, code)
        alerts = Counter[str](a.kind for a in self.alerts(codes))
        return self._summarise(level, code, start, end, codes, self.bulk_scores(codes, start, end), alerts)

    def _summarise(
        self,
        level: Literal["city", "kecamatan", "kelurahan"],
        code: str | None,
        start: date,
        end: date,
        codes: Sequence[str],
        scores: dict[str, PeriodScores],
        alerts: Counter[str],
    ) -> Summary:
        counts: dict[str, LevelCounts] = {name: LevelCounts(criterion=name) for name in self.rules.criteria}
        coverage: dict[str, list[float]] = {kind: [] for kind in kind_coverage([])}
        for result in (scores[c] for c in codes):
            for criterion in result.criteria:
                slot = counts[criterion.criterion]
                word = {2: "baik", 1: "sedang", 0: "kurang", None: "insufficient"}[criterion.score]
                setattr(slot, word, getattr(slot, word) + 1)
            for kind, share in kind_coverage(result.criteria).items():
                if share is not None:
                    coverage[kind].append(share)
        name = "Kota Jambi"
        if level != "city":
            place = self.registry.rts[codes[0]] if codes else None
            name = "" if place is None else (place.kecamatan_name if level == "kecamatan" else place.kelurahan_name)
        return Summary(
            level=level,
            code=code,
            name=name,
            start=start,
            end=end,
            rts=len(codes),
            criteria=list(counts.values()),
            mean_coverage={k: round(sum(v) / len(v), 4) if v else None for k, v in coverage.items()},
            open_alerts=dict(alerts),
        )

    def alerts(self, rt_codes: Sequence[str] | None = None) -> list[Alert]:
        codes = list(rt_codes) if rt_codes is not None else list(self.registry.rts)
        return [
            *self._reassessments(codes),
            *self._silent_devices(codes),
            *self._data_quality(codes),
            *self._clocks_ahead(codes),
            *self._kind_alerts(codes),
        ]

    def _kind_alerts(self, codes: Sequence[str]) -> list[Alert]:
        """What plug-in kinds raise from their daily figures (``KindPlugin.alerts``) over the last
        ``QUALITY_ALERT_DAYS`` days: the latest day per RT, device and alert."""
        raising = {kind.value: p.alerts for kind, p in plugins().items() if p.alerts is not None}
        if not raising:
            return []
        today = wib_day(self.now())
        latest: dict[tuple[str, str | None, str], Alert] = {}
        for e in self.store.day_evidence(list(codes), today - timedelta(days=QUALITY_ALERT_DAYS - 1), today):
            for kind, figures in e.kinds.items():
                if (alerts := raising.get(kind)) is None:
                    continue
                for a in alerts(e.rt_code, e.day, figures, self.registry.devices_in(e.rt_code)):
                    latest[(e.rt_code, a.device_id, a.code)] = Alert(
                        kind=a.code,
                        rt_code=e.rt_code,
                        device_id=a.device_id,
                        day=a.day,
                        message_id=kind_alert_text(a.code, a.params, "id"),
                        message_en=kind_alert_text(a.code, a.params, "en"),
                    )
        return [latest[key] for key in sorted(latest, key=str)]

    def _data_quality(self, codes: Sequence[str]) -> list[Alert]:
        """One alert per device and flag found in the last ``QUALITY_ALERT_DAYS`` days: the
        latest day, and for a skewed clock its offset."""
        today = wib_day(self.now())
        latest: dict[tuple[str, str, FlagCode], tuple[date, DayFlag]] = {}
        for e in self.store.day_evidence(list(codes), today - timedelta(days=QUALITY_ALERT_DAYS - 1), today):
            for f in e.flags:
                latest[(e.rt_code, f.device_id, f.code)] = (e.day, f)
        return [quality_alert(code, day, flag) for (code, _, _), (day, flag) in sorted(latest.items())]

    def _clocks_ahead(self, codes: Sequence[str]) -> list[Alert]:
        """Devices whose readings the intake refused for a clock running ahead (they never reach
        the evidence, so only the dead letters tell)."""
        wanted = set(codes)
        since = to_epoch_ms(self.now()) - QUALITY_ALERT_DAYS * DAY_MS
        alerts: dict[str, Alert] = {}
        for device_id, received_ms, device_ms in self.store.clock_refusals(since):
            device = self.registry.devices.get(device_id)
            if device is None or device.rt not in wanted:
                continue
            offset = round((received_ms - device_ms) / 1000)
            alerts[device_id] = Alert(
                kind="clock_skew",
                rt_code=device.rt,
                device_id=device_id,
                offset_s=offset,
                day=wib_day(from_epoch_ms(received_ms)),
                message_id=f"Jam perangkat {device_id} {_offset_words(offset)}: bacaannya ditolak",
            )
        return list(alerts.values())

    def weekly_scores(self, rt_codes: Sequence[str], weeks: int) -> dict[str, list[list[CriterionScore]]]:
        today = wib_day(self.now())
        series: dict[str, list[list[CriterionScore]]] = {c: [] for c in rt_codes}
        for monday in week_starts(today, weeks):
            sunday = monday + timedelta(days=6)
            week = self.bulk_scores(rt_codes, monday, sunday)
            for code in rt_codes:
                series[code].append(week[code].criteria)
        return series

    def _reassessments(self, codes: Sequence[str]) -> list[Alert]:
        awarded = {c: levels for c in codes if (levels := self._sensor_levels(self.registry.rts[c].rt))}
        if not awarded:
            return []
        weekly = self.weekly_scores(list(awarded), self.rules.lapse_weeks)
        alerts = []
        for code, levels in awarded.items():
            for finding in lapsed_criteria(weekly[code], levels, self.rules.lapse_weeks):
                alerts.append(
                    Alert(
                        kind="reassessment",
                        rt_code=code,
                        criterion=finding.criterion,
                        awarded=finding.awarded,
                        recent_scores=finding.recent,
                        message_id=(
                            f"Kriteria {finding.criterion} di bawah tingkat penghargaan ({finding.awarded}) "
                            f"selama {self.rules.lapse_weeks} minggu: perlu penilaian ulang"
                        ),
                    )
                )
        return alerts

    def _sensor_levels(self, rt: RT) -> dict[str, int]:
        return {k: v for k, v in awarded_levels(rt).items() if k in self.rules.criteria}

    def kencana_candidates(self) -> list[str]:
        awarded = {c: lv for c, place in self.registry.rts.items() if (lv := self._sensor_levels(place.rt))}
        today = wib_day(self.now())
        monthly: dict[str, list[list[CriterionScore]]] = {c: [] for c in awarded}
        for first in month_starts(today, self.rules.kencana_months):
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            month = self.bulk_scores(list(awarded), first, last)
            for code in awarded:
                monthly[code].append(month[code].criteria)
        return [c for c, levels in awarded.items() if held_level(monthly[c], levels, self.rules.kencana_months)]

    def _silent_devices(self, codes: Sequence[str]) -> list[Alert]:
        last_seen = self.store.last_seen()
        online = self.store.online_by_availability()  # up by their availability (issue #15)
        now = self.now()
        alerts = []
        for code in codes:
            for device in self.registry.devices_in(code):
                if (
                    device.active
                    and device.id not in online
                    and is_silent(last_seen.get(device.id), device.interval_s, now, self.rules.device_silent_after)
                ):
                    seen = last_seen.get(device.id)
                    alerts.append(
                        Alert(
                            kind="device_silent",
                            rt_code=code,
                            device_id=device.id,
                            last_seen=None if seen is None else from_epoch_ms(seen),
                            message_id=f"Perangkat {device.id} tidak melapor"
                            + ("" if seen is None else f" sejak {from_epoch_ms(seen).isoformat()}"),
                        )
                    )
        return alerts


QUALITY_ALERT_DAYS = 3
"""Data-quality and clock alerts look back this many WIB days (today included)."""

_FLAG_WORDS = {
    FlagCode.stuck: "membaca nilai yang sama terus-menerus (macet)",
    FlagCode.sentinel: "mengirim nilai di luar jangkauan sensor",
    FlagCode.beyond_depth: "mengukur jarak melebihi kedalaman tong",
    FlagCode.not_recording: "menyala tetapi tidak merekam",
    FlagCode.deposit_burst: "mencatat banyak setoran kecil dalam beberapa menit",
    FlagCode.short_shift: "mencatat jaga malam yang terlalu singkat atau kurang penjaga",
}


def _offset_words(offset_s: int) -> str:
    hours = abs(offset_s) / 3600
    amount = f"{hours:.1f} jam" if hours >= 1 else f"{abs(offset_s) // 60} menit"
    return f"tertinggal {amount}" if offset_s > 0 else f"terlalu cepat {amount}"


def quality_alert(rt_code: str, day: date, flag: DayFlag) -> Alert:
    if flag.code is FlagCode.clock_skew:
        offset = flag.offset_s or 0
        return Alert(
            kind="clock_skew",
            rt_code=rt_code,
            device_id=flag.device_id,
            offset_s=offset,
            day=day,
            message_id=f"Jam perangkat {flag.device_id} {_offset_words(offset)}: bacaannya tidak dihitung",
        )
    return Alert(
        kind="data_quality",
        rt_code=rt_code,
        device_id=flag.device_id,
        flag=flag.code,
        day=day,
        message_id=f"Perangkat {flag.device_id} {_FLAG_WORDS[flag.code]} pada {day.isoformat()}: "
        f"{flag.readings} bacaan tidak dihitung",
    )


def merged_sources(days: Sequence[DayEvidence]) -> list[Source]:
    """Per device over several days: first and last sequence, readings, late and flagged ones."""
    merged: dict[str, Source] = {}
    for e in days:
        for s in e.sources:
            m = merged.get(s.device_id)
            merged[s.device_id] = (
                s
                if m is None
                else m.model_copy(
                    update={
                        "seq_first": min(m.seq_first, s.seq_first),
                        "seq_last": max(m.seq_last, s.seq_last),
                        "readings": m.readings + s.readings,
                        "late": m.late + s.late,
                        "flagged": m.flagged + s.flagged,
                    }
                )
            )
    return [merged[k] for k in sorted(merged)]


def _night_over(day: date, now: datetime) -> bool:
    """The night of ``day`` (until 06:00 the next morning, WIB) has ended."""
    return wib_day_bounds_utc(day)[1] + timedelta(hours=NIGHT_END_H - 24) <= now
