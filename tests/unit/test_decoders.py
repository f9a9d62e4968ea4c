"""The bin sensors' decoders against the vendors' published vectors (TheThingsNetwork
lorawan-devices codec examples: three copied into tests/fixtures/devices, the EM500-UDL ones
and the "unknown FPort" cases quoted from vendor/*/…-codec.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bantar.domain.errors import Reason, Rejected
from ingest.sources.decoders import decode_raw, read_decoded

VECTORS = Path(__file__).resolve().parent.parent / "fixtures" / "devices" / "ttn-lorawan-devices"


def vector(name: str) -> tuple[int, bytes, dict[str, object]]:
    data = json.loads((VECTORS / name).read_text())
    return data["fPort"], bytes.fromhex(data["bytes_hex"]), data["expected_decoded"]


def test_milesight_em310_udl_vector() -> None:
    port, frame, expected = vector("milesight-em310-udl_ex1.json")
    decoded = decode_raw("milesight-em310-udl", port, frame)
    assert decoded.values["battery"].value == expected["battery"]
    assert decoded.values["battery"].unit == "%"
    assert decoded.values["distance"].value == expected["distance"]
    assert decoded.values["distance"].unit == "mm"
    assert decoded.flags["position"] == expected["tilt"]


@pytest.mark.parametrize(
    ("frame", "battery", "distance"),
    [("0175 5C 0382 1e00", 92, 30), ("0175 64 0382 1e00", 100, 30)],  # em500-udl-codec.yaml examples
)
def test_milesight_em500_udl_vectors(frame: str, battery: int, distance: int) -> None:
    decoded = decode_raw("milesight-em500-udl", 85, bytes.fromhex(frame.replace(" ", "")))
    assert (decoded.values["battery"].value, decoded.values["distance"].value) == (battery, distance)
    assert decoded.fault is None


def test_milesight_device_information_packet_is_not_a_reading() -> None:
    info = bytes.fromhex("ff0bff ff0101 ff166136c19146240000 ff090100 ff0a0101 ff0f00".replace(" ", ""))
    with pytest.raises(Rejected) as caught:
        decode_raw("milesight-em310-udl", 85, info)
    assert caught.value.reason is Reason.not_a_reading


def test_dragino_ldds45_vector() -> None:
    port, frame, expected = vector("dragino-ldds45_distance.json")
    decoded = decode_raw("dragino-ldds45", port, frame)
    assert decoded.values["battery"].value == expected["Bat"]
    assert decoded.values["battery"].unit == "V"
    assert f"{decoded.values['distance'].value:g} {decoded.values['distance'].unit}" == expected["Distance"]
    assert f"{decoded.values['temperature'].value:.2f}" == expected["TempC_DS18B20"]
    assert decoded.flags == {"interrupt": expected["Interrupt_flag"], "sensor_flag": expected["Sensor_flag"]}


def test_dragino_ldds45_unknown_fport_vector() -> None:
    with pytest.raises(Rejected) as caught:
        decode_raw("dragino-ldds45", 42, bytes.fromhex("0D3B0AEF00000001"))
    assert caught.value.reason is Reason.undecodable_payload
    assert "unknown fPort" in caught.value.detail


def test_dragino_ldds75_no_sensor_vector_is_a_fault() -> None:
    port, frame, expected = vector("dragino-ldds75_no-sensor.json")
    decoded = decode_raw("dragino-ldds75", port, frame)
    assert expected["distance"] == "No Sensor"
    assert decoded.fault is not None
    assert decoded.fault.startswith("No Sensor")
    assert "distance" not in decoded.values


@pytest.mark.parametrize(("distance", "fault"), [(0, "No Sensor"), (150, "Invalid Reading")])
def test_dragino_ldds75_sentinel_distances(distance: int, fault: str) -> None:
    frame = bytes.fromhex("0D3B") + distance.to_bytes(2, "big") + bytes.fromhex("00000001")
    decoded = decode_raw("dragino-ldds75", 2, frame)
    assert decoded.fault is not None
    assert decoded.fault.startswith(fault)


def test_network_server_decoded_payloads() -> None:
    _, _, ldds45 = vector("dragino-ldds45_distance.json")
    decoded = read_decoded("dragino-ldds45", ldds45)
    assert (decoded.values["distance"].value, decoded.values["distance"].unit) == (2799.0, "mm")
    assert (decoded.values["battery"].value, decoded.values["battery"].unit) == (3.387, "V")
    _, _, ldds75 = vector("dragino-ldds75_no-sensor.json")
    assert read_decoded("dragino-ldds75", ldds75).fault == "distance is 'No Sensor', not a value"
    _, _, em310 = vector("milesight-em310-udl_ex1.json")
    assert read_decoded("milesight-em310-udl", em310).flags == {"position": "tilt"}


def test_no_model_no_decoder() -> None:
    with pytest.raises(Rejected) as caught:
        decode_raw(None, 2, b"\x00")
    assert caught.value.reason is Reason.undecodable_payload
