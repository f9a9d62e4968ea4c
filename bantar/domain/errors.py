"""Why an input was refused: one stable snake_case code per rule.

The same ``Reason`` code is used in dead letters, counters, HTTP 4xx bodies and the Bahasa
Indonesia text catalogue (``REASON_TEXT_ID``), so operators see one vocabulary everywhere.

Exception tree::

    BantarError                 anything this project raises on purpose
    ├── Rejected                an input (MQTT message or HTTP post) refused; carries a Reason
    ├── RegistryError           the registry file is invalid (names file, entry and field)
    └── StoreError              the store could not complete a write or read (retryable)
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    payload_too_large = "payload_too_large"
    not_utf8 = "not_utf8"
    malformed_json = "malformed_json"
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
    # the field app (people's entries): sign-in, bank sampah bookkeeping, patrols
    sign_in_code_unknown = "sign_in_code_unknown"
    sign_in_code_used = "sign_in_code_used"
    sign_in_code_expired = "sign_in_code_expired"
    token_revoked = "token_revoked"  # noqa: S105 (a reason code, not a secret)
    unknown_member = "unknown_member"
    insufficient_balance = "insufficient_balance"
    not_a_checkpoint = "not_a_checkpoint"
    checkpoint_other_rt = "checkpoint_other_rt"
    patrol_outside_duty = "patrol_outside_duty"


REASON_TEXT_ID: dict[Reason, str] = {
    Reason.payload_too_large: "Pesan terlalu besar",
    Reason.not_utf8: "Pesan bukan teks UTF-8",
    Reason.malformed_json: "Pesan bukan JSON yang sah",
    Reason.missing_field: "Kolom wajib tidak ada",
    Reason.unexpected_field: "Ada kolom yang tidak dikenal",
    Reason.not_finite: "Angka harus terhingga (bukan NaN atau tak hingga)",
    Reason.out_of_range: "Nilai di luar batas yang diizinkan",
    Reason.invalid_field: "Isi kolom tidak sah",
    Reason.bad_topic: "Topik MQTT tidak sesuai format bantar/v1/<id_perangkat>/<jenis>",
    Reason.unknown_device: "Perangkat tidak terdaftar",
    Reason.kind_mismatch: "Jenis perangkat pada topik tidak sesuai registri",
    Reason.device_inactive: "Perangkat sudah dinonaktifkan",
    Reason.wrong_channel: "Perangkat ini tidak melapor lewat jalur ini",
    Reason.timestamp_out_of_window: "Waktu perangkat di luar rentang yang diterima",
    Reason.sequence_conflict: "Nomor urut sudah dipakai untuk data yang berbeda",
    Reason.sign_in_code_unknown: "Kode masuk tidak dikenal: periksa tautan atau minta kode baru",
    Reason.sign_in_code_used: "Kode masuk ini sudah dipakai: minta kode baru kepada ketua RT atau admin",
    Reason.sign_in_code_expired: "Kode masuk ini sudah kedaluwarsa: minta kode baru kepada ketua RT atau admin",
    Reason.token_revoked: "Akses ponsel ini sudah dicabut: minta kode masuk baru kepada ketua RT atau admin",
    Reason.unknown_member: "Anggota tidak terdaftar di RT ini atau sudah dihapus",
    Reason.insufficient_balance: "Saldo tidak cukup untuk penarikan ini",
    Reason.not_a_checkpoint: "Kode QR ini bukan kode titik patroli BANTAR",
    Reason.checkpoint_other_rt: "Kode titik patroli ini milik RT lain",
    Reason.patrol_outside_duty: "Patroli hanya bisa dicatat saat jaga: mulai jaga dulu",
}


class BantarError(Exception):
    """Base of every error this project raises on purpose."""


class Rejected(BantarError):
    """An input was refused. ``reason`` is the stable code, ``detail`` one plain sentence."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class RegistryError(BantarError):
    """The registry is invalid; the message names the file, the entry and the field."""


class StoreError(BantarError):
    """A store operation failed; nothing of the failed write was kept, so it may be retried."""
