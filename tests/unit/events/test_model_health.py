"""A model's health: AUC by ranks, deciles and calibration, on cases worked by hand."""

import pytest

from services.events.decisions.health import auc, calibration_error, deciles


def test_auc_counts_the_pairs_ranked_right_with_ties_half() -> None:
    # Positives at 0.2 and 0.4, negatives at 0.1 and 0.3: three of four pairs ranked right.
    assert auc([(0.1, False), (0.2, True), (0.3, False), (0.4, True)]) == pytest.approx(0.75)
    # One positive tied with one negative at 0.5, above the other negative: 1.5 of 2.
    assert auc([(0.5, True), (0.5, False), (0.1, False)]) == pytest.approx(0.75)
    assert auc([(0.3, True), (0.4, True)]) is None


def test_deciles_split_the_responses_evenly_by_propensity_and_show_the_gap() -> None:
    scored = [(n / 100, n % 10 == 0) for n in range(100)]
    groups = deciles(scored)
    assert [g.responses for g in groups] == [10] * 10
    assert [g.accepted for g in groups] == [1] * 10
    assert groups[0].mean_propensity == pytest.approx(0.045)
    assert groups[9].mean_propensity == pytest.approx(0.945)
    # Foretold 0.045 … 0.945 (mean 0.495) against 0.1 seen in each: the mean absolute gap.
    expected = sum(abs(g.mean_propensity - 0.1) for g in groups) / 10
    assert calibration_error(groups) == pytest.approx(expected)
    assert calibration_error([]) is None
