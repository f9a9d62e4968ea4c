"""Pure parts of the sources: sequence numbers, formats, the config file, availability ticks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bantar.domain.availability import AvailabilityRow, online_ticks
from bantar.domain.errors import Reason, RegistryError, Rejected
from bantar.domain.readings import AvailabilityState
from bantar.domain.registry import normalise_dev_eui
from bantar.domain.sequences import NO_COUNTER_BASE, SESSION_SPAN, SequenceTracker
from ingest.sources.config import Route, Source, load_sources
from ingest.sources.formats import FORMATS, ParseContext
from ingest.sources.observation import Observation
from ingest.sources.sequencing import FrameCounterSessions, derived_seq

T0 = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
CTX = ParseContext("Asia/Jakarta", {"level": ("distance", "cm")})


def test_frame_counter_reset_is_a_new_session_not_a_gap() -> None:
    sessions = FrameCounterSessions({}, {})
    assert [sessions.seq_for("d", f, T0 + timedelta(seconds=f)) for f in (10331, 10332, 10333)] == [
        10331,
        10332,
        10333,
    ]
    assert sessions.seq_for("d", 0, T0 + timedelta(days=1)) == SESSION_SPAN
    tracker = SequenceTracker({"d": 10333})
    assert tracker.observe("d", SESSION_SPAN) == 0
    assert tracker.observe("d", SESSION_SPAN + 3) == 2


def test_same_uplink_twice_is_the_same_number() -> None:
    sessions = FrameCounterSessions({}, {})
    first = sessions.seq_for("d", 7, T0)
    assert sessions.seq_for("d", 7, T0) == first  # a second gateway
    sessions.seq_for("d", 8, T0 + timedelta(minutes=1))
    assert sessions.seq_for("d", 7, T0) == first  # late copy from another integration: same session


def test_join_starts_a_session_and_the_position_survives_a_restart() -> None:
    sessions = FrameCounterSessions({}, {})
    sessions.seq_for("d", 3, T0)
    sessions.joined("d", T0 + timedelta(minutes=5))
    assert sessions.seq_for("d", 4, T0 + timedelta(minutes=6)) == SESSION_SPAN + 4
    last_ts_ms = int((T0 + timedelta(minutes=6)).timestamp() * 1000)
    restarted = FrameCounterSessions({"d": SESSION_SPAN + 4, "tasmota": NO_COUNTER_BASE + 5}, {"d": last_ts_ms})
    assert restarted.seq_for("d", 4, T0 + timedelta(minutes=6)) == SESSION_SPAN + 4  # a redelivery after the crash
    assert restarted.seq_for("d", 5, T0 + timedelta(minutes=16)) == SESSION_SPAN + 5


def test_derived_numbers_grow_with_time_and_are_not_counted() -> None:
    a, b = derived_seq(T0, b"online"), derived_seq(T0 + timedelta(seconds=1), b"online")
    assert NO_COUNTER_BASE <= a < b < 2**53
    assert derived_seq(T0, b"online") == a
    assert SequenceTracker({"x": a}).observe("x", b) == 0


def test_dev_eui_normalised() -> None:
    assert normalise_dev_eui("AgICAgICAgI=") == "0202020202020202"  # ChirpStack v3 protobuf JSON
    assert normalise_dev_eui("00-04-A3-0B-00-1C-05-30") == "0004a30b001c0530"
    assert normalise_dev_eui("nope") is None


def parse(fmt: str, topic: str, payload: bytes, template: str | None = None) -> Observation:
    source = Source(name="src", connection="c", format=fmt, topics=[template] if template else None)
    for route in (Route(source, t) for t in source.templates):
        fields = route.match(topic)
        if fields is not None:
            return FORMATS[fmt].parse(topic, fields, payload, CTX)
    raise AssertionError(f"{topic} matched no template")


def test_chirpstack_v3_base64_eui_and_object_json() -> None:
    body = {"devEUI": "AgICAgICAgI=", "fCnt": 4, "fPort": 2, "objectJSON": json.dumps({"distance": 812})}
    observation = parse("chirpstack", "application/1/device/0202020202020202/rx", json.dumps(body).encode())
    assert observation.ids == (("dev_eui", "0202020202020202"),)
    assert observation.decoded == {"distance": 812}


def test_tasmota_custom_full_topic_and_mapped_sensor() -> None:
    payload = b'{"Time":"2026-11-29T08:00:00","ANALOG":{"A0":512},"SR04":{"Distance":9999}}'
    observation = parse("tasmota", "bins/tong-7/tele/SENSOR", payload, "bins/{topic}/tele/{message}")
    assert observation.fault == "SR04.Distance is 9999, a no-value sentinel"


def test_esphome_nan_and_unmapped_sensor() -> None:
    assert parse("esphome", "bin-3/sensor/level/state", b"nan").fault
    with pytest.raises(Rejected) as caught:
        parse("esphome", "bin-3/sensor/wifi_signal/state", b"-61")
    assert caught.value.reason is Reason.no_mapped_field


def test_axis_style_heartbeat_without_storage() -> None:
    observation = parse("camera", "cam-gang-melati/status", b'{"online": true, "recording": true}')
    assert observation.heartbeat
    assert observation.state is AvailabilityState.online
    assert observation.values == {}


def test_sources_file_errors_name_file_entry_and_field(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "connections:\n  ns: {host: eu1.cloud.thethings.network, client_id: bantar-tts}\n"
        "sources:\n  - {name: tts, connection: ns, format: tts}\n"
        "  - {name: esp, connection: ns, format: esphome, sensors: {level: {role: distance, unit: furlong}}}\n"
    )
    with pytest.raises(RegistryError) as caught:
        load_sources(path)
    message = str(caught.value)
    assert str(path) in message
    assert "sources[1]" in message
    assert "sensors: field 'level'" in message
    assert "furlong" in message


def test_camera_uptime_from_availability() -> None:
    class Cam:
        id = "cam"
        interval_s = 300

    hour = 3_600_000
    rows = [AvailabilityRow("cam", -hour, True), AvailabilityRow("cam", 6 * hour, False)]
    ticks = online_ticks([Cam()], rows, 0, 24 * hour)
    assert len(ticks) == 6 * 12  # online from before the day began until 06:00
