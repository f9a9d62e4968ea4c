"""The reading kinds sources add (availability, weighings, bins with unknown battery, CCTV
heartbeats without storage), on SQLite and on a real InfluxDB alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bantar.domain.evidence import derive_day
from bantar.domain.intake import payload_digest
from bantar.domain.readings import (
    AvailabilityPayload,
    AvailabilityState,
    CctvPayload,
    Payload,
    Reading,
    SourceBinPayload,
    WeighingPayload,
)
from bantar.domain.registry import RegistryIndex
from bantar.domain.timebase import to_epoch_ms, wib_day, wib_day_bounds_utc
from bantar.domain.topics import DeviceKind
from bantar.kinds.contract import KindRow
from bantar.ports import ReadingStore
from bantar.rules_file import load_rules
from ingest.sources.sequencing import derived_seq
from tests.support import REPO

DAY = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # 07:00 WIB


def reading(
    device_id: str, rt: str, kind: DeviceKind, at: datetime, body: dict[str, object], **extra: object
) -> Reading:
    content = repr(sorted(body.items())).encode()
    seq = derived_seq(at, content)
    model = {
        DeviceKind.availability: AvailabilityPayload,
        DeviceKind.weighing: WeighingPayload,
        DeviceKind.bin: SourceBinPayload,
        DeviceKind.cctv: CctvPayload,
    }[kind]
    payload: Payload = model.model_validate({"ts": at, "seq": seq, **body})
    return Reading(device_id, kind, rt, seq, at, at, payload, payload_digest(content), **extra)  # type: ignore[arg-type]


def test_source_kinds_are_stored_and_feed_camera_uptime(any_store: ReadingStore, registry_index: RegistryIndex) -> None:
    camera = next(d for d in registry_index.registry.devices if d.kind is DeviceKind.cctv)
    scale = next(d for d in registry_index.registry.devices if d.kind is DeviceKind.bank_sampah)
    bin_ = next(d for d in registry_index.registry.devices if d.kind is DeviceKind.bin)
    online, offline = AvailabilityState.online, AvailabilityState.offline
    batch = [
        reading(camera.id, camera.rt, DeviceKind.availability, DAY - timedelta(hours=1), {"state": online}),
        reading(camera.id, camera.rt, DeviceKind.availability, DAY + timedelta(hours=5), {"state": offline}),
        reading(camera.id, camera.rt, DeviceKind.cctv, DAY + timedelta(hours=6), {"online": True}),
        reading(scale.id, scale.rt, DeviceKind.weighing, DAY + timedelta(hours=2), {"kg": 2.35}),
        reading(bin_.id, bin_.rt, DeviceKind.bin, DAY, {"distance_cm": 40.0}, calibrated=60.0),
    ]
    assert any_store.write(batch, []) == (5, 0, 0)
    assert any_store.write(batch, []) == (0, 5, 0)  # redelivered: duplicates
    counts = any_store.counts().readings_by_kind
    assert (counts["availability"], counts["weighing"], counts["cctv"], counts["bin"]) == (2, 1, 1, 1)
    # the camera's last sign of life is the heartbeat; the Last Will is not one
    assert any_store.last_seen()[camera.id] == to_epoch_ms(DAY + timedelta(hours=6))
    assert any_store.latest_contents()[(camera.id, "availability")] == batch[1].digest
    assert camera.id not in any_store.online_by_availability()  # its Last Will came last
    later = reading(camera.id, camera.rt, DeviceKind.availability, DAY + timedelta(hours=7), {"state": online})
    any_store.write([later], [])
    assert camera.id in any_store.online_by_availability()
    assert any_store.sequence_gaps() == []
    weighed = batch[3]
    weighed_ms = to_epoch_ms(weighed.ts)
    day_ms = (to_epoch_ms(DAY), to_epoch_ms(DAY + timedelta(days=1)))
    assert any_store.series_rows(DeviceKind.weighing, scale.rt, *day_ms) == [
        KindRow(scale.id, weighed_ms, weighed.seq, weighed_ms, (2.35,))
    ]
    later_only = (to_epoch_ms(DAY + timedelta(hours=3)), to_epoch_ms(DAY + timedelta(days=1)))
    assert any_store.series_rows(DeviceKind.weighing, scale.rt, *later_only) == []

    day = wib_day(DAY)
    start, end = (to_epoch_ms(t) for t in wib_day_bounds_utc(day))
    rt_readings = any_store.rt_readings(camera.rt, start, end)
    assert [(r.ts_ms, r.online) for r in rt_readings.of(DeviceKind.availability)] == [
        (to_epoch_ms(DAY - timedelta(hours=1)), True),  # the state the day began in
        (to_epoch_ms(DAY + timedelta(hours=5)), False),
        (to_epoch_ms(DAY + timedelta(hours=7)), True),
    ]
    place = registry_index.rts[camera.rt]
    rules = load_rules(REPO / "config/rules.yaml").derivation()
    later_ms = to_epoch_ms(DAY + timedelta(days=2))  # the day is over
    evidence = derive_day(place.rt, registry_index.devices_in(camera.rt), day, rt_readings, rules, later_ms)
    cameras = [d for d in registry_index.devices_in(camera.rt) if d.kind is DeviceKind.cctv]
    # online 06:00-12:00 WIB and from 14:00 to midnight: one heartbeat per interval; and the one at 13:00
    assert evidence.cctv_online_heartbeats == 16 * 3600 // camera.interval_s + 1
    assert evidence.cctv_heartbeats_expected == sum(86400 // d.interval_s for d in cameras)
