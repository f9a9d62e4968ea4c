"""The one catalogue of Indonesian names for stored codes: bank sampah materials and poskamling
incident categories. Pure.

Stored readings keep the English codes (``plastic``, ``theft``); people type and read the
Indonesian names (``plastik``, ``pencurian``). The message contract (``readings.Material``,
``readings.IncidentCategory``) accepts either through ``code_for``, and the field app shows the
names from here (``GET /api/v1/field/catalogue``).
"""

from __future__ import annotations

from types import MappingProxyType

MATERIALS: MappingProxyType[str, dict[str, str]] = MappingProxyType(
    {
        "plastic": {"id": "plastik", "en": "plastic"},
        "paper": {"id": "kertas", "en": "paper"},
        "metal": {"id": "logam", "en": "metal"},
        "glass": {"id": "kaca", "en": "glass"},
        "organic": {"id": "organik", "en": "organic"},
        "other": {"id": "lainnya", "en": "other"},
    }
)
"""stored material code -> its name in Bahasa Indonesia (id) and English (en)"""

INCIDENT_CATEGORIES: MappingProxyType[str, dict[str, str]] = MappingProxyType(
    {
        "theft": {"id": "pencurian", "en": "theft"},
        "fire": {"id": "kebakaran", "en": "fire"},
        "flood": {"id": "banjir", "en": "flood"},
        "disturbance": {"id": "keributan", "en": "disturbance"},
        "suspicious": {"id": "mencurigakan", "en": "suspicious"},
        "other": {"id": "lainnya", "en": "other"},
    }
)
"""stored incident category code -> its name in Bahasa Indonesia (id) and English (en)"""


def code_for(catalogue: MappingProxyType[str, dict[str, str]], name: object) -> str | None:
    """The stored code an Indonesian name stands for (case-insensitive), or None."""
    if not isinstance(name, str):
        return None
    wanted = name.strip().lower()
    return next((code for code, names in catalogue.items() if names["id"] == wanted), None)
