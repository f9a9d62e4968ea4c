from bantar.domain.assessment import ALL_CRITERIA, Agency, MemberScore, RecapRule, recap


def scores(criterion: str, values: list[int]) -> list[MemberScore]:
    return [
        MemberScore(member_id=str(i), member_name=f"m{i}", agency=Agency.dlh, criterion=criterion, score=v)
        for i, v in enumerate(values)
    ]


def test_mean_rounds_half_up_and_majority_breaks_ties_low() -> None:
    assert recap(scores("bersih.a", [1, 2]), {}, RecapRule.mean).criteria[0].result == 2
    assert recap(scores("bersih.a", [0, 1, 1]), {}, RecapRule.mean).criteria[0].result == 1
    assert recap(scores("bersih.a", [1, 2]), {}, RecapRule.majority).criteria[0].result == 1
    assert recap(scores("bersih.a", [2, 2, 0]), {}, RecapRule.majority).criteria[0].result == 2


def test_the_bar_needs_every_criterion_and_seventy_percent() -> None:
    all_ones = [s for c in ALL_CRITERIA for s in scores(c, [1])]
    assert recap(all_ones, {}, RecapRule.mean).meets_bar is False  # 21 of 42
    all_twos_but_one_zero = [s for c in ALL_CRITERIA for s in scores(c, [0 if c == "aman.g" else 2])]
    assert recap(all_twos_but_one_zero, {}, RecapRule.mean).meets_bar is False
    assert recap(scores("bersih.a", [2]), {}, RecapRule.mean).complete is False
