from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bantar.domain.errors import Reason, Rejected
from bantar.domain.intake import IntakeLimits, accept
from bantar.domain.readings import BankSampahPayload, DutyEvent
from bantar.domain.registry import Device, RegistryIndex
from bantar.domain.topics import DeviceKind, Topic
from tests.support import payload

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
TS = "2026-11-29T09:55:00+07:00"
LIMITS = IntakeLimits()


def device(index: RegistryIndex, kind: DeviceKind) -> Device:
    return next(d for d in index.registry.devices if d.kind is kind)


def topic(d: Device) -> str:
    return str(Topic(d.id, d.kind))


def reject(index: RegistryIndex, t: str, body: bytes) -> Rejected:
    with pytest.raises(Rejected) as caught:
        accept(t, body, NOW, index, LIMITS)
    return caught.value


def test_bin_reading_takes_its_rt_from_the_registry(registry_index: RegistryIndex) -> None:
    b = device(registry_index, DeviceKind.bin)
    reading = accept(topic(b), payload(ts=TS, seq=3, fill_pct=42.5, battery_pct=90), NOW, registry_index, LIMITS)
    assert reading.rt_code == b.rt
    assert reading.ts == datetime(2026, 11, 29, 2, 55, tzinfo=UTC)
    assert reading.calibrated == 42.5


def test_a_payload_naming_an_rt_is_refused(registry_index: RegistryIndex) -> None:
    b = device(registry_index, DeviceKind.bin)
    error = reject(registry_index, topic(b), payload(ts=TS, seq=1, fill_pct=1, battery_pct=9, rt="other"))
    assert error.reason is Reason.unexpected_field
    assert "rt" in error.detail


def test_distance_is_turned_into_fill_with_the_bins_depth(registry_index: RegistryIndex) -> None:
    b = device(registry_index, DeviceKind.bin)
    assert b.depth_cm
    reading = accept(
        topic(b),
        payload(ts=TS, seq=1, distance_cm=b.depth_cm / 4, battery_pct=50),
        NOW,
        registry_index,
        LIMITS,
    )
    assert reading.calibrated == pytest.approx(75.0)


def test_each_kind_has_a_valid_example(registry_index: RegistryIndex) -> None:
    examples = {
        DeviceKind.cctv: payload(ts=TS, seq=1, online=True, recording=True, storage_free_pct=40.0),
        DeviceKind.poskamling: payload(ts=TS, seq=1, event="duty", on_duty=True, guards=3),
        DeviceKind.bank_sampah: payload(
            ts=TS,
            seq=1,
            deposit_id="D-1",
            household="hh-0001",
            items={"plastic": 2.5, "paper": 1},
            price_idr_per_kg={"plastic": 3000},
        ),
    }
    for kind, body in examples.items():
        reading = accept(topic(device(registry_index, kind)), body, NOW, registry_index, LIMITS)
        assert reading.kind is kind
    deposit = accept(
        topic(device(registry_index, DeviceKind.bank_sampah)),
        examples[DeviceKind.bank_sampah],
        NOW,
        registry_index,
        LIMITS,
    ).payload
    assert isinstance(deposit, BankSampahPayload)
    assert deposit.value_idr == 7500


@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        (b"{not json", Reason.malformed_json, "JSON"),
        (b"[1, 2]", Reason.invalid_field, "object"),
        (
            b'{"ts": "' + TS.encode() + b'", "seq": 1, "fill_pct": NaN, "battery_pct": 5}',
            Reason.not_finite,
            "finite",
        ),
        (payload(ts=TS, seq=1, fill_pct="NaN", battery_pct=5), Reason.invalid_field, "fill_pct"),
        (
            b'{"ts": "' + TS.encode() + b'", "seq": 1, "fill_pct": 1e999, "battery_pct": 5}',
            Reason.not_finite,
            "finite",
        ),
        (
            payload(ts=TS, seq=1, fill_pct=140, battery_pct=5),
            Reason.out_of_range,
            "less than or equal to 100",
        ),
        (payload(ts=TS, seq=-1, fill_pct=10, battery_pct=5), Reason.out_of_range, "seq"),
        (
            payload(ts=TS, seq=1, battery_pct=5),
            Reason.invalid_field,
            "exactly one of fill_pct or distance_cm",
        ),
        (payload(ts=TS, seq=1, fill_pct=10), Reason.missing_field, "battery_pct"),
        (payload(ts=1764385200, seq=1, fill_pct=10, battery_pct=5), Reason.invalid_field, "ts"),
        (
            payload(ts="2026-11-29T09:55:00", seq=1, fill_pct=10, battery_pct=5),
            Reason.invalid_field,
            "offset",
        ),
        (payload(ts="2026-11-29T09:55:00+07", seq=1, fill_pct=10, battery_pct=5), Reason.invalid_field, "offset"),
        (payload(ts="2026-11-29T09:55+07:00", seq=1, fill_pct=10, battery_pct=5), Reason.invalid_field, "seconds"),
        (payload(ts="2026-11-29 09:55:00Z", seq=1, fill_pct=10, battery_pct=5), Reason.invalid_field, "RFC 3339"),
        (
            b'{"ts":"2026-11-29T09:55:00Z","seq":1001,"seq":1006,"fill_pct":1,"battery_pct":5}',
            Reason.duplicate_key,
            "seq",
        ),
        (b"[" * 3000 + b"]" * 3000, Reason.malformed_json, "deep"),
        (b"\xff\xfe{}", Reason.not_utf8, "UTF-8"),
    ],
)
def test_bad_bin_payloads_are_refused_with_a_reason(
    registry_index: RegistryIndex, body: bytes, reason: Reason, words: str
) -> None:
    error = reject(registry_index, topic(device(registry_index, DeviceKind.bin)), body)
    assert error.reason is reason
    assert words in error.detail


def test_topic_and_identity_rules(registry_index: RegistryIndex) -> None:
    b = device(registry_index, DeviceKind.bin)
    good = payload(ts=TS, seq=1, fill_pct=1, battery_pct=1)
    assert reject(registry_index, "bantar/v1/ghost-device/bin", good).reason is Reason.unknown_device
    assert reject(registry_index, f"bantar/v1/{b.id}/cctv", good).reason is Reason.kind_mismatch
    assert reject(registry_index, f"bantar/v2/{b.id}/bin", good).reason is Reason.bad_topic
    assert reject(registry_index, f"bantar/v1/{b.id}/bin/extra", good).reason is Reason.bad_topic
    assert reject(registry_index, "bantar/v1/BAD ID/bin", good).reason is Reason.bad_topic
    assert reject(registry_index, f"bantar/v1/{b.id}/toaster", good).reason is Reason.bad_topic


def test_oversized_payloads_are_refused_before_parsing(registry_index: RegistryIndex) -> None:
    error = reject(registry_index, topic(device(registry_index, DeviceKind.bin)), b"{" * 10_000)
    assert error.reason is Reason.payload_too_large
    assert "10000 bytes" in error.detail


def test_time_window_is_asymmetric(registry_index: RegistryIndex) -> None:
    t = topic(device(registry_index, DeviceKind.bin))

    def at(moment: datetime) -> bytes:
        return payload(ts=moment.isoformat(), seq=1, fill_pct=1, battery_pct=1)

    accept(t, at(NOW - timedelta(days=30)), NOW, registry_index, LIMITS)  # buffered readings are fine
    accept(t, at(NOW + timedelta(minutes=4)), NOW, registry_index, LIMITS)  # small clock skew is fine
    assert reject(registry_index, t, at(NOW + timedelta(minutes=6))).reason is Reason.timestamp_out_of_window
    assert reject(registry_index, t, at(datetime(1970, 1, 1, tzinfo=UTC))).reason is Reason.timestamp_out_of_window
    assert reject(registry_index, t, at(datetime(2036, 1, 1, tzinfo=UTC))).reason is Reason.timestamp_out_of_window


def test_poskamling_events_are_discriminated(registry_index: RegistryIndex) -> None:
    t = topic(device(registry_index, DeviceKind.poskamling))
    reading = accept(t, payload(ts=TS, seq=2, event="duty", on_duty=False, guards=0), NOW, registry_index, LIMITS)
    assert isinstance(reading.payload, DutyEvent)
    assert reject(registry_index, t, payload(ts=TS, seq=2, event="party")).reason is Reason.invalid_field
    staffed_by_nobody = payload(ts=TS, seq=2, event="duty", on_duty=True, guards=0)
    assert "at least one guard" in reject(registry_index, t, staffed_by_nobody).detail


def test_bank_sampah_prices_must_match_items(registry_index: RegistryIndex) -> None:
    t = topic(device(registry_index, DeviceKind.bank_sampah))
    body = payload(
        ts=TS,
        seq=1,
        deposit_id="D-2",
        household="hh-0002",
        items={"paper": 1},
        price_idr_per_kg={"metal": 9000},
    )
    assert "metal" in reject(registry_index, t, body).detail
    no_items = payload(ts=TS, seq=1, deposit_id="D-3", household="hh-0002", items={})
    assert reject(registry_index, t, no_items).reason is Reason.invalid_field
    a_name = payload(ts=TS, seq=1, deposit_id="D-4", household="Ibu Siti Aminah", items={"paper": 1})
    assert reject(registry_index, t, a_name).reason is Reason.invalid_field


@pytest.mark.parametrize(
    "make_id",
    [
        lambda d: d + "\n",  # a trailing newline, which `$` in a Python regex lets through
        lambda d: d + "\x00",  # NUL
        lambda d: d[:2] + "\x1b" + d[2:],  # a control character
        lambda d: d.replace("b", "\u044c", 1) if "b" in d else "\u0430" + d[1:],  # Cyrillic look-alike
        lambda d: d[:3] + "\u200b" + d[3:],  # zero-width space
        lambda d: d.upper(),  # another device id only by case
        lambda d: "\uff42" + d[1:],  # fullwidth letter
        lambda d: d + "+",
        lambda d: d + "#",
        lambda d: "..",
    ],
    ids=["newline", "nul", "control", "homoglyph", "zero-width", "case", "fullwidth", "plus", "hash", "dotdot"],
)
def test_identifiers_that_only_look_like_a_device_are_refused(registry_index: RegistryIndex, make_id: object) -> None:
    b = device(registry_index, DeviceKind.bin)
    forged = make_id(b.id)  # type: ignore[operator]
    assert forged != b.id
    error = reject(registry_index, f"bantar/v1/{forged}/bin", payload(ts=TS, seq=1, fill_pct=1, battery_pct=1))
    assert error.reason in (Reason.bad_topic, Reason.unknown_device)


@pytest.mark.parametrize("ts", [1764385200, 1764385200000, "1764385200", "1764385200000", 1764385200.5])
def test_unix_times_are_refused_so_seconds_and_milliseconds_cannot_be_mixed_up(
    registry_index: RegistryIndex, ts: object
) -> None:
    t = topic(device(registry_index, DeviceKind.bin))
    error = reject(registry_index, t, payload(ts=ts, seq=1, fill_pct=1, battery_pct=1))
    assert error.reason is Reason.invalid_field
    assert "ts" in error.detail


def test_deeply_nested_json_is_a_dead_letter_not_a_crash(registry_index: RegistryIndex) -> None:
    t = topic(device(registry_index, DeviceKind.bin))
    assert reject(registry_index, t, b"[" * 4000 + b"]" * 4000).reason is Reason.malformed_json
    assert reject(registry_index, t, b'{"a":' * 1000 + b"1" + b"}" * 1000).reason is Reason.malformed_json
