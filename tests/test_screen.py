"""cox_screen and logistic_screen: equal to one fit per feature (lifelines, statsmodels, our own
cox) on random data with tied times and missing values; the flags; BH q-values; validation."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.api as sm
from lifelines import CoxPHFitter

from oncotrial.stats import (
    StatsInputError,
    _screen_cox,
    _screen_logit,
    cox,
    cox_screen,
    logistic_screen,
    screen,
)
from oncotrial.stats.screen import benjamini_hochberg

TOL = 1e-6


def panel(seed: int, n: int = 120, p: int = 10, missing: float = 0.1):
    """Integer times 1..15 (many ties), ~60 % events, features on very different scales."""
    rng = np.random.default_rng(seed)
    time = rng.integers(1, 16, n).astype(float)
    event = rng.random(n) < 0.6
    x = rng.normal(size=(n, p)) * rng.uniform(0.2, 30, p) + rng.normal(size=p) * 5
    x[:, 1] = rng.integers(0, 2, n)  # a binary marker
    x[:, 2] = rng.integers(0, 4, n)  # few distinct values: many ties in x too
    x[rng.random((n, p)) < missing] = np.nan
    y = (rng.random(n) < 0.35).astype(float)
    return time, event, x, y


def lifelines_fit(time, event, col):
    ok = ~np.isnan(col)
    frame = pd.DataFrame({"T": time[ok], "E": event[ok].astype(int), "x": col[ok]})
    fitted = CoxPHFitter().fit(
        frame, "T", "E", fit_options={"precision": 1e-12, "r_precision": 1e-14}
    )
    return fitted.params_["x"], fitted.standard_errors_["x"]


def test_cox_screen_equals_lifelines_efron_per_feature_with_tied_times():
    time, event, x, _ = panel(1)
    res = cox_screen(time, event, x)
    assert res["flag"].null_count() == res.height
    for j in range(x.shape[1]):
        coef, se = lifelines_fit(time, event, x[:, j])
        assert res["coef"][j] == pytest.approx(coef, abs=TOL)
        assert res["se"][j] == pytest.approx(se, abs=TOL)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_screen_equals_own_cox_on_complete_cases_of_each_feature(ties):
    time, event, x, _ = panel(2, missing=0.25)
    res = cox_screen(time, event, x, ties=ties)
    for j in range(x.shape[1]):
        ok = ~np.isnan(x[:, j])
        one = cox(time[ok], event[ok], x[ok, j], ties=ties)
        row = res.row(j, named=True)
        assert row["n"] == ok.sum() and row["events"] == event[ok].sum()
        assert row["coef"] == pytest.approx(one.coef[0], abs=TOL)
        assert row["se"] == pytest.approx(one.se[0], abs=TOL)
        assert row["hr"] == pytest.approx(one.hr[0], rel=TOL)
        assert row["ci_low"] == pytest.approx(one.hr_ci_low[0], rel=TOL)
        assert row["ci_high"] == pytest.approx(one.hr_ci_high[0], rel=TOL)
        assert row["p"] == pytest.approx(one.p[0], abs=TOL)


def test_logistic_screen_equals_statsmodels_logit_per_feature():
    _, _, x, y = panel(3, missing=0.2)
    res = logistic_screen(y, x)
    for j in range(x.shape[1]):
        ok = ~np.isnan(x[:, j])
        start = [np.log(y[ok].mean() / (1 - y[ok].mean())), 0.0]
        fit = sm.Logit(y[ok], sm.add_constant(x[ok, j])).fit(
            start_params=start, disp=0, method="newton", tol=1e-12, maxiter=100
        )
        row = res.row(j, named=True)
        assert row["n"] == ok.sum() and row["events"] == y[ok].sum()
        assert row["coef"] == pytest.approx(fit.params[1], abs=TOL)
        assert row["se"] == pytest.approx(fit.bse[1], abs=TOL)
        assert row["p"] == pytest.approx(fit.pvalues[1], abs=TOL)
        assert row["or"] == pytest.approx(np.exp(fit.params[1]), rel=TOL)
        low, high = np.exp(fit.conf_int()[1])
        assert row["ci_low"] == pytest.approx(low, rel=TOL)
        assert row["ci_high"] == pytest.approx(high, rel=TOL)


def test_results_do_not_depend_on_threads_and_block_size_only_in_rounding(monkeypatch):
    time, event, x, y = panel(4, p=30)
    cox_default, logit_default = cox_screen(time, event, x), logistic_screen(y, x)
    monkeypatch.setattr(screen, "MAX_THREADS", 1)
    assert cox_screen(time, event, x).equals(cox_default)
    assert logistic_screen(y, x).equals(logit_default)
    monkeypatch.setattr(screen, "COX_BLOCK", 3 * x.shape[0])
    monkeypatch.setattr(screen, "LOGIT_BLOCK", 7 * x.shape[0])
    for small, default in ((cox_screen(time, event, x), cox_default),
                           (logistic_screen(y, x), logit_default)):  # fmt: skip
        assert small["flag"].equals(default["flag"])
        assert small["coef"].to_numpy() == pytest.approx(default["coef"].to_numpy(), abs=1e-12)


def test_polars_frame_gives_names_and_nulls_are_missing_values():
    time, event, x, y = panel(5, p=3)
    frame = pl.DataFrame({"TMB": x[:, 0], "HER2": x[:, 1], "CPS": x[:, 2]})
    res = cox_screen(time, event, frame)
    assert res["feature"].to_list() == ["TMB", "HER2", "CPS"]
    assert res.drop("feature").equals(cox_screen(time, event, x).drop("feature"))
    named = logistic_screen(y, x, feature_names=["a", "b", "c"])
    assert named["feature"].to_list() == ["a", "b", "c"]


def test_constant_and_all_missing_features_are_flagged_not_fitted():
    time = np.array([1.0, 2, 3, 4, 5, 6])
    event = np.array([1, 1, 0, 1, 1, 0])
    x = np.array(
        [
            [3, np.nan, 1],
            [3, np.nan, 2],
            [3, np.nan, 1],
            [3, np.nan, 3],
            [3, np.nan, 1],
            [3, np.nan, 2],
        ]
    )
    res = cox_screen(time, event, x)
    assert res["flag"].to_list() == ["constant", "constant", None]
    assert res["coef"][0] is None and res["p"][0] is None and res["q"][0] is None
    assert res["n"].to_list() == [6, 0, 6]
    logit = logistic_screen([0, 1, 0, 1, 1, 0], x)
    assert logit["flag"].to_list() == ["constant", "constant", None]


def test_feature_observed_only_in_censored_subjects_has_too_few_events():
    time = np.array([1.0, 2, 3, 4, 5, 6])
    event = np.array([1, 1, 0, 1, 0, 0])
    x = np.array([[np.nan], [np.nan], [1.0], [np.nan], [2.0], [3.0]])
    res = cox_screen(time, event, x)
    assert res["flag"][0] == "too few events" and res["events"][0] == 0
    logit = logistic_screen([1, 1, 0, 0, 0, 0], x)
    assert logit["flag"][0] == "too few events"  # complete cases are all non-responders


def test_events_with_the_largest_value_of_their_risk_set_give_monotone_likelihood():
    # every event has the highest value among those still at risk: the HR estimate is infinite
    time = np.array([1.0, 2, 3, 4, 5, 6])
    event = np.array([1, 0, 1, 1, 0, 1])
    x = np.column_stack([[9.0, 1, 8, 7, 2, 5], [1.0, 9, 2, 3, 8, 5], [1.0, 9, 8, 2, 3, 5]])
    res = cox_screen(time, event, x)
    assert res["flag"].to_list() == ["separation", "separation", None]
    assert res["converged"].to_list() == [False, False, True]


def test_complete_and_quasi_complete_separation_are_flagged():
    y = np.array([0, 0, 0, 1, 1, 1])
    x = np.column_stack(
        [
            [1.0, 2, 3, 4, 5, 6],  # complete separation
            [1.0, 2, 3, 3, 5, 6],  # quasi-complete: overlap at one value only
            [6.0, 5, 4, 3, 2, 1],  # reversed
            [1.0, 4, 3, 2, 5, 6],  # overlap: finite estimate
        ]
    )
    res = logistic_screen(y, x)
    assert res["flag"].to_list() == ["separation", "separation", "separation", None]
    assert res["q"].to_list()[:3] == [None, None, None]


def test_a_feature_that_needs_more_iterations_than_allowed_is_not_converged(monkeypatch):
    time, event, x, y = panel(6, p=3, missing=0.0)
    x = x[:, [0, 2]]
    monkeypatch.setattr(_screen_cox, "MAX_ITER", 1)
    monkeypatch.setattr(_screen_logit, "MAX_ITER", 1)
    for res in (cox_screen(time, event, x), logistic_screen(y, x)):
        assert res["flag"].to_list() == ["not converged", "not converged"]
        assert res["converged"].to_list() == [False, False]
        assert res["coef"].null_count() == 2


def test_bh_q_values_step_up_as_r_p_adjust():
    # sorted p 0.01, 0.03, 0.04, 0.20 times m / rank = 0.04, 0.06, 0.0533, 0.20; running
    # minimum from the largest: 0.04, 0.0533, 0.0533, 0.20 (R: p.adjust(p, "BH"))
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.20, np.nan])
    assert q[:4] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20], abs=1e-15)
    assert np.isnan(q[4])
    assert benjamini_hochberg([0.01, 0.02, 0.03, 0.04, 0.05]) == pytest.approx([0.05] * 5)


def test_q_values_of_a_screen_count_only_features_with_a_p_value():
    time, event, x, _ = panel(7, p=4, missing=0.0)
    x[:, 3] = 1.0
    res = cox_screen(time, event, x)
    assert res["q"].to_list()[:3] == pytest.approx(list(benjamini_hochberg(res["p"][:3])))


def test_bad_input_lists_every_problem():
    x = np.array([[1.0, np.inf], [2.0, 1.0], [3.0, 0.0]])
    with pytest.raises(StatsInputError) as err:
        cox_screen([1, 2, -3, 4], [1, 0, 1, 1], x, ties="exact", feature_names=["a", "a"])
    message = str(err.value)
    for part in ("time must be >= 0", "ties must be one of", "one row per subject (4)",
                 "infinite", "must be unique"):  # fmt: skip
        assert part in message
    with pytest.raises(StatsInputError, match="'ID' \\(String\\)"):
        logistic_screen([0, 1], pl.DataFrame({"ID": ["a", "b"], "x": [1.0, 2.0]}))
    with pytest.raises(StatsInputError, match="y must be 0 or 1"):
        logistic_screen([0, 2], [[1.0], [2.0]])


def test_no_features_gives_an_empty_frame_with_the_columns():
    res = cox_screen([1, 2, 3], [1, 0, 1], np.empty((3, 0)))
    assert res.height == 0
    assert res.columns == ["feature", "n", "events", "coef", "se", "hr", "ci_low", "ci_high",
                           "z", "p", "q", "converged", "flag"]  # fmt: skip


def test_docstring_examples_run():
    result = doctest.testmod(screen, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def statsmodels_logit(y, col):
    ok = ~np.isnan(col)
    start = [np.log(y[ok].mean() / (1 - y[ok].mean())), 0.0]
    fit = sm.Logit(y[ok], sm.add_constant(col[ok])).fit(
        start_params=start, disp=0, method="newton", tol=1e-12, maxiter=100
    )
    return fit.params[1], fit.bse[1]


def spy_on_evaluations(monkeypatch):
    """Number of features in each batch evaluation of p (one entry per evaluation)."""
    sizes = []
    evaluate = _screen_logit.evaluate

    def spy(blk, a, b):
        sizes.append(blk.x.shape[1])
        return evaluate(blk, a, b)

    monkeypatch.setattr(_screen_logit, "evaluate", spy)
    return sizes


def test_a_feature_that_converges_late_is_still_polished_after_the_others_stop(monkeypatch):
    rng = np.random.default_rng(11)
    y = (rng.random(300) < 0.4).astype(float)
    x = rng.normal(size=(300, 6)) * [1, 2, 0.5, 10, 1, 1]
    x[:, 5] = 3 * y + rng.normal(size=300)  # strong effect: far from the start, many steps
    x[rng.random(x.shape) < 0.05] = np.nan
    sizes = spy_on_evaluations(monkeypatch)
    res = logistic_screen(y, x)
    assert sizes[0] == 6 and sizes[-1] == 1  # the last evaluations are of feature 6 alone
    assert res["converged"].all()
    for j in range(6):
        coef, se = statsmodels_logit(y, x[:, j])
        assert res["coef"][j] == pytest.approx(coef, abs=TOL)
        assert res["se"][j] == pytest.approx(se, abs=TOL)


def test_fourth_order_first_step_lets_one_evaluation_confirm_modest_effects(monkeypatch):
    # slopes about -0.06: the expanded score equation lands within 1e-7 of the estimate, so the
    # first evaluation of p already gives a Newton step below the tolerance
    rng = np.random.default_rng(13)
    y = (rng.random(400) < 0.3).astype(float)
    x = rng.normal(size=(400, 2)) + 0.1 * y[:, None]
    sizes = spy_on_evaluations(monkeypatch)
    res = logistic_screen(y, x)
    assert sizes == [2]
    for j in range(2):
        coef, se = statsmodels_logit(y, x[:, j])
        assert res["coef"][j] == pytest.approx(coef, abs=TOL)
        assert res["se"][j] == pytest.approx(se, abs=TOL)


def test_the_estimate_does_not_depend_on_the_unit_of_the_feature():
    # the same marker in units 1e70, 1e6, 1e-3 and 1e-70 times the first: slope and standard
    # error scale exactly (the convergence test is on b sd(x)); at 1e70 the moment sum x^5
    # of the fourth-order first step overflows and Newton's step is taken instead
    _, _, x, y = panel(8, p=3, missing=0.0)
    units = np.array([1.0, 1e70, 1e6, 1e-3, 1e-70])
    res = logistic_screen(y, x[:, [0]] * units)
    assert res["converged"].all()
    coef, se = res["coef"].to_numpy() * units, res["se"].to_numpy() * units
    assert coef == pytest.approx(np.full(5, coef[0]), rel=1e-9)
    assert se == pytest.approx(np.full(5, se[0]), rel=1e-9)
