from bantar.domain.sequences import SequenceTracker


def test_gaps_are_counted_once_and_late_arrivals_are_not_gaps() -> None:
    tracker = SequenceTracker({"bin-a": 10})
    assert tracker.observe("bin-a", 11) == 0
    assert tracker.observe("bin-a", 15) == 3
    assert tracker.observe("bin-a", 13) == 0  # late: filled a hole, not a new gap
    assert tracker.observe("bin-a", 15) == 0  # repeated
    assert tracker.observe("bin-b", 500) == 0  # first sighting
    assert tracker.observe("bin-b", 502) == 1
