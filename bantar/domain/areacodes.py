"""Kemendagri area codes (Permendagri 72/2019 style: 15.71.01.1001) for the registry's areas. Pure.

The registry's codes follow BPS's digits: kecamatan ``1571NN0`` (province 15, Kota Jambi 71,
kecamatan NN, a trailing 0) and kelurahan ``1571NN0XXX``. Kemendagri writes the same area as
``15.71.NN`` and, for a kelurahan (urban villages are numbered from 1001), ``15.71.NN.1XXX``.
The generated registry's codes are synthetic but follow this shape; a registry with the real
BPS codes maps to the real Kemendagri codes the same way. See docs/open-data.md.
"""

from __future__ import annotations

import re

from bantar.domain.registry import RTPlace

KOTA_JAMBI = "15.71"


def kecamatan_code(bps: str) -> str:
    found = re.fullmatch(r"(\d{2})(\d{2})(\d{2})0", bps)
    if found is None:
        raise ValueError(f"kecamatan code {bps!r} is not of the form PPKKCC0")
    return ".".join(found.groups())


def kelurahan_code(bps: str) -> str:
    found = re.fullmatch(r"(\d{7})(\d{3})", bps)
    if found is None:
        raise ValueError(f"kelurahan code {bps!r} is not of the form PPKKCC0XXX")
    return f"{kecamatan_code(found[1])}.1{found[2]}"


def codes_of(place: RTPlace) -> dict[str, str]:
    """The Kemendagri codes of an RT's kota, kecamatan and kelurahan, and the RT's own number."""
    return {
        "kode_kota": KOTA_JAMBI,
        "kode_kecamatan": kecamatan_code(place.kecamatan_code),
        "kode_kelurahan": kelurahan_code(place.kelurahan_code),
        "nomor_rt": f"{place.rt.number:03d}",
    }
