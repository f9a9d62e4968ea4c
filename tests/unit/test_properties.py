"""Property-based tests of the intake and the evidence functions (hypothesis)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bantar.domain.errors import Reason, Rejected
from bantar.domain.evidence import RTReadings, days_touched, derive_day, readings_window
from bantar.domain.intake import IntakeLimits, accept
from bantar.domain.readings import Reading
from bantar.domain.registry import RegistryIndex
from bantar.domain.scoring import Rules
from bantar.domain.timebase import WIB, wib_day
from bantar.domain.topics import DeviceKind
from bantar.kinds.bin import BinRow

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def outcome(registry: RegistryIndex, topic: str, payload: bytes) -> Reading | Rejected:
    try:
        return accept(topic, payload, NOW, registry, IntakeLimits())
    except Rejected as rejection:
        return rejection


@settings(max_examples=300, deadline=None)
@given(topic=st.text(max_size=80), payload=st.binary(max_size=300))
def test_any_bytes_on_any_topic_are_accepted_or_rejected_never_crash(
    registry_index: RegistryIndex, topic: str, payload: bytes
) -> None:
    result = outcome(registry_index, topic, payload)
    assert isinstance(result, Reading) or result.detail


@settings(max_examples=300, deadline=None)
@given(
    body=st.dictionaries(
        st.sampled_from(["ts", "seq", "fill_pct", "battery_pct", "distance_cm", "rt"]), json_values, max_size=6
    )
)
def test_json_bin_payloads_either_validate_fully_or_name_a_reason(registry_index: RegistryIndex, body: dict) -> None:  # type: ignore[type-arg]
    bin_device = next(d for d in registry_index.registry.devices if d.kind is DeviceKind.bin)
    reading = outcome(registry_index, f"bantar/v1/{bin_device.id}/bin", json.dumps(body).encode())
    if isinstance(reading, Rejected):
        assert reading.reason in Reason
        assert reading.detail
        return
    assert reading.calibrated is not None
    assert 0 <= reading.calibrated <= 100
    assert reading.rt_code == bin_device.rt


RULES = Rules.model_validate(
    {
        "overflow_pct": 90,
        "coverage_min": 0.6,
        "lapse_weeks": 3,
        "kencana_months": 12,
        "device_silent_after": 3,
        "criteria": {},
    }
).derivation()


@settings(max_examples=200, deadline=None)
@given(
    fills=st.lists(st.floats(min_value=0, max_value=100), min_size=0, max_size=300),
    gaps=st.lists(st.integers(min_value=60, max_value=3600), min_size=300, max_size=300),
)
def test_bin_evidence_invariants(registry_index: RegistryIndex, fills: list[float], gaps: list[int]) -> None:
    rt = next(iter(registry_index.rts.values())).rt
    devices = [d for d in registry_index.devices_in(rt.code) if d.kind is DeviceKind.bin]
    day = date(2026, 11, 1)
    start_ms, _ = readings_window(day)
    t = start_ms
    rows = []
    for fill, gap in zip(fills, gaps, strict=False):
        t += gap * 1000
        rows.append(BinRow(devices[0].id, t, fill))
    evidence = derive_day(rt, devices, day, RTReadings({DeviceKind.bin: rows}), RULES, now_ms=2**62)
    assert evidence.bin_overflow_hours <= evidence.bin_hours_observed + 1e-9
    assert evidence.bin_hours_observed <= 24 * len(devices) + 1e-9
    assert evidence.bin_coverage is None or 0 <= evidence.bin_coverage <= 1
    if evidence.bin_peak_fill is not None:
        assert evidence.bin_mean_fill is not None
        assert evidence.bin_mean_fill <= evidence.bin_peak_fill + 1e-9
    assert evidence.bin_collections <= max(0, evidence.bin_readings)


@given(ms=st.integers(min_value=1_400_000_000_000, max_value=2_100_000_000_000))
def test_a_reading_always_touches_its_own_wib_day(ms: int) -> None:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    touched = days_touched(ms)
    assert wib_day(moment) in touched
    assert all(abs((d - wib_day(moment)).days) <= 1 for d in touched)
    assert moment.astimezone(WIB).date() == touched[0]
