"""The InfluxDB store's direct formatting of bin readings and CCTV heartbeats is exactly what
``influxdb-client``'s ``Point`` writes for them (and ``Point`` escapes what the rest carry)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bantar.domain.intake import IntakeLimits, accept
from bantar.domain.readings import MAX_SEQ
from bantar.domain.registry import RegistryIndex
from bantar.domain.topics import DeviceKind
from bantar.stores.influxdb import line, point_line
from tests.support import payload

NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
percent = st.floats(min_value=0, max_value=100, allow_nan=False)


@given(
    seq=st.integers(min_value=0, max_value=MAX_SEQ),
    fill=percent,
    battery=percent,
    age_s=st.integers(min_value=0, max_value=86_400 * 300),
    pick=st.integers(min_value=0),
)
def test_bin_lines_equal_points(
    registry_index: RegistryIndex, seq: int, fill: float, battery: float, age_s: int, pick: int
) -> None:
    bins = [d for d in registry_index.devices.values() if d.kind is DeviceKind.bin]
    device = bins[pick % len(bins)]
    ts = (NOW - timedelta(seconds=age_s)).isoformat()
    reading = accept(
        f"bantar/v1/{device.id}/bin",
        payload(ts=ts, seq=seq, fill_pct=fill, battery_pct=battery),
        NOW,
        registry_index,
        IntakeLimits(),
    )
    assert line(reading) == point_line(reading)


@given(
    seq=st.integers(min_value=0, max_value=MAX_SEQ),
    online=st.booleans(),
    recording=st.booleans(),
    free=percent,
    pick=st.integers(min_value=0),
)
def test_cctv_lines_equal_points(
    registry_index: RegistryIndex, seq: int, online: bool, recording: bool, free: float, pick: int
) -> None:
    cameras = [d for d in registry_index.devices.values() if d.kind is DeviceKind.cctv]
    device = cameras[pick % len(cameras)]
    reading = accept(
        f"bantar/v1/{device.id}/cctv",
        payload(ts=NOW.isoformat(), seq=seq, online=online, recording=recording, storage_free_pct=free),
        NOW,
        registry_index,
        IntakeLimits(),
    )
    assert line(reading) == point_line(reading)
