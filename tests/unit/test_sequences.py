from bantar.domain.sequences import SequenceTracker


def test_gaps_are_counted_once_and_late_arrivals_are_not_gaps() -> None:
    tracker = SequenceTracker({"bin-a": 10})
    assert tracker.observe("bin-a", 11) == 0
    assert tracker.observe("bin-a", 15) == 3
    assert tracker.observe("bin-a", 13) == 0  # late: filled a hole, not a new gap
    assert tracker.observe("bin-a", 15) == 0  # repeated
    assert tracker.observe("bin-b", 500) == 0  # first sighting
    assert tracker.observe("bin-b", 502) == 1


def test_a_jump_beyond_the_bound_is_a_reset_not_lost_messages() -> None:
    tracker = SequenceTracker({"bin-a": 10}, max_gap=1000)
    assert tracker.observe("bin-a", 2**53 - 1) == 0
    assert tracker.resets == {"bin-a": 1}
    assert tracker.observe("bin-a", 2**53 - 1) == 0
