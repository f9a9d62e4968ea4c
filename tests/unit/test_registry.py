from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from bantar.domain.errors import RegistryError
from bantar.domain.registry import Category, Registry, RegistryChange
from bantar.domain.topics import Topic
from bantar.kinds.registry import DeviceKind
from bantar.registry_file import RegistryWatch, dump_registry, load_registry
from bantar.registry_gen import FLOOD_LEVELS_CM, RIVER_KECAMATAN, KecamatanCounts, generate_city, one_kelurahan
from tests.support import REPO


def test_generated_city_matches_the_programme_counts(city: Registry) -> None:
    rows = KecamatanCounts.read_csv(REPO / "config/kecamatan_bantar_2014_2020.csv")
    assert len(city.kecamatan) == 11
    assert sum(len(k.kelurahan) for k in city.kecamatan) == 62
    assert sum(len(kel.rts) for k in city.kecamatan for kel in k.kelurahan) == 1635
    for kec, row in zip(city.kecamatan, rows, strict=True):
        assert kec.name == row.name
        assert len(kec.kelurahan) == row.kelurahan_count
        assert sum(len(kel.rts) for kel in kec.kelurahan) == row.rt_count
    kinds = {d.kind for d in city.devices}
    assert kinds == {
        DeviceKind.bin,
        DeviceKind.cctv,
        DeviceKind.poskamling,
        DeviceKind.bank_sampah,
        DeviceKind.water_level,
    }


def test_flood_sensors_watch_three_drains_per_kelurahan_and_the_river_bank(city: Registry) -> None:
    sensors: dict[str, list[dict[str, float]]] = {}
    for d in city.devices:
        if d.kind is DeviceKind.water_level:
            assert d.interval_s == 600
            assert d.location is not None
            sensors.setdefault(d.rt, []).append(d.calibration)
    bank_rts = 0
    for kec in city.kecamatan:
        for k, kel in enumerate(kec.kelurahan):
            n = len(kel.rts)
            drains = {(n + 3) // 4, (n + 1) // 2, (3 * n + 3) // 4}  # the RTs at a quarter, half, three quarters
            bank = set(range(1, (n + 3) // 4 + 1)) if kec.name in RIVER_KECAMATAN and k == 0 else set()
            bank_rts += len(bank)
            for rt in kel.rts:
                watched = [w for w, numbers in (("river", bank), ("drain", drains)) if rt.number in numbers]
                assert sensors.get(rt.code, []) == [FLOOD_LEVELS_CM[w] for w in watched], rt.code
    assert bank_rts == 30  # the first kelurahan of each of the six kecamatan on the Batanghari
    assert sum(len(s) for s in sensors.values()) == 216


def test_awards_follow_the_published_winners_per_category(city: Registry) -> None:
    rows = {r.name: r for r in KecamatanCounts.read_csv(REPO / "config/kecamatan_bantar_2014_2020.csv")}
    for kec in city.kecamatan:
        awards = [a for kel in kec.kelurahan for rt in kel.rts for a in rt.awards]
        for year, per_category in rows[kec.name].winners_by_year.items():
            for category, count in per_category.items():
                given = sum(1 for a in awards if a.year == year and a.category is category)
                assert given <= count
        for kel in kec.kelurahan:
            for rt in kel.rts:
                assert all(a.category is Category.for_kk(rt.kk_count) for a in rt.awards)


def test_generation_is_stable_for_a_seed(city: Registry) -> None:
    again = generate_city(KecamatanCounts.read_csv(REPO / "config/kecamatan_bantar_2014_2020.csv"))
    assert again == city


def test_committed_demo_registry_is_the_generated_small_one(city: Registry) -> None:
    assert load_registry(REPO / "config/registry.yaml") == one_kelurahan(city)


def test_categories_follow_household_counts() -> None:
    assert Category.for_kk(49) is Category.kecil
    assert Category.for_kk(50) is Category.sedang
    assert Category.for_kk(100) is Category.sedang
    assert Category.for_kk(101) is Category.besar


def _broken(small_registry: Registry, tmp_path: Path, edit) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "registry.yaml"
    dump_registry(small_registry, path)
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    message = str(caught.value)
    assert str(path) in message
    return message


def test_negative_household_count_names_entry_and_field(small_registry: Registry, tmp_path: Path) -> None:
    def edit(data):  # type: ignore[no-untyped-def]
        data["kecamatan"][0]["kelurahan"][0]["rts"][2]["kk_count"] = -5

    message = _broken(small_registry, tmp_path, edit)
    assert "kecamatan[0].kelurahan[0].rts[2] (code '1571010001-003'): field 'kk_count'" in message
    assert "greater than or equal to 1" in message


def test_duplicate_device_ids_are_named(small_registry: Registry, tmp_path: Path) -> None:
    def edit(data):  # type: ignore[no-untyped-def]
        data["devices"][1]["id"] = data["devices"][0]["id"]

    message = _broken(small_registry, tmp_path, edit)
    assert f"duplicate device id: {small_registry.devices[0].id}" in message


def test_device_in_unknown_rt_is_named(small_registry: Registry, tmp_path: Path) -> None:
    def edit(data):  # type: ignore[no-untyped-def]
        data["devices"][3]["rt"] = "9999999999-001"

    message = _broken(small_registry, tmp_path, edit)
    assert f"devices[3] (id '{small_registry.devices[3].id}'): field 'rt' names unknown RT '9999999999-001'" in message


def test_unreadable_and_non_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("kecamatan: [\n")
    with pytest.raises(RegistryError, match="not valid YAML"):
        load_registry(bad)


def test_a_watched_registry_takes_a_valid_edit_with_the_switches_and_refuses_an_invalid_one(
    small_registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "registry.yaml"
    first, second, third = small_registry.devices[:3]
    dump_registry(small_registry.model_copy(update={"devices": small_registry.devices[1:]}), path)
    switches = {third.id: False}
    watch = RegistryWatch.load(path, lambda: dict(switches))
    index = watch.index
    assert first.id not in index.devices
    assert not index.devices[third.id].active
    assert watch.check() is None  # unchanged
    path.write_text(path.read_text())
    assert (watch.check(), index.revision) == (None, 1)  # rewritten as it was: nothing to take

    edited = [d.model_copy(update={"interval_s": 900}) if d.id == second.id else d for d in small_registry.devices]
    dump_registry(small_registry.model_copy(update={"devices": edited}), path)
    assert watch.check() == RegistryChange(added=(first.id,), removed=(), changed=(second.id,))
    assert index.devices[second.id].interval_s == 900
    assert index.device_by_topic[str(Topic(first.id, first.kind))] == first.id
    assert not index.devices[third.id].active  # the admins' switch outlives the new file
    assert index.devices[second.id] in index.devices_in(second.rt, channel=None)
    assert (watch.replaced, watch.refused, index.revision) == (1, 0, 2)

    in_force = path.read_text()
    path.write_text(in_force.replace(f"rt: {first.rt}", "rt: no-such-rt", 1))
    with caplog.at_level(logging.ERROR, "bantar.registry"):
        assert watch.check() is None
        assert watch.check() is None  # said once per edit, not per poll
    assert (watch.replaced, watch.refused, index.revision) == (1, 1, 2)
    assert first.id in index.devices
    (record,) = caplog.records
    assert record.getMessage().startswith("registry_invalid (1 since start): Berkas registri yang diubah tidak sah")
    assert "unknown RT 'no-such-rt'" in record.getMessage()

    path.unlink()
    assert watch.check() is None
    assert watch.refused == 2
    path.write_text(in_force)
    assert watch.check() == RegistryChange(added=(), removed=(), changed=())
    assert first.id in index.devices


def test_an_unreadable_registry_at_start_is_named(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read the registry"):
        RegistryWatch.load(tmp_path / "missing.yaml", dict)
