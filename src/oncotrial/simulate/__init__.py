"""Synthetic single-arm phase II trials as SDTM: deterministic by seed, vectorised, 1e5 subjects.

``simulate_trial(protocol, n_subjects, seed)`` returns the domains of a trial like the
anlotinib + sintilimab second-line ESCC study (DM, DS, EX, TU, TR, RS, AE, LB, QS, SS, CM, VS)
as polars frames keyed by lowercase domain name; ``write_sdtm`` writes them to a folder that
:func:`oncotrial.sdtm.read.read_sdtm` reads without errors. ``simulate_sdtm`` does both, one
domain (and, for LB and QS, one block of subjects) at a time, so that 1e5 subjects need about
3 GB of memory instead of about 15 GB. The same protocol, size and seed always give the same
frames and byte-identical files.

What comes from the protocol: STUDYID (``id``), arms (``cohorts``: ARMCD = the cohort's first
listed arm, else its id; ARM = its label; EX from its interventions), the scan interval and
window (``pfs.assessment_interval_days`` / ``assessment_window_days``), the RECIST settings
(measurability, target limits, nodal sites, the non-measurable primary, evaluator), the
questionnaires (``pro.instruments``, both when empty) and the data cut-off (``data_cutoff``).

How each domain is modelled is told in its module: :mod:`.subjects` (screening, DM, VS, ECOG),
:mod:`.course` (death, withdrawal, treatment end, DS, SS, CM), :mod:`.tumours` (TU, TR, RS from a
tumour growth-inhibition model read by RECIST 1.1 in :mod:`.recist`), :mod:`.labs` (LB),
:mod:`.safety` (AE), :mod:`.exposure` (EX) and :mod:`.qol` (QS).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

import polars as pl

from oncotrial.errors import InputError, Problem
from oncotrial.protocol import Protocol
from oncotrial.simulate._base import assemble_frame, make_study
from oncotrial.simulate.course import (
    cm_domain,
    cycle_starts,
    draw_fates,
    ds_domain,
    resolve_course,
    ss_domain,
)
from oncotrial.simulate.exposure import ex_domain
from oncotrial.simulate.labs import draw_lab_model, lb_parts
from oncotrial.simulate.qol import qs_parts
from oncotrial.simulate.safety import ae_domain
from oncotrial.simulate.subjects import dm_domain, draw_subjects, ecog_records, vs_domain
from oncotrial.simulate.tumours import simulate_tumours
from oncotrial.simulate.writer import write_domain, write_sdtm

__all__ = ["DOMAINS", "simulate_sdtm", "simulate_trial", "write_sdtm"]

SCREEN_FAIL_SHARE = 0.15
DOMAINS = ("dm", "ds", "ex", "tu", "tr", "rs", "ae", "lb", "qs", "ss", "cm", "vs")


def simulate_trial(
    protocol: Protocol,
    n_subjects: int = 53,
    seed: int = 0,
    n_screen_fail: int | None = None,
) -> dict[str, pl.DataFrame]:
    """Simulate one trial: ``n_subjects`` treated subjects (split evenly over the protocol's
    cohorts) plus ``n_screen_fail`` screen failures (default 15 % of the treated, rounded).

    Returns the SDTM domains keyed by lowercase name: dm, ds, ex, tu, tr, rs, ae, lb, qs, ss,
    cm, vs, and gf when the protocol lists ``biomarkers`` (the panel of
    :func:`oncotrial.simulate.biomarkers.simulate_biomarkers`, drawn from DM and RS). Raises :class:`~oncotrial.errors.InputError` for a size or seed out of range.
    """
    build = _builders(protocol, n_subjects, seed, n_screen_fail)
    return {name: pl.concat(list(build[name]())) for name in build}


def simulate_sdtm(
    protocol: Protocol,
    out_dir: str | Path,
    n_subjects: int = 53,
    seed: int = 0,
    n_screen_fail: int | None = None,
    fmt: Literal["csv", "parquet"] = "csv",
    features: str | Path | None = None,
    n_features: int = 2000,
) -> list[Path]:
    """Simulate and write the trial domain by domain, holding one large domain in memory at a
    time (for 1e5 subjects); the files are byte-identical to ``write_sdtm(simulate_trial(...))``.

    With ``features`` (a ``.parquet`` or ``.csv`` path) also write a noise expression panel of
    ``n_features`` features for the treated subjects, the first five true prognostic signals
    (:func:`oncotrial.simulate.biomarkers.simulate_biomarkers`); its path is returned last."""
    if features is not None:
        from oncotrial.simulate.biomarkers import check_panel_path

        check_panel_path(features)
    build = _builders(protocol, n_subjects, seed, n_screen_fail)
    paths = sorted(write_domain(name, build[name](), out_dir, fmt) for name in build)
    if features is not None:
        from oncotrial.simulate.biomarkers import simulate_biomarkers, write_feature_panel

        frames = {d: pl.concat(list(build[d]())) for d in ("dm", "rs")}
        matrix = simulate_biomarkers(frames, seed, n_features=n_features)[1]
        paths.append(write_feature_panel(matrix, features))
    return paths


def _check(n_subjects: object, seed: object, n_screen_fail: object) -> None:
    def whole(x: object) -> bool:
        return isinstance(x, int) and not isinstance(x, bool)

    problems = []
    if not whole(n_subjects) or n_subjects < 1:  # type: ignore[operator]
        problems.append(
            Problem("must be a whole number >= 1", variable="n_subjects", value=repr(n_subjects))
        )
    if not whole(seed) or seed < 0:  # type: ignore[operator]
        problems.append(Problem("must be a whole number >= 0", variable="seed", value=repr(seed)))
    if n_screen_fail is not None and (not whole(n_screen_fail) or n_screen_fail < 0):  # type: ignore[operator]
        problems.append(
            Problem(
                "must be a whole number >= 0 (or None for 15 % of the treated subjects)",
                variable="n_screen_fail",
                value=repr(n_screen_fail),
            )
        )
    if problems:
        raise InputError(problems, title="cannot simulate the trial")


def _builders(
    protocol: Protocol, n_subjects: int, seed: int, n_screen_fail: int | None
) -> dict[str, Callable[[], Iterable[pl.DataFrame]]]:
    """Draw the subject-level model once; return one builder per domain, which yields the
    domain's records as consecutive parts (LB and QS by blocks of subjects)."""
    _check(n_subjects, seed, n_screen_fail)
    if n_screen_fail is None:
        n_screen_fail = int(round(SCREEN_FAIL_SHARE * n_subjects))
    study = make_study(protocol, seed)
    people, study = draw_subjects(study, n_subjects, n_screen_fail, seed)
    fates = draw_fates(people, seed)
    tumours = simulate_tumours(study, people, fates, seed)
    course = resolve_course(study, people, fates, tumours.pd, tumours.beyond_end)
    cycles = cycle_starts(study, people, course, seed)
    labs = draw_lab_model(study, people, course.stop, seed)
    ae, reduced_s, reduced_day = ae_domain(study, people, course, labs, seed)
    ex, last_dose = ex_domain(study, people, course, cycles, reduced_s, reduced_day)
    rs = pl.concat([ecog_records(people), tumours.rs], how="diagonal")
    builders: dict[str, Callable[[], Iterable[pl.DataFrame]]] = {
        "dm": lambda: [dm_domain(study, people, last_dose, course.death, course.participation_end)],
        "ds": lambda: [ds_domain(study, people, course)],
        "ex": lambda: [ex],
        "tu": lambda: [assemble_frame("tu", study, tumours.tu, sort=["_DAY", "_G"])],
        "tr": lambda: [assemble_frame("tr", study, tumours.tr, sort=["_DAY", "_G"])],
        "rs": lambda: [assemble_frame("rs", study, rs, sort=["_DAY", "VISITNUM", "_T"])],
        "ae": lambda: [ae],
        "lb": lambda: lb_parts(study, people, cycles, labs, seed),
        "qs": lambda: qs_parts(study, people, cycles, tumours.d, tumours.g, tumours.pd, seed),
        "ss": lambda: [ss_domain(study, people, course, seed)],
        "cm": lambda: [cm_domain(study, people, course, seed)],
        "vs": lambda: [vs_domain(study, people)],
    }
    if protocol.biomarkers:
        from oncotrial.simulate.biomarkers import simulate_biomarkers

        def gf() -> list[pl.DataFrame]:
            frames = {d: pl.concat(list(builders[d]())) for d in ("dm", "rs")}
            return [simulate_biomarkers(frames, seed)[0]]

        builders["gf"] = gf
    return builders
