"""One vocabulary of refusals, each with its Indonesian and English text."""

from __future__ import annotations

from bantar.domain.errors import CATALOGUE, Reason, explain


def test_every_reason_has_both_texts_and_takes_its_parameters() -> None:
    assert set(CATALOGUE) == set(Reason)
    for reason, text in CATALOGUE.items():
        assert text.id.strip(), reason
        assert text.en.strip(), reason
    assert explain(Reason.duplicate_key, field="seq") == "Ada kolom yang muncul lebih dari sekali: seq"
    assert explain(Reason.duplicate_key, "en", field="seq") == "a field appears more than once: seq"
    assert "?" in explain(Reason.rate_limited)  # a missing parameter shows, it does not raise
