"""Log-rank test against R ``survdiff`` output and a hand-computed 2x2 example."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from oncotrial.stats import LogRank, StatsInputError, logrank

REF = Path(__file__).parent / "reference" / "stats"
FILES = {"lung": ("lung.csv", "time", "status"), "ovarian": ("ovarian.csv", "futime", "fustat"),
         "aml": ("aml.csv", "time", "status")}  # fmt: skip
R_ROWS = pl.read_csv(REF / "r_logrank.csv", infer_schema=False).to_dicts()


def near(actual: float, text: str) -> bool:
    return abs(actual - float(text)) <= 0.5 * 10.0 ** Decimal(text).as_tuple().exponent + 1e-12


def run(dataset: str, grouping: str) -> LogRank:
    name, time_col, status_col = FILES[dataset]
    frame = pl.read_csv(REF / name).drop_nulls(grouping)
    return logrank(frame[time_col], frame[status_col], frame[grouping])


@pytest.mark.parametrize(
    "key", sorted({(r["dataset"], r["grouping"]) for r in R_ROWS}), ids="-".join
)
def test_logrank_matches_r_survdiff(key: tuple[str, str]) -> None:
    res = run(*key)
    ref = [r for r in R_ROWS if (r["dataset"], r["grouping"]) == key]
    assert res.df == int(ref[0]["df"])
    assert near(res.statistic, ref[0]["chisq"])
    assert near(res.p_value, ref[0]["p_value"])
    labels = [str(g) if not isinstance(g, float) else f"{g:g}" for g in res.groups]
    assert labels == [r["group"] for r in ref]
    var = np.diag(np.array(res.variance))
    for i, r in enumerate(ref):
        o, e = res.observed[i], res.expected[i]
        assert res.n[i] == int(r["n"])
        assert o == float(r["observed"])
        assert near(e, r["expected"])
        assert near((o - e) ** 2 / e, r["oe2_e"])
        assert near((o - e) ** 2 / var[i], r["oe2_v"])


def test_two_group_statistic_equals_hand_computed_hypergeometric_sums() -> None:
    # a: events at 1, 3, 5; b: events at 2, 4, censored at 6. At each event time t:
    # E_a = n_a / n, V = n_a n_b / n^2 (one death, no ties)
    time = [1, 2, 3, 4, 5, 6]
    event = [1, 1, 1, 1, 1, 0]
    group = ["a", "b", "a", "b", "a", "b"]
    n_a = np.array([3, 2, 2, 1, 1])
    n = np.array([6, 5, 4, 3, 2])
    expected_a = np.sum(n_a / n)
    var = np.sum(n_a * (n - n_a) / n**2)
    chisq = (3 - expected_a) ** 2 / var
    res = logrank(time, event, group)
    assert res.groups == ("a", "b")
    assert res.observed == (3.0, 2.0)
    assert res.expected[0] == pytest.approx(expected_a, abs=1e-14)
    assert res.statistic == pytest.approx(chisq, abs=1e-12)
    assert res.p_value == pytest.approx(stats.chi2.sf(chisq, 1), abs=1e-14)


def test_tied_deaths_use_the_hypergeometric_variance_factor() -> None:
    # two deaths at t=1 among 4 (2 per group): V = d (n - d) / (n - 1) * n_a n_b / n^2 = 1/3
    res = logrank([1, 1, 2, 2], [1, 1, 0, 0], [0, 1, 0, 1])
    assert res.variance[0][0] == pytest.approx(2 * 2 / 3 * 2 * 2 / 16)
    assert res.statistic == pytest.approx(0.0)


def test_result_is_frozen_with_a_readable_repr_and_dict() -> None:
    res = logrank([1, 2, 3, 4], [1, 1, 1, 0], ["x", "y", "x", "y"])
    with pytest.raises(AttributeError):
        res.df = 2  # type: ignore[misc]
    assert repr(res).startswith("LogRank(chisq=")
    assert res.to_dict()["groups"] == ["x", "y"]


def test_logrank_needs_two_groups_and_matching_lengths() -> None:
    with pytest.raises(
        StatsInputError, match="group must have at least 2 distinct values, but had 1"
    ):
        logrank([1, 2], [1, 1], ["a", "a"])
    with pytest.raises(StatsInputError, match="time and group must have the same length"):
        logrank([1, 2, 3], [1, 1, 0], ["a", "b"])
    with pytest.raises(StatsInputError, match="group must not contain missing values"):
        logrank([1, 2, 3], [1, 1, 0], ["a", None, "b"])


def test_text_labels_differing_only_by_a_trailing_nul_stay_two_groups() -> None:
    # NumPy text arrays drop trailing NULs; the groups must still be "a" (events at 1, 3) and
    # "a\x00" (event at 2, censored at 4), as with any other two labels.
    res = logrank([1, 2, 3, 4], [1, 1, 1, 0], ["a", "a\x00", "a", "a\x00"])
    assert res.groups == ("a", "a\x00")
    assert res.observed == (2.0, 1.0)
    assert res.n == (2, 2)
