"""The patrol rule on its own: a checkpoint of the RT, during an open duty of the post, judged by
the scan's own time (``bantar.domain.patrols``)."""

from __future__ import annotations

from bantar.domain.errors import Reason
from bantar.domain.patrols import DUTY_SPAN_MS, on_duty_at, patrol_refusal
from bantar.kinds.poskamling import PoskamlingRow

POST = "1571010001-001-web-poskamling"
S = 1000  # ms


def duty(at_s: int, on: bool, seq: int) -> PoskamlingRow:
    return PoskamlingRow(POST, at_s * S, "duty", on, 2, seq)


SHIFT = [duty(100, True, 1), PoskamlingRow(POST, 150 * S, "patrol", None, None, 2), duty(200, False, 3)]


def test_a_duty_covers_its_start_to_its_end_both_included() -> None:
    assert [on_duty_at(SHIFT, at * S) for at in (99, 100, 150, 200, 201)] == [False, True, True, True, False]


def test_the_order_reports_arrive_in_does_not_matter() -> None:
    assert on_duty_at(list(reversed(SHIFT)), 150 * S)


def test_a_forgotten_end_stops_covering_after_a_day() -> None:
    started = [duty(0, True, 1)]
    assert on_duty_at(started, DUTY_SPAN_MS)
    assert not on_duty_at(started, DUTY_SPAN_MS + 1)


def test_an_end_and_a_start_in_the_same_second_keep_the_post_on_duty() -> None:
    handover = [duty(100, True, 1), duty(200, False, 2), duty(200, True, 3)]
    assert on_duty_at(handover, 200 * S)
    assert on_duty_at(handover, 250 * S)


def test_the_checkpoint_is_judged_before_the_duty() -> None:
    own, elsewhere = {"cp-1"}, {"cp-9"}
    assert patrol_refusal("cp-1", 150 * S, SHIFT, own, elsewhere) is None
    assert patrol_refusal("cp-1", 250 * S, SHIFT, own, elsewhere) is Reason.patrol_outside_duty
    assert patrol_refusal("cp-9", 150 * S, SHIFT, own, elsewhere) is Reason.checkpoint_other_rt
    assert patrol_refusal("cp-2", 250 * S, SHIFT, own, elsewhere) is Reason.unknown_checkpoint
