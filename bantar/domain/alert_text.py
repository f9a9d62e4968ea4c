"""What a notification says, in Bahasa Indonesia. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from bantar.domain.errors import fill
from bantar.domain.registry import RTPlace
from bantar.domain.timebase import WIB
from bantar.kinds.contract import AlertWords
from bantar.kinds.registry import plugins

KIND_LABEL: dict[str, str] = {  # the service's own alerts; a device kind labels its own (``kind_alert_words``)
    "reassessment": "Perlu penilaian ulang",
    "device_silent": "Perangkat tidak melapor",
    "data_quality": "Mutu data sensor bermasalah",
    "assessment_signed": "Penilaian telah ditandatangani",
}
LEVEL_WORD = {"rt": "RT", "kelurahan": "kelurahan", "kecamatan": "kecamatan", "city": "kota"}


def wib_text(moment: datetime) -> str:
    return moment.astimezone(WIB).strftime("%d-%m-%Y %H:%M WIB")


def where(place: RTPlace) -> str:
    return f"RT {place.rt.number:03d} Kel. {place.kelurahan_name}, Kec. {place.kecamatan_name} ({place.rt.code})"


def stage_line(stage: str, opened: datetime, escalation_levels: list[str]) -> str:
    if stage.startswith("reminder-"):
        return f"Pengingat ke-{stage.partition('-')[2]}: belum ditanggapi sejak {wib_text(opened)}."
    if stage.startswith("escalation-"):
        step = int(stage.partition("-")[2])
        level = escalation_levels[step - 1] if step <= len(escalation_levels) else "?"
        return f"Eskalasi ke tingkat {LEVEL_WORD.get(level, level)}: belum ditanggapi sejak {wib_text(opened)}."
    return f"Dibuka {wib_text(opened)}."


def render(
    kind: str,
    detail: dict[str, Any],
    place: RTPlace,
    stage: str,
    opened: datetime,
    ack_link: str | None,
    escalation_levels: list[str],
) -> tuple[str, str]:
    """(title, body) of one notification."""
    words = kind_alert_words().get(kind)
    label = KIND_LABEL.get(kind) or (words.label.id if words else kind.replace("_", " "))
    title = f"[BANTAR] {label}: RT {place.rt.number:03d} {place.kelurahan_name}"
    lines = [
        f"{label} — {where(place)}",
        str(detail.get("message_id") or ""),
        stage_line(stage, opened, escalation_levels),
    ]
    if ack_link:
        lines.append(f"Tandai sudah ditangani: {ack_link}")
    return title, "\n".join(line for line in lines if line)


def digest_title(kelurahan_name: str, day: str) -> str:
    return f"[BANTAR] Ringkasan harian Kel. {kelurahan_name} — {day}"


def kind_alert_words() -> dict[str, AlertWords]:
    """Every kind's alert labels and texts by code (``KindPlugin.alert_texts``): the catalogue of
    the alerts the kinds raise, in Bahasa Indonesia and English."""
    return {code: words for p in plugins().values() for code, words in p.alert_texts.items()}


def kind_alert_text(code: str, params: Mapping[str, object], lang: Literal["id", "en"]) -> str:
    """A kind's alert in one language, its parameters filled in (in Bahasa Indonesia a decimal
    number is written with a comma: 131,5 cm)."""
    if lang == "id":
        params = {name: str(v).replace(".", ",") if isinstance(v, float) else v for name, v in params.items()}
    return fill(kind_alert_words()[code].message, lang, params)
