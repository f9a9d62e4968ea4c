"""The sender: delivers the outbox through Apprise, once per alert, recipient, channel and stage.

Each pass claims due rows with a lease, sends them one message at a time (a digest's rows as one
message) and marks each message sent or failed in its own transaction, recording the attempt.
A failure is retried with exponential backoff for as long as it lasts. A sender that dies
leaves its rows leased: the same worker name takes them back at its next start, any other
sender after the lease expires.

The one window a crash can double a message is between a channel accepting it and the mark
being committed (one SQLite commit, milliseconds). It is bounded to the message in flight of
the sender that died; the message carries ``X-Bantar-Notification: <outbox ids>`` (email and
JSON webhooks) so a receiver can drop the repeat.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from urllib.parse import urlsplit

import apprise

from bantar.stores.alertbook import AlertBook, OutboxRow

log = logging.getLogger("bantar.sender")
HEADER_SCHEMES = {"json", "jsons", "mailto", "mailtos"}
"""Apprise services that take extra headers (``+Name=value`` in the URL)"""


@dataclass(frozen=True)
class SenderConfig:
    worker: str
    lease_s: float
    batch: int
    retry_base_s: float
    retry_max_s: float


@dataclass(frozen=True)
class Message:
    ids: tuple[int, ...]
    channel: str
    title: str
    body: str
    attachment: tuple[str, bytes] | None = None
    """(file name, content) of a scheduled report"""


def messages(rows: list[OutboxRow]) -> list[Message]:
    """One message per row, except rows of one digest: one message for all of them."""
    out = []
    for digest, group in groupby(sorted(rows, key=lambda r: (r.digest or "", r.id)), key=lambda r: r.digest):
        items = list(group)
        if digest is None:
            out += [
                Message(
                    (r.id,),
                    r.channel,
                    r.title,
                    r.body,
                    None if r.attachment is None else (r.attachment_name or "laporan", r.attachment),
                )
                for r in items
            ]
        else:
            title = digest.split("|", 3)[3]
            body = "\n\n".join(f"{i}. {r.title}\n{r.body}" for i, r in enumerate(items, 1))
            out.append(Message(tuple(r.id for r in items), items[0].channel, title, body))
    return sorted(out, key=lambda m: m.ids[0])


def with_header(url: str, ids: tuple[int, ...]) -> str:
    if urlsplit(url).scheme not in HEADER_SCHEMES:
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}+X-Bantar-Notification={'-'.join(map(str, ids))}"


def deliver(url: str, title: str, body: str, attachment: tuple[str, bytes] | None = None) -> str | None:
    """Send through Apprise; None when the channel accepted it, else why not (no URL in it)."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return "channel_url_invalid"
    with (
        tempfile.TemporaryDirectory(prefix="bantar-report-") as folder,
        apprise.LogCapture(level=logging.WARNING) as captured,  # type: ignore[no-untyped-call]  # apprise: no annotations
    ):
        attach = None
        if attachment is not None:
            path = Path(folder) / Path(attachment[0]).name
            path.write_bytes(attachment[1])
            attach = str(path)
        ok = notifier.notify(title=title, body=body, attach=attach)
    if ok:
        return None
    lines = [line for line in captured.getvalue().splitlines() if line.strip()]
    return _redact(lines[-1] if lines else "delivery_failed", url)[:300]


def _redact(text: str, url: str) -> str:
    """Keep secrets out of the attempt log: the URL and every part of its credentials."""
    parts = urlsplit(url)
    for secret in (url, parts.password, parts.username, parts.path.strip("/"), parts.query):
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


class Sender:
    def __init__(
        self,
        book: AlertBook,
        channels: Mapping[str, str],
        config: SenderConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.book, self.channels, self.config, self.clock = book, channels, config, clock

    def start(self) -> None:
        released = self.book.release(self.config.worker)
        if released:
            log.info("took back %d messages this sender had claimed before it stopped", released)

    def backoff_s(self, attempts: int) -> float:
        return float(min(self.config.retry_max_s, self.config.retry_base_s * 2 ** max(0, attempts)))

    def pass_once(self) -> tuple[int, int]:
        """Claim what is due and send it; (messages sent, messages failed)."""
        now_ms = int(self.clock() * 1000)
        rows = self.book.claim(self.config.worker, now_ms, int(self.config.lease_s * 1000), self.config.batch)
        attempts = {r.id: r.attempts for r in rows}
        sent = failed = 0
        for message in messages(rows):
            url = self.channels.get(message.channel)
            error = (
                "channel_not_configured"
                if url is None
                else deliver(with_header(url, message.ids), message.title, message.body, message.attachment)
            )
            done_ms = int(self.clock() * 1000)
            if error is None:
                self.book.mark_sent(message.ids, self.config.worker, done_ms)
                sent += 1
            else:
                retry_ms = done_ms + int(1000 * self.backoff_s(max(attempts[i] for i in message.ids)))
                self.book.mark_failed(message.ids, self.config.worker, done_ms, error, retry_ms)
                log.warning("channel %s: %s (messages %s; retry later)", message.channel, error, message.ids)
                failed += 1
        return sent, failed

    def run(self, stop: threading.Event, poll_s: float) -> None:
        self.start()
        while not stop.is_set():
            try:
                sent, _failed = self.pass_once()
            except Exception:  # keep delivering; leases return what this pass held
                log.exception("sender pass failed; will retry")
                sent = 0
            if not sent:
                stop.wait(poll_s)
