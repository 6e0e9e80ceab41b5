"""Time to deterioration (TTD) of each QLQ scale, as ADTTE parameters ``TTD_<scale>``.

Definitions follow Anota et al. (Qual Life Res 2015;24:5-18) as implemented in QoLR ``TTD()`` /
``TUDD()`` (cran/QoLR; Hamidou et al. 2011), with the choices a protocol makes set in
``protocol.pro`` (their heterogeneity across trials: Charton et al., Qual Life Res
2020;29:867-878):

* Worsening direction: a decrease for functional scales, global health status and the C30
  summary score (higher = better), an increase for symptom scales and every QLQ-OES18 scale
  (EORTC QLQ-C30 Scoring Manual, 3rd ed., 2001).
* Reference (``reference``): the baseline score (ADQS BASE), or the best previous score (the best
  of baseline and every earlier post-baseline score; QoLR ``ref.init = "best"``).
* Deterioration at an assessment: a worsening from the reference of at least
  ``deterioration_threshold`` points (default 10, Osoba et al., JCO 1998;16:139-144).
* ``first``: the event is the first assessment with a deterioration (TTD).
* ``definitive``: the first deteriorated assessment after which every later assessment is still
  deteriorated, i.e. the score never comes back within the threshold (time until definitive
  deterioration, TUDD; QoLR ``ref.def = "def2"``). A deterioration at the last available
  assessment is definitive.
* Death without deterioration is an event when ``death_is_event`` (date DTHDT), else the subject
  is censored at the last QoL assessment (QoLR ``death`` / sensitivity analyses).
* No baseline score (``missing_baseline``): censored at STARTDT (day 1, QoLR
  ``no_baseline = "censored"``) or no record at all (``"exclude"``).
* No post-baseline score: censored at STARTDT (QoLR ``no_follow = "censored"``).
* Otherwise censored at the last post-baseline assessment of the scale (at least STARTDT).

Post-baseline assessments are the scorable ADQS records with a CHG (ADT after first dose).
AVAL = ADT - STARTDT + 1 days; CNSR 0 = event, 1 = censored. One record per subject with a
STARTDT and per scale present in ADQS.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from oncotrial.derive.adqs import PARAMS
from oncotrial.derive.runs import per_run
from oncotrial.protocol.model import Protocol

EPS = 1e-9
_HIGHER_IS_BETTER = ("functional", "global", "summary")


def _posts(adqs: pl.DataFrame) -> pl.DataFrame:
    """Post-baseline scorable records with their badness b (higher = worse)."""
    sign = (
        pl.when(pl.col("PARAMTYP").is_in(_HIGHER_IS_BETTER))
        .then(pl.lit(-1.0))
        .otherwise(pl.lit(1.0))
    )
    cols = ["USUBJID", "PARCAT1", "PARAMCD", "ADT", "AVISITN", "_ROW", "AVAL", "BASE", "CHG"]
    codes = adqs["PARAMCD"].drop_nulls().unique().sort()
    post = (
        adqs.select(cols)
        .filter(pl.col("CHG").is_not_null() & pl.col("AVAL").is_not_null())
        .join(PARAMS.select("PARCAT1", "PARAMCD", "PARAMTYP"), on=["PARCAT1", "PARAMCD"])
        .with_columns(_S=sign)
    )
    return post.with_columns(
        _B=pl.col("AVAL") * pl.col("_S"),
        _BB=pl.col("BASE") * pl.col("_S"),
        # Integer codes in text order: the same sort as on USUBJID, PARAMCD, much faster. ADQS
        # is in subject order, so the subject's rank is taken once per run of records.
        _SU=per_run(post["USUBJID"], lambda v: v.rank("dense")),
        _SP=pl.col("PARAMCD").replace_strict(
            codes, pl.int_range(codes.len(), eager=True), return_dtype=pl.Int64
        ),
    ).sort(["_SU", "_SP", "ADT", "AVISITN", "_ROW"], nulls_last=True)


def compute_deterioration(
    adqs: pl.DataFrame, threshold: float, reference: str, definitive: bool
) -> pl.DataFrame:
    """Post-baseline ADQS records with DETFL (deteriorated at that assessment) and EVFL (the
    assessment that is the deterioration event), per the rules in the module docstring."""
    post = _posts(adqs if "_ROW" in adqs.columns else adqs.with_columns(_ROW=pl.lit(0)))
    # The records are sorted by subject and scale: number each (USUBJID, PARAMCD) run once and
    # window over that integer, which is the same grouping and much faster than the two texts.
    new_key = pl.col("_SU").ne_missing(pl.col("_SU").shift(1)) | pl.col("_SP").ne_missing(
        pl.col("_SP").shift(1)
    )
    post = post.with_columns(_G=new_key.cum_sum())
    by = "_G"
    if reference == "baseline":
        ref = pl.col("_BB")
    else:
        previous = pl.col("_B").cum_min().shift(1).over(by)
        ref = pl.min_horizontal(pl.col("_BB"), previous)
    det = (pl.col("_B") - ref) >= threshold - EPS
    post = post.with_columns(DETFL=det.fill_null(False))
    if definitive:
        stays = pl.col("DETFL").cast(pl.Int8).cum_min(reverse=True).over(by) == 1
        post = post.with_columns(_Q=pl.col("DETFL") & stays)
    else:
        post = post.with_columns(_Q=pl.col("DETFL"))
    # the first qualifying record of its group: a hash check, no window
    first = pl.col("_Q") & pl.when("_Q").then(pl.col(by)).is_first_distinct()
    return post.with_columns(EVFL=first).drop("_Q", "_S", "_B", "_BB", "_G", "_SU", "_SP")


@dataclass(frozen=True)
class TtdParts:
    """What TTD needs from ADQS, per subject and scale: the deterioration date (_EVDT), the last
    post-baseline date (_LASTDT), whether there is a baseline (_HASBL), and the scales present.
    Parts of disjoint sets of subjects (chunks of ADQS) add up with :meth:`combine`."""

    events: pl.DataFrame
    last: pl.DataFrame
    base: pl.DataFrame
    scales: pl.DataFrame

    @staticmethod
    def combine(parts: list[TtdParts]) -> TtdParts:
        events, last, base = (
            pl.concat([getattr(p, n) for p in parts]) for n in ("events", "last", "base")
        )
        return TtdParts(events, last, base, pl.concat([p.scales for p in parts]).unique())


def compute_ttd_parts(adqs: pl.DataFrame, protocol: Protocol) -> TtdParts:
    """The per-subject inputs of :func:`derive_param_ttd` from (a chunk of whole subjects of)
    ADQS."""
    pro = protocol.pro
    by = ["USUBJID", "PARAMCD"]
    definitive = pro.deterioration == "definitive"
    post = compute_deterioration(adqs, pro.deterioration_threshold, pro.reference, definitive)
    # post is sorted by subject and scale: each (USUBJID, PARAMCD) is one run of records
    run = (pl.col("USUBJID").ne_missing(pl.col("USUBJID").shift(1))) | pl.col("PARAMCD").ne_missing(
        pl.col("PARAMCD").shift(1)
    )
    return TtdParts(
        events=post.filter("EVFL").select(*by, pl.col("ADT").alias("_EVDT")),
        last=post.select(*by, "ADT", run.cum_sum().alias("_G"))
        .group_by("_G")
        .agg(*[pl.col(c).first() for c in by], pl.col("ADT").max().alias("_LASTDT"))
        .drop("_G"),
        base=adqs.select(*by, "ABLFL", "BASE")
        .filter((pl.col("ABLFL") == "Y") & pl.col("BASE").is_not_null())
        .select(*by)
        .unique()
        .with_columns(_HASBL=pl.lit(True)),
        scales=adqs.select("PARCAT1", "PARAMCD").unique(),
    )


def derive_param_ttd(
    adqs: pl.DataFrame | TtdParts, adsl: pl.DataFrame, protocol: Protocol
) -> pl.DataFrame:
    """ADTTE records ``TTD_<scale>`` from ADQS (or its :class:`TtdParts`) and ADSL (rules in the
    module docstring).

    Columns: STUDYID, USUBJID, COHORT, PARAMCD, PARAM, PARCAT1, STARTDT, ADT, AVAL, AVALU, CNSR,
    EVNTDESC, CNSDTDSC, SRCDOM, SRCVAR.
    """
    pro = protocol.pro
    thr = pro.deterioration_threshold
    definitive = pro.deterioration == "definitive"
    by = ["USUBJID", "PARAMCD"]
    parts = adqs if isinstance(adqs, TtdParts) else compute_ttd_parts(adqs, protocol)
    events, last, base = parts.events, parts.last, parts.base
    scales = parts.scales.join(
        PARAMS.select("PARCAT1", "PARAMCD", "PARAM", "_PORD"), on=["PARCAT1", "PARAMCD"]
    )
    keep = [c for c in ("STUDYID", "COHORT") if c in adsl.columns]
    death = pl.col("DTHDT") if "DTHDT" in adsl.columns else pl.lit(None, pl.Date)
    subjects = adsl.filter(pl.col("STARTDT").is_not_null()).select(
        "USUBJID", *keep, "STARTDT", death.alias("_DTHDT")
    )
    grid = (
        subjects.join(scales, how="cross")
        .join(base, on=by, how="left")
        .join(events, on=by, how="left")
        .join(last, on=by, how="left")
        .with_columns(pl.col("_HASBL").fill_null(False))
    )
    if pro.missing_baseline == "exclude":
        grid = grid.filter("_HASBL")
    start = pl.col("STARTDT")
    use_death = (
        pl.lit(pro.death_is_event)
        & pl.col("_HASBL")
        & pl.col("_EVDT").is_null()
        & pl.col("_DTHDT").is_not_null()
        & (pl.col("_DTHDT") >= start)
    )
    kind = (
        pl.when(~pl.col("_HASBL"))
        .then(pl.lit("nobase"))
        .when(pl.col("_EVDT").is_not_null())
        .then(pl.lit("det"))
        .when(use_death)
        .then(pl.lit("death"))
        .when(pl.col("_LASTDT").is_null())
        .then(pl.lit("nopost"))
        .otherwise(pl.lit("last"))
    )
    what = "definitive deterioration" if definitive else "deterioration"
    ref_text = "baseline" if pro.reference == "baseline" else "best previous score"
    det_text = f"{what.capitalize()} of >= {thr:g} points from {ref_text}"
    grid = grid.with_columns(_K=kind)
    k = pl.col("_K")
    adt = (
        pl.when(k == "det")
        .then(pl.col("_EVDT"))
        .when(k == "death")
        .then(pl.col("_DTHDT"))
        .when(k == "last")
        .then(pl.max_horizontal("_LASTDT", "STARTDT"))
        .otherwise(start)
    )
    out = grid.with_columns(
        PARAMCD=pl.lit("TTD_") + pl.col("PARAMCD"),
        PARAM=pl.lit(f"Time to {what} of ") + pl.col("PARAM") + pl.lit(f" (>= {thr:g} points)"),
        ADT=adt,
        CNSR=pl.when(k.is_in(["det", "death"])).then(0).otherwise(1).cast(pl.Int64),
        EVNTDESC=pl.when(k == "det")
        .then(pl.lit(det_text))
        .when(k == "death")
        .then(pl.lit("Death"))
        .otherwise(pl.lit(None, pl.String)),
        CNSDTDSC=pl.when(k == "nobase")
        .then(pl.lit("No baseline QoL assessment: censored at start date"))
        .when(k == "nopost")
        .then(pl.lit("No post-baseline QoL assessment: censored at start date"))
        .when(k == "last")
        .then(pl.lit("Last QoL assessment"))
        .otherwise(pl.lit(None, pl.String)),
        SRCDOM=pl.when(k.is_in(["det", "last"])).then(pl.lit("ADQS")).otherwise(pl.lit("ADSL")),
        SRCVAR=pl.when(k.is_in(["det", "last"]))
        .then(pl.lit("ADT"))
        .when(k == "death")
        .then(pl.lit("DTHDT"))
        .otherwise(pl.lit("STARTDT")),
        AVALU=pl.lit("DAYS"),
    ).with_columns(AVAL=((pl.col("ADT") - start).dt.total_days() + 1).cast(pl.Float64))
    cols = [
        *(["STUDYID"] if "STUDYID" in keep else []), "USUBJID",
        *(["COHORT"] if "COHORT" in keep else []), "PARAMCD", "PARAM", "PARCAT1", "STARTDT",
        "ADT", "AVAL", "AVALU", "CNSR", "EVNTDESC", "CNSDTDSC", "SRCDOM", "SRCVAR",
    ]  # fmt: skip
    return out.sort("USUBJID", "_PORD").select(cols)
