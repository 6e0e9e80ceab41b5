"""The high-dimensional screen of an expression panel in the analysis pipeline:
``results.json["biomarkers"]["screen"]`` and the tables ``biomarker_screen_orr`` /
``biomarker_screen_pfs``.

The panel is a wide feature matrix (USUBJID + one numeric column per feature, read and validated
by :func:`oncotrial.biomarkers.read_feature_matrix` against ADSL's USUBJID: a subject of the
matrix that is not in ADSL is an error, never dropped). Two univariate screens, one model per
feature on its own complete cases (:mod:`oncotrial.stats.screen`):

* **ORR** -- :func:`oncotrial.stats.logistic_screen` of the confirmed responder (best overall
  response CR or PR from ADRS ``CBOR``, ``BOR`` when the protocol does not confirm; a subject
  without a record is a non-responder) among the response analysis set of the pooled population
  (``analysis.response_analysis_set``, enrolled subjects): the set and responders of
  ``results["ALL"]["orr"]``;
* **PFS** -- :func:`oncotrial.stats.cox_screen` (Efron ties) of ADTTE ``PARAMCD = PFS``
  (time AVAL in days, event CNSR = 0) among the pooled time-to-event analysis set
  (``analysis.tte_analysis_set``) with a PFS record.

Subjects of an analysis set without a row in the matrix cannot enter the screen and are counted
(``without_profile``); rows of the matrix outside the set (screen failures, subjects not
evaluable) are counted too (``outside_set``). Per endpoint the output gives the method, n,
events, the number of features with q < :data:`Q_THRESHOLD`, the counts of flagged features
(no estimate: ``constant``, ``too few events``, ``separation`` -- an infinite estimate --,
``not converged``) and the :data:`TOP` features by p. These analyses are **exploratory**;
the q-values are Benjamini-Hochberg (1995) across the features of each screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from oncotrial.analyze.results import ALL, cohort_frames
from oncotrial.biomarkers.matrix import read_feature_matrix
from oncotrial.errors import InputError, Problem
from oncotrial.protocol.model import Protocol
from oncotrial.stats import cox_screen, logistic_screen

Q_THRESHOLD = 0.05
TOP = 20
FLAGS = ("constant", "too few events", "separation", "not converged")
PFS = "PFS"
NOTE = (
    "Exploratory, hypothesis-generating screen: one univariate model per feature; p-values are "
    "not adjusted for the trial's design; q-values (Benjamini-Hochberg) are adjusted across the "
    "features of each endpoint's screen."
)
METHODS = {
    "orr": "logistic regression of the responder on each feature alone, with intercept (R glm "
    "binomial); odds ratio per unit of the feature, Wald interval and p (oncotrial.stats."
    "logistic_screen)",
    "pfs": "Cox proportional-hazards model of PFS on each feature alone, Efron ties (R coxph); "
    "hazard ratio per unit of the feature, Wald interval and p (oncotrial.stats.cox_screen)",
}


@dataclass(frozen=True)
class FeaturePanel:
    """A validated feature matrix: ``file`` (its name), ``matrix`` (USUBJID + Float64 features)."""

    file: str
    matrix: pl.DataFrame = field(repr=False)

    @property
    def features(self) -> list[str]:
        return [c for c in self.matrix.columns if c != "USUBJID"]

    def __repr__(self) -> str:
        return (
            f"FeaturePanel({self.file!r}, {self.matrix.height:,} subjects, "
            f"{len(self.features):,} features)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "subjects": self.matrix.height, "features": len(self.features)}


def read_feature_panel(path: str | Path, adsl: pl.DataFrame) -> FeaturePanel:
    """Read ``path`` (Parquet or CSV) with :func:`read_feature_matrix`, every subject checked
    against ADSL's USUBJID; raises :class:`~oncotrial.errors.InputError` naming file, row,
    variable and value."""
    subjects = adsl["USUBJID"].cast(pl.String) if "USUBJID" in adsl.columns else None
    if subjects is None:
        raise InputError(Problem("ADSL needs USUBJID", file="adsl", variable="USUBJID"),
                         title="cannot check the feature matrix")  # fmt: skip
    return FeaturePanel(Path(path).name, read_feature_matrix(path, subjects))


def compute_biomarker_screen(
    adam: dict[str, pl.DataFrame], panel: FeaturePanel, protocol: Protocol
) -> tuple[dict[str, Any], dict[str, pl.DataFrame]]:
    """``results.json["biomarkers"]["screen"]`` and the tables ``biomarker_screen_orr`` and
    ``biomarker_screen_pfs`` (the full screens, one row per feature in matrix order; rules in the
    module docstring). An endpoint whose ADaM dataset is absent is ``None``."""
    adsl = adam["adsl"].with_columns(pl.col("USUBJID").cast(pl.String))
    matrix = panel.matrix.with_columns(pl.col("USUBJID").cast(pl.String))
    unknown = matrix.join(adsl.select("USUBJID"), on="USUBJID", how="anti")
    if unknown.height:
        raise InputError([Problem("subject not found in ADSL", file=panel.file,
                                  variable="USUBJID", value=u)
                          for u in unknown["USUBJID"].head(20).to_list()],
                         title="invalid feature matrix")  # fmt: skip
    a = protocol.analysis
    pooled = cohort_frames(adsl, protocol)[ALL]
    level = a.conf_level
    data: dict[str, Any] = {
        "exploratory": True, "note": NOTE, "file": panel.file, "features": len(panel.features),
        "subjects": {"in_matrix": matrix.height, "not_in_adsl": 0},
        "q_threshold": Q_THRESHOLD, "top_n": TOP, "conf_level": level,
        "multiplicity": "Benjamini-Hochberg (1995) across the features of each screen",
    }  # fmt: skip
    tables: dict[str, pl.DataFrame] = {}
    orr = _responders(adam, pooled, protocol)
    pfs = _pfs(adam, pooled, protocol)
    for key, pop in (("orr", orr), ("pfs", pfs)):
        if pop is None:
            data[key] = None
            continue
        joined = pop.join(matrix, on="USUBJID", how="inner")
        if joined.height == 0:
            set_name = a.response_analysis_set if key == "orr" else a.tte_analysis_set
            raise InputError(Problem(f"no subject of the {key.upper()} analysis set ({set_name} "
                                     f"= Y, {pop.height} subjects) has a row in the matrix: "
                                     "nothing to screen", file=panel.file, variable="USUBJID"),
                             title="the feature matrix cannot be screened")  # fmt: skip
        X = joined.select(panel.features)
        if key == "orr":
            res = logistic_screen(joined["RESPONDER"].to_numpy(), X, conf_level=level)
        else:
            res = cox_screen(joined["AVAL"].to_numpy(), joined["EVENT"].to_numpy(), X,
                             conf_level=level)  # fmt: skip
        name = f"biomarker_screen_{key}"
        tables[name] = res
        data[key] = _summary(key, res, pop, joined, matrix, protocol) | {"table": name}
    return data, tables


def _responders(
    adam: dict[str, pl.DataFrame], pooled: pl.DataFrame, protocol: Protocol
) -> pl.DataFrame | None:
    """USUBJID, RESPONDER (0/1) of the pooled response analysis set (as ``results["ALL"]``)."""
    if adam.get("adrs") is None:
        return None
    from oncotrial.analyze.subgroups import subject_responders

    return (
        pooled.filter(pl.col(protocol.analysis.response_analysis_set) == "Y")
        .select("USUBJID")
        .join(subject_responders(adam, protocol).with_columns(pl.col("USUBJID").cast(pl.String)),
              on="USUBJID", how="left")
        .select("USUBJID", pl.col("_RSP").fill_null(False).cast(pl.Int64).alias("RESPONDER"))
        .sort("USUBJID")
    )  # fmt: skip


def _pfs(
    adam: dict[str, pl.DataFrame], pooled: pl.DataFrame, protocol: Protocol
) -> pl.DataFrame | None:
    """USUBJID, AVAL (days), EVENT (CNSR = 0) of PFS in the pooled time-to-event set."""
    adtte = adam.get("adtte")
    if adtte is None:
        return None
    ids = pooled.filter(pl.col(protocol.analysis.tte_analysis_set) == "Y").select("USUBJID")
    return (
        adtte.filter(pl.col("PARAMCD") == PFS)
        .select(
            pl.col("USUBJID").cast(pl.String),
            pl.col("AVAL").cast(pl.Float64),
            (pl.col("CNSR") == 0).cast(pl.Int64).alias("EVENT"),
        )  # fmt: skip
        .join(ids, on="USUBJID", how="semi")
        .unique("USUBJID", keep="first")
        .sort("USUBJID")
    )


def _num(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


def _summary(key: str, res: pl.DataFrame, pop: pl.DataFrame, joined: pl.DataFrame,
             matrix: pl.DataFrame, protocol: Protocol) -> dict[str, Any]:  # fmt: skip
    a = protocol.analysis
    ratio = "or" if key == "orr" else "hr"
    events = "RESPONDER" if key == "orr" else "EVENT"
    flags = res["flag"].value_counts()
    counts = dict(zip(flags["flag"].to_list(), flags["count"].to_list(), strict=True))
    top = (res.filter(pl.col("p").is_not_null()).sort("p", "feature").head(TOP)
           .select("feature", "n", ratio, "ci_low", "ci_high", "p", "q"))  # fmt: skip
    plotted = res.filter(pl.col("coef").is_finite() & pl.col("p").is_finite() & (pl.col("p") > 0))
    response = "CBOR" if protocol.response.confirmation else "BOR"
    return {
        "endpoint": key.upper(), "method": METHODS[key], "estimate": ratio,
        "analysis_set": a.response_analysis_set if key == "orr" else a.tte_analysis_set,
        "outcome": f"responder: {response} CR or PR" if key == "orr"
        else "ADTTE PARAMCD PFS: AVAL (days), event CNSR = 0",
        "n_analysis_set": pop.height, "n": joined.height,
        "events": int(joined[events].sum()),
        "without_profile": pop.height - joined.height,
        "outside_set": matrix.height - joined.height,
        "tested": int(res["p"].is_not_null().sum()),
        "significant": int((res["q"] < Q_THRESHOLD).sum()),
        "flagged": {f: int(counts.get(f, 0)) for f in FLAGS},
        "top": [{"feature": r["feature"], "n": r["n"], "estimate": _num(r[ratio]),
                 **{k: _num(r[k]) for k in ("ci_low", "ci_high", "p", "q")}}
                for r in top.to_dicts()],
        "volcano": {"x": f"log2 {ratio.upper()}", "y": "-log10 p", "drawn": plotted.height,
                    "left_out": res.height - plotted.height,
                    "highlighted": int((plotted["q"] < Q_THRESHOLD).sum())},
    }  # fmt: skip
