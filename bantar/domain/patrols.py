"""Whether a patrol check-in may be recorded: at one of the RT's own checkpoints, during an open
duty of the post that scanned it. Pure.

Judged by the scan's own time, not by when it reached the server: a phone records entries
offline and sends them later, in the order they were made, so the duty start is already stored
when its patrols arrive. A duty runs from its start to its end, both included (a scan in the
same second as either belongs to the duty); a start further back than ``DUTY_SPAN`` no longer
covers a scan (a forgotten end does not keep the post on duty for days)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import timedelta

from bantar.domain.errors import Reason
from bantar.kinds.poskamling import PoskamlingRow

DUTY_SPAN = timedelta(hours=24)
DUTY_SPAN_MS = int(DUTY_SPAN.total_seconds() * 1000)


def on_duty_at(reports: Iterable[PoskamlingRow], at_ms: int) -> bool:
    """Whether the post's duty reports (any order; other events are ignored) leave it on duty at ``at_ms``."""
    duties = sorted(
        (r.ts_ms, r.seq, bool(r.on_duty))
        for r in reports
        if r.event == "duty" and at_ms - DUTY_SPAN_MS <= r.ts_ms <= at_ms
    )
    if any(on for ts, _, on in duties if ts == at_ms):
        return True  # started in the scan's own second
    earlier = [on for ts, _, on in duties if ts < at_ms]
    return bool(earlier) and earlier[-1]


def patrol_refusal(
    checkpoint: str, at_ms: int, reports: Iterable[PoskamlingRow], own: Collection[str], elsewhere: Collection[str]
) -> Reason | None:
    """Why a patrol check-in at ``checkpoint`` (an id) cannot be recorded, or None when it can.
    ``own``: the RT's checkpoint ids; ``elsewhere``: the ids other RTs registered."""
    if checkpoint not in own:
        return Reason.checkpoint_other_rt if checkpoint in elsewhere else Reason.unknown_checkpoint
    if not on_duty_at(reports, at_ms):
        return Reason.patrol_outside_duty
    return None
