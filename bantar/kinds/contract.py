"""The one contract every device kind fulfils: what the intake, the stores, the evidence engine,
the scoring rules, the alerts, the simulator and the dashboard need to know about a kind.

A kind is a ``KindPlugin`` (a frozen dataclass of data and functions, no base class), listed in
``bantar.kinds.registry``. The parts nobody else may name:

- ``parse``: the payload model (and its bounds) from the bytes of a message;
- ``series``: how its readings are stored, as a SQLite table and as an InfluxDB measurement of
  the same name (columns, fields, one row per reading), and how they are read back for evidence;
- ``evidence``, ``totals``, ``metrics``: a kind's own daily figures (``DayEvidence.kinds``, or
  named ``DayEvidence`` fields), their sums over a period (``PeriodTotals.kinds``) and the
  metrics it offers the rules; ``expected``: a period's expected figures from its devices;
  ``bulk``: its kernel for rebuilding many days at once;
- ``alerts``: what its daily figures raise (e.g. a flood sensor crossing its danger level);
- ``rules``, ``calibration``: its section of ``config/rules.yaml`` and its per-device registry
  settings;
- ``chart``, ``simulator``, ``example``: the dashboard's chart, the simulator's model and a docs
  example payload.

Every kind's daily figures come from its own ``evidence``. The programme's first kinds (bins,
CCTV, poskamling, bank sampah, gotong royong) give named ``DayEvidence`` fields (``named``: the
v1 API and the ledger's columns; their metrics read the named ``PeriodTotals`` sums, their
charts the named fields, their ``expected`` fills a period's named expected figures); kinds
added since carry theirs in ``DayEvidence.kinds`` and need nothing outside their own package.
A kind with many readings may name a bulk-rebuild kernel (``bulk``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict

from bantar.domain.errors import Text
from bantar.domain.quality import DayFlag, late_count
from bantar.domain.readings import Payload, Reading
from bantar.domain.registry import Device
from bantar.kinds.registry import DeviceKind

if TYPE_CHECKING:  # the evidence engine imports this contract
    from bantar.domain.evidence import DerivationRules

Figures = dict[str, Any]
"""a kind's own daily figures, or their sums over a period (JSON values)"""


class KindRow(NamedTuple):
    """A stored reading of a plug-in kind as its evidence sees it: ``values`` in the order of
    ``Series.read``."""

    device_id: str
    ts_ms: int
    seq: int
    received_ms: int
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Series:
    """A kind's readings at rest: SQLite table and InfluxDB measurement ``name``.

    Every table starts with the key columns (device, seq, RT, device time, receive time,
    ``rows.common``), then ``columns`` (SQL; ``values`` are their names, in order), the payload
    digest and the ``added_columns``. ``row`` gives a reading's whole row in that order,
    ``fields`` its InfluxDB fields (None is left out). ``read`` names the columns (InfluxDB:
    fields) the evidence reads back after the device id and time; ``row_of`` builds the
    evidence's row from ``(device_id, ts_ms, *read)`` alike from both stores."""

    name: str
    columns: str
    values: tuple[str, ...]
    row: Callable[[Reading], tuple[Any, ...]]
    fields: Callable[[Reading], dict[str, Any]]
    present_field: str
    """a field every point has: what InfluxQL counts to find the points"""
    read: tuple[str, ...]
    row_of: Callable[..., Any]
    added_columns: tuple[tuple[str, str], ...] = ()
    """(name, SQL type) of columns added after the first schema: kept after the digest, so older
    files gain them by ALTER TABLE"""
    state: bool = False
    """a state, not an event: each device's last reading before a window counts in it too (one
    ``read`` column: InfluxQL's ``LAST`` picks each column on its own)"""


class DayWindow(NamedTuple):
    """The WIB day being derived, in epoch ms."""

    start: int
    end: int
    until: int
    """the end of what has passed of the day (``end`` for a finished day)"""
    skewed: frozenset[str]
    """devices whose clock is off this day: their readings count for nothing"""
    late_ms: int
    now: int


class KindDay(NamedTuple):
    """What a plug-in's ``evidence`` gets: its RT's active MQTT devices of the kind, their rows
    (the look-back before the day included), the day, its rules (``Rules.kinds``), the rules of
    every day's derivation, and the rows of the kinds it reads too (``KindPlugin.reads``)."""

    devices: Sequence[Device]
    rows: Sequence[Any]
    """``KindRow`` for a kind added as a plug-in; the programme's first kinds have their own"""
    window: DayWindow
    rules: BaseModel | None
    derivation: DerivationRules
    others: Mapping[DeviceKind, Sequence[Any]]


class Source(BaseModel):
    """Where a day's figures came from: one device, its sequence range, and how many of its
    readings arrived late (``late_after_s`` after their device time) or were flagged."""

    model_config = ConfigDict(frozen=True)

    device_id: str
    kind: DeviceKind
    seq_first: int
    seq_last: int
    readings: int
    late: int = 0
    flagged: int = 0


class _Timed(Protocol):
    @property
    def ts_ms(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def received_ms(self) -> int: ...


def source_of(kind: DeviceKind, device_id: str, rows: Sequence[_Timed], late_ms: int, flagged: int) -> Source:
    return Source(
        device_id=device_id,
        kind=kind,
        seq_first=min(r.seq for r in rows),
        seq_last=max(r.seq for r in rows),
        readings=len(rows),
        late=late_count([(r.ts_ms, r.received_ms) for r in rows], late_ms),
        flagged=flagged,
    )


class KindEvidence(NamedTuple):
    figures: Figures
    sources: Sequence[Source] = ()
    """one per device that reported on the day (``source_of``)"""
    flags: Sequence[DayFlag] = ()


class AlertWords(NamedTuple):
    """How a kind's alert reads, in Bahasa Indonesia and English."""

    label: Text
    """what kind of alert it is (a notification's title: "Tingkat bahaya banjir")"""
    message: Text
    """this alert (``{name}``: its ``params``)"""


class KindAlert(NamedTuple):
    """An alert a kind raises from a day's figures: ``code`` names it (``flood_danger``), its
    plug-in's ``alert_texts[code]`` words it in Bahasa Indonesia and English with ``params``."""

    code: str
    device_id: str | None
    day: date
    params: Mapping[str, object]
    """what fills the text's ``{name}`` placeholders"""


class KindCoverage(NamedTuple):
    """Which of a kind's metrics measures its evidence coverage (the share of what its devices
    should have sent that arrived): the summaries' and the evidence recap's coverage per kind."""

    metric: str
    """a name in ``KindPlugin.metrics``"""
    of_id: str
    """what it is a share of, in Bahasa Indonesia (the recap's column: "bagian <of_id> yang
    diharapkan yang diterima")"""


class KindNames(NamedTuple):
    """What people call a device of the kind (the dashboard's device lists)."""

    id: str
    """Bahasa Indonesia"""
    en: str


@dataclass(frozen=True, slots=True)
class Plot:
    """A line or bar of a chart that needs more than a figure and its labels."""

    figure: str
    """the figure; ``name.key``: an entry of a figure that is a mapping (``deposit_kg.plastic``);
    empty for a ``constant``"""
    label_id: str
    label_en: str
    type: Literal["line", "bar"] | None = None
    """a line in a bar chart, or a bar in a line chart"""
    axis: Literal["y", "y2"] = "y"
    """``y2``: a second scale on the right, from zero"""
    per: str | None = None
    """drawn as a percentage of this figure (no value on a day it is 0)"""
    constant: float | None = None
    """a fixed reference line (dashed, without points) instead of a figure"""
    color: str | None = None
    """CSS colour; None: the dashboard's palette, by position"""
    stack: str | None = None
    """bars of one stack stand on each other"""
    rule: str | None = None
    """a reference line (like ``constant``) at this rule's value, a ``Rules`` field of
    ``config/rules.yaml`` (``overflow_pct``), as the running service loaded it; ``{rule}`` in the
    labels is that value"""


@dataclass(frozen=True, slots=True)
class Chart:
    """The dashboard's chart of a kind, drawn generically from the daily evidence: each line or
    bar is a figure of ``DayEvidence.kinds[kind]`` (or, ``named``, a ``DayEvidence`` field)."""

    title_id: str
    title_en: str
    type: str
    """``line`` or ``bar`` (Chart.js)"""
    series: tuple[tuple[str, str, str] | Plot, ...]
    """(figure, label id, label en), or a ``Plot``"""
    named: bool = False
    """its figures are named ``DayEvidence`` fields (the programme's first kinds): drawn for every
    RT; otherwise ``DayEvidence.kinds[kind]``, drawn for an RT that has figures of the kind"""
    canvas: str | None = None
    """the dashboard's element id; None: ``c-kind-<kind>``"""
    y_min: float | None = None
    y_max: float | None = None
    stacked: bool = False
    """bars stand on each other (by ``Plot.stack``)"""


Metric = Callable[[Any, Any, dict[DeviceKind, int]], tuple[float, float | None] | None]
"""(PeriodTotals, RT, active devices per kind) -> (value, coverage), or None: nothing to measure"""


@dataclass(frozen=True, slots=True)
class Archived:
    """What a kind keeps of its readings in the archive, besides the key (device, RT, sequence
    number, device time)."""

    columns: tuple[str, ...]
    """the hot table's columns kept (each in ``bantar.archive.parts.TYPES``)"""
    intervals: bool = False
    """availability-type readings: runs of one state (``columns``) become state intervals
    (``bantar.domain.availability``); other columns of the kind stay in the hot window only"""


@dataclass(frozen=True, slots=True)
class KindPlugin:
    kind: DeviceKind
    names: KindNames
    parse: Callable[[bytes], Payload]
    series: Series
    named: bool = False
    """the figures its ``evidence`` gives are named ``DayEvidence`` fields (the programme's first
    kinds: the v1 API's fields and the ledger's columns); otherwise ``DayEvidence.kinds[kind]``"""
    reads: tuple[DeviceKind, ...] = ()
    """other kinds whose rows its ``evidence`` reads too (``KindDay.others``: cameras read
    availability)"""
    clock: bool = True
    """its readings carry a device's clock, judged for skew (``quality.skewed_offset_s``); False
    for what people post with the time of the event (gotong royong)"""
    expected: Callable[[Sequence[Device], int, int], Figures] | None = None
    """a period's expected figures (named ``PeriodTotals`` fields) from the RT's active devices of
    the kind, the seconds that have passed of the period and its days"""
    bulk: str | None = None
    """``module:attribute`` of its bulk-rebuild kernel (``bantar.bulk.columns.Kernel``), loaded by
    the bulk rebuild only (numpy); None: the bulk rebuild derives it the per-day way"""
    evidence: Callable[[KindDay], KindEvidence] | None = None
    totals: Callable[[Sequence[Figures]], Figures] | None = None
    """a period's figures from its days' (``DayEvidence.kinds[kind]``)"""
    metrics: Mapping[str, Metric] = field(default_factory=dict)
    alerts: Callable[[str, date, Figures, Sequence[Device]], list[KindAlert]] | None = None
    rules: type[BaseModel] | None = None
    calibration: frozenset[str] = frozenset()
    """the registry settings a device of this kind may carry (``Device.calibration``)"""
    calibrate: Callable[[Payload, Device], float] | None = None
    """the figure stored with each reading from the device's registration (``Reading.calibrated``);
    raises ``Rejected`` when the registration lacks what it needs (the intake and the sources call it)"""
    chart: Chart | None = None
    simulator: str | None = None
    """``module:function`` of the simulator's model (loaded by the simulator only)"""
    example: Mapping[str, Any] = field(default_factory=dict)
    """a valid payload, for the docs and the tests"""
    coverage: KindCoverage | None = None
    """the metric of its evidence coverage; None: the kind has no coverage of its own"""
    archive: Archived | None = None
    """how its readings are kept once they leave the hot store for the Parquet archive after
    ``archive.hot_days`` (``bantar.archive``; its archived rows come back through
    ``series.row_of``); None: they stay in the hot store"""
    alert_texts: Mapping[str, AlertWords] = field(default_factory=dict)
    """its alerts' labels and texts by ``KindAlert.code``, in Bahasa Indonesia and English;
    gathered in ``bantar.domain.alert_text.kind_alert_words``"""
