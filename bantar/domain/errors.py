"""Why an input was refused: one stable snake_case code per rule.

The same ``Reason`` code is used in dead letters, counters, HTTP 4xx bodies and the Bahasa
Indonesia and English text catalogue (``CATALOGUE``, filled in by ``explain``), so operators see
one vocabulary everywhere.

Exception tree::

    BantarError                 anything this project raises on purpose
    ├── Rejected                an input (MQTT message or HTTP post) refused; carries a Reason
    ├── RegistryError           the registry file is invalid (names file, entry and field)
    └── StoreError              the store could not complete a write or read (retryable)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Reason(StrEnum):
    # --- a message or post refused at intake (dead letters, counters, HTTP 422) ---
    payload_too_large = "payload_too_large"
    not_utf8 = "not_utf8"
    malformed_json = "malformed_json"
    duplicate_key = "duplicate_key"
    missing_field = "missing_field"
    unexpected_field = "unexpected_field"
    not_finite = "not_finite"
    out_of_range = "out_of_range"
    invalid_field = "invalid_field"
    bad_topic = "bad_topic"
    unknown_device = "unknown_device"
    kind_mismatch = "kind_mismatch"
    device_inactive = "device_inactive"
    wrong_channel = "wrong_channel"
    timestamp_out_of_window = "timestamp_out_of_window"
    sequence_conflict = "sequence_conflict"
    not_a_reading = "not_a_reading"
    sensor_fault = "sensor_fault"
    no_mapped_field = "no_mapped_field"
    undecodable_payload = "undecodable_payload"
    # the field app (people's entries): sign-in, bank sampah bookkeeping, patrols
    sign_in_code_unknown = "sign_in_code_unknown"
    sign_in_code_used = "sign_in_code_used"
    sign_in_code_expired = "sign_in_code_expired"
    token_revoked = "token_revoked"  # noqa: S105 (a reason code, not a secret)
    unknown_member = "unknown_member"
    insufficient_balance = "insufficient_balance"
    not_a_checkpoint = "not_a_checkpoint"
    checkpoint_other_rt = "checkpoint_other_rt"
    unknown_checkpoint = "unknown_checkpoint"
    patrol_outside_duty = "patrol_outside_duty"
    unknown_weighing = "unknown_weighing"
    weighing_taken = "weighing_taken"
    weighing_mismatch = "weighing_mismatch"
    # --- HTTP only ---
    missing_token = "missing_token"  # noqa: S105 (a reason code, not a secret)
    invalid_token = "invalid_token"  # noqa: S105 (a reason code, not a secret)
    rate_limited = "rate_limited"
    forbidden_role = "forbidden_role"
    out_of_scope = "out_of_scope"
    scope_too_wide = "scope_too_wide"
    backdated_too_far = "backdated_too_far"
    missing_idempotency_key = "missing_idempotency_key"
    idempotency_conflict = "idempotency_conflict"
    repeated_parameter = "repeated_parameter"
    unknown_parameter = "unknown_parameter"
    missing_code = "missing_code"
    ambiguous_period = "ambiguous_period"
    bad_period = "bad_period"
    unknown_rt = "unknown_rt"
    unknown_kecamatan = "unknown_kecamatan"
    unknown_kelurahan = "unknown_kelurahan"
    unknown_token = "unknown_token"  # noqa: S105 (a reason code, not a secret)
    unknown_assessment = "unknown_assessment"
    unknown_alert = "unknown_alert"
    alert_resolved = "alert_resolved"
    bad_signature = "bad_signature"
    assessment_signed = "assessment_signed"
    assessment_incomplete = "assessment_incomplete"
    assessment_open = "assessment_open"
    not_found = "not_found"
    method_not_allowed = "method_not_allowed"
    unsupported_media_type = "unsupported_media_type"
    # --- a configuration edit refused while running (logged and counted; the old one stays) ---
    registry_invalid = "registry_invalid"


@dataclass(frozen=True)
class Text:
    """One reason in Bahasa Indonesia and English; ``{name}`` placeholders take parameters."""

    id: str
    en: str


CATALOGUE: dict[Reason, Text] = {
    Reason.payload_too_large: Text("Pesan terlalu besar", "the message is too large"),
    Reason.not_utf8: Text("Pesan bukan teks UTF-8", "the message is not UTF-8 text"),
    Reason.malformed_json: Text("Pesan bukan JSON yang sah", "the message is not valid JSON"),
    Reason.duplicate_key: Text(
        "Ada kolom yang muncul lebih dari sekali: {field}", "a field appears more than once: {field}"
    ),
    Reason.missing_field: Text("Kolom wajib tidak ada: {field}", "a required field is missing: {field}"),
    Reason.unexpected_field: Text("Ada kolom yang tidak dikenal: {field}", "unexpected field: {field}"),
    Reason.not_finite: Text(
        "Angka harus terhingga (bukan NaN atau tak hingga): {field}", "numbers must be finite: {field}"
    ),
    Reason.out_of_range: Text("Nilai di luar batas yang diizinkan: {field}", "value out of range: {field}"),
    Reason.invalid_field: Text("Isi kolom tidak sah: {field}", "invalid value: {field}"),
    Reason.bad_topic: Text(
        "Topik MQTT tidak sesuai format bantar/v1/<id_perangkat>/<jenis>",
        "the MQTT topic is not bantar/v1/<device_id>/<kind>",
    ),
    Reason.unknown_device: Text("Perangkat tidak terdaftar", "the device is not registered"),
    Reason.kind_mismatch: Text(
        "Jenis perangkat pada topik tidak sesuai registri", "the topic's kind differs from the registry"
    ),
    Reason.device_inactive: Text("Perangkat sudah dinonaktifkan", "the device is switched off"),
    Reason.wrong_channel: Text(
        "Perangkat ini tidak melapor lewat jalur ini", "this device does not report over this channel"
    ),
    Reason.timestamp_out_of_window: Text(
        "Waktu perangkat di luar rentang yang diterima", "the device time is outside the accepted window"
    ),
    Reason.sequence_conflict: Text(
        "Nomor urut sudah dipakai untuk data yang berbeda", "the sequence number was used for other content"
    ),
    Reason.not_a_reading: Text(
        "Pesan bukan data pengukuran (mis. join, discovery, paket parameter)",
        "the message carries no measurement (e.g. a join, discovery or parameter packet)",
    ),
    Reason.sensor_fault: Text(
        "Sensor melaporkan gangguan, bukan nilai ukur", "the sensor reports a fault, not a value"
    ),
    Reason.no_mapped_field: Text(
        "Tidak ada kolom pesan yang dipetakan ke data perangkat ini",
        "no field of the message is mapped to this device's readings",
    ),
    Reason.undecodable_payload: Text(
        "Isi pesan mentah tidak dapat diuraikan untuk model perangkat ini",
        "the raw payload cannot be decoded for this device model",
    ),
    Reason.missing_token: Text(
        "Sertakan token API: Authorization: Bearer <token>", "send an API token: Authorization: Bearer <token>"
    ),
    Reason.invalid_token: Text("Token tidak dikenal atau sudah dicabut", "the token is unknown or revoked"),
    Reason.rate_limited: Text(
        "Terlalu banyak permintaan dari token ini; coba lagi dalam {wait} detik",
        "too many requests from this token; retry in {wait} s",
    ),
    Reason.forbidden_role: Text("Peran {role} tidak boleh melakukan ini ({action})", "role {role} may not {action}"),
    Reason.out_of_scope: Text(
        "{what} {code} di luar wilayah token ini atau tidak ada",
        "{what} {code} is outside this token's scope or does not exist",
    ),
    Reason.scope_too_wide: Text(
        "Wilayah {scope} lebih luas dari wilayah token ini", "scope {scope} is wider than this token's own"
    ),
    Reason.backdated_too_far: Text(
        "Waktu laporan lebih dari {days} hari yang lalu", "the post's ts is more than {days} days in the past"
    ),
    Reason.missing_idempotency_key: Text(
        "Sertakan header Idempotency-Key untuk laporan ini", "send an Idempotency-Key header identifying this post"
    ),
    Reason.idempotency_conflict: Text(
        "Idempotency-Key {key} sudah dipakai untuk laporan lain",
        "Idempotency-Key {key} was already used for a different post",
    ),
    Reason.repeated_parameter: Text(
        "Parameter diberikan lebih dari sekali: {names}", "query parameter(s) given more than once: {names}"
    ),
    Reason.unknown_parameter: Text(
        "Parameter tidak dikenal: {names} (yang diterima: {allowed})",
        "unknown query parameter(s): {names} (this route takes: {allowed})",
    ),
    Reason.missing_code: Text("Tingkat {level} perlu kode wilayah", "level {level} needs a code"),
    Reason.ambiguous_period: Text(
        "Pilih salah satu: start/end, month, atau quarter", "give start/end, or month, or quarter, not several"
    ),
    Reason.bad_period: Text("Periode tidak sah: {why}", "invalid period: {why}"),
    Reason.unknown_rt: Text("RT {code} tidak terdaftar", "RT {code} is not in the registry"),
    Reason.unknown_kecamatan: Text("Kecamatan {code} tidak terdaftar", "kecamatan {code} is not in the registry"),
    Reason.unknown_kelurahan: Text("Kelurahan {code} tidak terdaftar", "kelurahan {code} is not in the registry"),
    Reason.unknown_token: Text("Token {code} tidak aktif", "no active token {code}"),
    Reason.unknown_assessment: Text("Penilaian {code} tidak ada", "no assessment {code}"),
    Reason.unknown_alert: Text("Peringatan {code} tidak ada", "no alert {code}"),
    Reason.alert_resolved: Text(
        "Peringatan {code} sudah selesai: penyebabnya sudah berakhir", "alert {code} was resolved: its cause ended"
    ),
    Reason.bad_signature: Text("Tautan ini tidak sah", "this acknowledgement link is not valid"),
    Reason.assessment_signed: Text(
        "Penilaian sudah ditandatangani dan tidak dapat diubah; buat koreksi",
        "the assessment is signed and cannot change; open a correction",
    ),
    Reason.assessment_incomplete: Text("Penilaian belum lengkap: {missing}", "the assessment is incomplete: {missing}"),
    Reason.assessment_open: Text(
        "Penilaian yang masih terbuka diubah langsung, bukan dikoreksi",
        "an open assessment is changed directly, not corrected",
    ),
    Reason.not_found: Text("Alamat tidak ditemukan", "no such address"),
    Reason.method_not_allowed: Text("Metode tidak diizinkan untuk alamat ini", "method not allowed here"),
    Reason.unsupported_media_type: Text("Isi harus berupa JSON", "the body must be JSON"),
    Reason.registry_invalid: Text(
        "Berkas registri yang diubah tidak sah, registri sebelumnya tetap berlaku: {why}",
        "the edited registry file is invalid; the previous registry stays in force: {why}",
    ),
    Reason.sign_in_code_unknown: Text(
        "Kode masuk tidak dikenal: periksa tautan atau minta kode baru",
        "unknown sign-in code: check the link or ask for a new code",
    ),
    Reason.sign_in_code_used: Text(
        "Kode masuk ini sudah dipakai: minta kode baru kepada ketua RT atau admin",
        "this sign-in code was already used: ask the RT head or an admin for a new one",
    ),
    Reason.sign_in_code_expired: Text(
        "Kode masuk ini sudah kedaluwarsa: minta kode baru kepada ketua RT atau admin",
        "this sign-in code has expired: ask the RT head or an admin for a new one",
    ),
    Reason.token_revoked: Text(
        "Akses ponsel ini sudah dicabut: minta kode masuk baru kepada ketua RT atau admin",
        "this phone's access was revoked: ask the RT head or an admin for a new sign-in code",
    ),
    Reason.unknown_member: Text(
        "Anggota tidak terdaftar di RT ini atau sudah dihapus",
        "no such member in this RT (or removed)",
    ),
    Reason.insufficient_balance: Text(
        "Saldo tidak cukup untuk penarikan ini",
        "the balance does not cover this withdrawal",
    ),
    Reason.not_a_checkpoint: Text(
        "Kode QR ini bukan kode titik patroli BANTAR",
        "this QR code is not a BANTAR patrol checkpoint",
    ),
    Reason.checkpoint_other_rt: Text(
        "Kode titik patroli ini milik RT lain",
        "this checkpoint belongs to another RT",
    ),
    Reason.unknown_checkpoint: Text(
        "Titik patroli ini tidak terdaftar di RT ini: minta ketua RT mencetak kodenya",
        "this checkpoint is not registered in this RT: ask the RT head to print its code",
    ),
    Reason.patrol_outside_duty: Text(
        "Patroli hanya bisa dicatat saat jaga: mulai jaga dulu",
        "a patrol can only be recorded during a duty: start the duty first",
    ),
    Reason.unknown_weighing: Text(
        "Timbangan ini tidak ada di RT ini atau sudah terlalu lama",
        "no such weighing in this RT (or it is too old)",
    ),
    Reason.weighing_taken: Text(
        "Hasil timbangan ini sudah dipakai untuk setoran lain",
        "this weighing was already used for another deposit",
    ),
    Reason.weighing_mismatch: Text(
        "Berat setoran tidak sama dengan hasil timbangan yang dipilih",
        "the deposit's weight differs from the chosen weighing",
    ),
}
"""every reason's text, keyed by code: the one catalogue for dead letters, counters and HTTP"""


def explain(reason: Reason, lang: Literal["id", "en"] = "id", **params: object) -> str:
    """The reason's text in one language, with its parameters filled in (missing ones as '?')."""
    return fill(CATALOGUE[reason], lang, params)


def fill(text: Text, lang: Literal["id", "en"], params: Mapping[str, object]) -> str:
    """A text in one language with its ``{name}`` placeholders filled in (missing ones as '?')."""
    words = text.id if lang == "id" else text.en
    return words.format_map(defaultdict(lambda: "?", {k: str(v) for k, v in params.items()}))


REASON_TEXT_ID: dict[Reason, str] = {reason: explain(reason, field="").rstrip(": ") for reason in Reason}
"""the Indonesian texts without parameters (dead letters, counters)"""


class BantarError(Exception):
    """Base of every error this project raises on purpose."""


class Rejected(BantarError):
    """An input was refused. ``reason`` is the stable code, ``detail`` one plain sentence."""

    def __init__(self, reason: Reason, detail: str, **params: object) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.params = params
        """fill the catalogue text (``explain``): e.g. ``field``"""


class RegistryError(BantarError):
    """The registry is invalid; the message names the file, the entry and the field."""


class StoreError(BantarError):
    """A store operation failed; nothing of the failed write was kept, so it may be retried."""
