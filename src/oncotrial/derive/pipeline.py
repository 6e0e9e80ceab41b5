"""SDTM → every ADaM dataset the inputs allow, in one call (what `oncotrial derive` runs).

Each stage is a pure function from frames to frames; this module only orders them and gathers
what the user must see: exclusions (records not used, with the reason and the count) and the
data-quality listings that travel next to the datasets.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from oncotrial.adam_io import ADAM_NAMES, DatasetWriter, write_dataset
from oncotrial.errors import Problem
from oncotrial.protocol.model import Protocol
from oncotrial.sdtm.read import SdtmData

STAGE = ".oncotrial-partial"
"""Folder inside the output folder that receives streamed datasets until the derivation ends."""
EXCLUSION_SCHEMA = {"DATASET": pl.String, "SOURCE": pl.String, "REASON": pl.String, "N": pl.Int64}


@dataclass
class DeriveResult:
    """The ADaM datasets, the side listings (discrepancies, violations) and the exclusions."""

    datasets: dict[str, pl.DataFrame]
    listings: dict[str, pl.DataFrame] = field(default_factory=dict)
    exclusions: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=EXCLUSION_SCHEMA))
    warnings: list[Problem] = field(default_factory=list)
    staged: dict[str, tuple[Path, int]] = field(default_factory=dict)
    """Datasets already written chunk by chunk (file in the staging folder, records)."""

    def records(self) -> dict[str, int]:
        """Records per dataset, held or staged, in the usual ADaM order."""
        counts = {n: f.height for n, f in self.datasets.items()}
        counts |= {n: rows for n, (_, rows) in self.staged.items()}
        order = [n for n in ADAM_NAMES if n in counts] + [n for n in counts if n not in ADAM_NAMES]
        return {n: counts[n] for n in order}

    def add_exclusion(self, dataset: str, source: str, reason: str, n: int) -> None:
        if n:
            row = pl.DataFrame(
                [{"DATASET": dataset, "SOURCE": source, "REASON": reason, "N": n}],
                schema=EXCLUSION_SCHEMA,
            )
            self.exclusions = pl.concat([self.exclusions, row])

    def write(self, out: str | Path, fmt: str = "csv") -> list[Path]:
        out = Path(out)
        written = []
        for name, f in self.datasets.items():
            long = [c for c in f.columns if len(c) > 8 and not c.startswith("_")]
            kind = fmt
            if fmt == "xpt" and name == "adbm" and long:
                kind = "parquet"  # marker ids are the protocol's; XPT v5 allows 8 characters
                self.warnings.append(Problem(
                    f"ADBM written as Parquet, not XPT: marker columns {', '.join(long)} are "
                    "longer than the 8 characters XPT v5 allows", file="adbm",
                    severity="warning"))  # fmt: skip
            written.append(write_dataset(f, out / name, kind))
        for staged, _rows in self.staged.values():
            if staged.suffix != f".{fmt}":
                raise ValueError(f"{staged.name} was streamed as {staged.suffix}, not .{fmt}")
            written.append(staged.replace(out / staged.name))
        if self.staged:
            shutil.rmtree(next(iter(self.staged.values()))[0].parent, ignore_errors=True)
        for name, f in self.listings.items():
            p = out / f"{name}.csv"
            f.select([c for c in f.columns if not c.startswith("_")]).write_csv(
                p, date_format="%Y-%m-%d"
            )
            written.append(p)
        p = out / "exclusions.csv"
        self.exclusions.write_csv(p)
        written.append(p)
        if self.warnings:
            p = out / "warnings.csv"
            pl.DataFrame([w.to_dict() for w in self.warnings]).write_csv(p)
            written.append(p)
        return written


def _problems_to_exclusions(
    result: DeriveResult, dataset: str, problems: Iterable[Problem]
) -> None:
    """Records a derivation did not use become counted exclusions, and warnings the user sees."""
    for p in problems:
        result.warnings.append(p)
    counts: dict[tuple[str, str], int] = {}
    for p in problems:
        key = (p.file or dataset, p.message)
        counts[key] = counts.get(key, 0) + 1
    for (source, reason), n in counts.items():
        result.add_exclusion(dataset, source, reason, n)


def _tumour(sdtm: SdtmData, protocol: Protocol, adsl: pl.DataFrame, result: DeriveResult) -> Any:
    """Time-point responses from TU/TR (when present), with baseline listings."""
    from oncotrial.rules.recist.timepoint import compute_timepoint_responses

    if "tu" not in sdtm or "tr" not in sdtm:
        return None
    tp = compute_timepoint_responses(
        sdtm["tu"], sdtm["tr"], protocol.response, adsl=adsl, readers="protocol"
    )
    _problems_to_exclusions(result, "adrs", tp.warnings)
    result.listings["baseline_violations"] = tp.baseline.violations
    return tp


def derive_all(
    sdtm: SdtmData, protocol: Protocol, *, out: str | Path | None = None, fmt: str = "csv"
) -> DeriveResult:
    """Every ADaM dataset whose inputs exist: ADSL always; the others as their domains allow.

    Domains that ``sdtm`` streams (``read_sdtm(..., stream_rows=...)``: LB, QS) are derived a
    chunk of subjects at a time. With ``out`` (and ``fmt``) their datasets, ADLB and ADQS, are
    written chunk by chunk to a staging folder in ``out`` and never held whole;
    :meth:`DeriveResult.write` then moves them into ``out`` beside the others. If the
    derivation fails (a streamed domain's errors are found as it is read), the staging folder
    is removed and nothing is left in ``out``. Without ``out`` every dataset is held in memory.
    """
    from oncotrial.derive.adrs import compute_rs_discrepancies, derive_adrs
    from oncotrial.derive.adsl import derive_adsl, derive_var_measfl
    from oncotrial.derive.adtr import derive_adtr
    from oncotrial.derive.adtte import compute_new_therapy_dates, derive_adtte
    from oncotrial.rules.recist.readers import select_reader

    result = DeriveResult(datasets={}, warnings=list(sdtm.warnings))
    settings = protocol.response
    adsl = derive_adsl(sdtm, protocol)
    tp = _tumour(sdtm, protocol, adsl, result)
    if tp is not None:
        measurable = tp.baseline.subjects.group_by("USUBJID").agg(
            pl.when((pl.col("MEASFL") == "Y").any())
            .then(pl.lit("Y"))
            .otherwise(pl.lit("N"))
            .alias("MEASFL")
        )
        adsl = derive_var_measfl(adsl, measurable)
    result.datasets["adsl"] = adsl
    nact = compute_new_therapy_dates(sdtm["cm"], adsl) if "cm" in sdtm else None
    rs = sdtm.get("rs")
    rs_ovr = (
        rs.filter(pl.col("RSTESTCD") == "OVRLRESP")
        if rs is not None and "RSTESTCD" in rs.columns
        else None
    )
    adrs = None
    if settings.source == "measurements" and tp is not None:
        res = derive_adrs(adsl, settings, timepoints=tp.timepoints, new_therapy_dates=nact)
    elif settings.source == "reported" and rs_ovr is not None:
        res = derive_adrs(adsl, settings, rs=rs_ovr, new_therapy_dates=nact)
    else:
        res = None
        if settings.source == "reported":
            result.warnings.append(
                Problem(
                    "response.source is 'reported' but there is no RS OVRLRESP: no ADRS",
                    severity="warning",
                )
            )
    if res is not None:
        adrs = res.adrs
        result.datasets["adrs"] = adrs
        _problems_to_exclusions(result, "adrs", res.problems)
    if tp is not None:
        result.datasets["adtr"] = derive_adtr(tp, adsl, settings)
        if rs_ovr is not None and rs_ovr.height:
            chosen = select_reader(rs_ovr, "RS", settings, file=sdtm.files["rs"].name)
            result.listings["rs_discrepancies"] = compute_rs_discrepancies(
                tp.timepoints, chosen, date_imputation=settings.date_imputation
            )
    baseline = None
    if tp is not None:
        baseline = (
            tp.baseline.subjects.filter(pl.col("BASEAKEY").is_not_null()).select("USUBJID").unique()
        )
    tte = derive_adtte(adrs, adsl, protocol, nact, baseline=baseline)
    adtte = tte.adtte
    for row in tte.exclusion_summary().iter_rows(named=True):
        result.add_exclusion(row["DATASET"], row["SOURCE"], row["REASON"], int(row["N"]))
    result.warnings.extend(tte.problems)
    stage = Path(out) / STAGE if out is not None else None
    n_read = len(sdtm.warnings)
    try:
        lb_markers, ttd = _lb_and_qs(sdtm, protocol, adsl, result, stage, fmt)
        if ttd is not None and ttd.height:
            adtte = pl.concat([adtte, ttd], how="diagonal_relaxed")
        result.datasets["adtte"] = adtte
        if len(sdtm.warnings) > n_read:  # the streamed domains' warnings join the read ones
            result.warnings = _by_domain(sdtm.warnings) + result.warnings[n_read:]
        if lb_markers is not None:  # LB was streamed: its marker records were kept
            sdtm = SdtmData({**sdtm.domains, "lb": lb_markers}, sdtm.files, [])
        _biomarkers(sdtm, protocol, adsl, result)
    except BaseException:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        raise
    return result


def status_column(marker_id: str, cutoff: float) -> str:
    """Name of the marker-status flag of a cut-off: ``PDL1_CPS_GE1``, ``TMB_GE2P5`` (2.5)."""
    return f"{marker_id}_GE{cutoff:g}".replace(".", "P").replace("-", "M")


def _biomarkers(
    sdtm: SdtmData, protocol: Protocol, adsl: pl.DataFrame, result: DeriveResult
) -> None:
    """ADBM: one row per ADSL subject (USUBJID, STUDYID, COHORT), one column per protocol marker
    read by :func:`oncotrial.biomarkers.read_markers` from its SDTM domain, and per cut-off of a
    continuous marker a status flag ``<ID>_GE<c>`` (Y when value >= c, N below, empty without a
    value). Markers whose domain is absent (or that need a feature matrix, which derive is not
    given) are left out with a warning; subjects without a value are counted as exclusions."""
    from oncotrial.biomarkers import read_markers

    if not protocol.biomarkers:
        return
    usable = [m for m in protocol.biomarkers if m.source != "matrix" and m.source.lower() in sdtm]
    for m in protocol.biomarkers:
        if m not in usable:
            why = ("it needs a feature matrix" if m.source == "matrix"
                   else f"domain {m.source} was not found")  # fmt: skip
            result.warnings.append(Problem(f"marker {m.id} is not in ADBM: {why}",
                                           file="protocol", variable="biomarkers",
                                           value=m.id, severity="warning"))  # fmt: skip
    if not usable:
        return
    data = read_markers(sdtm, protocol.model_copy(update={"biomarkers": usable}))
    result.warnings.extend(data.warnings)
    flags = [
        pl.when(pl.col(m.id) >= c).then(pl.lit("Y")).when(pl.col(m.id) < c).then(pl.lit("N"))
        .alias(status_column(m.id, c))
        for m in usable if m.type == "continuous" for c in m.cutoffs
    ]  # fmt: skip
    keys = [c for c in ("USUBJID", "STUDYID", "COHORT") if c in adsl.columns]
    adbm = (
        adsl.select(keys)
        .with_columns(pl.col("USUBJID").cast(pl.String))
        .join(data.values, on="USUBJID", how="left")
        .with_columns(flags)
    )
    result.datasets["adbm"] = adbm
    enrolled = adbm.filter(pl.col("COHORT").is_not_null()) if "COHORT" in keys else adbm
    for m in usable:
        src = m.source.lower()
        source = sdtm.files[src].name if src in sdtm.files else m.source
        result.add_exclusion(
            "adbm", source, f"enrolled subject without a value of marker {m.id}: left out of "
            "its analyses", int(enrolled[m.id].is_null().sum()),
        )  # fmt: skip


def _by_domain(warnings: list[Problem]) -> list[Problem]:
    """Read warnings in domain order, as :func:`~oncotrial.sdtm.read.read_sdtm` lists them."""
    from oncotrial.sdtm.read import domain_of

    return sorted(warnings, key=lambda p: domain_of(Path(p.file or "")) or "")


class _Output:
    """A derived dataset, gathered whole into ``result.datasets`` or, when its SDTM domain is
    streamed and an output folder was given, written chunk by chunk (:class:`DatasetWriter`) to
    the staging folder that :meth:`DeriveResult.write` empties into the output folder."""

    def __init__(self, result: DeriveResult, name: str, stage: Path | None, fmt: str):
        self.result, self.name = result, name
        self.writer = DatasetWriter(stage / name, fmt) if stage is not None else None
        self.parts: list[pl.DataFrame] = []

    def add(self, frame: pl.DataFrame) -> None:
        if self.writer is not None:
            self.writer.write(frame)
        else:
            self.parts.append(frame)

    def abort(self) -> None:
        """Close the file of a failed derivation (the staging folder is then removed)."""
        if self.writer is not None:
            self.writer.abort()

    def close(self) -> None:
        if self.writer is not None:
            self.result.staged[self.name] = (self.writer.close(), self.writer.rows)
        elif self.parts:
            self.result.datasets[self.name] = (
                self.parts[0] if len(self.parts) == 1 else pl.concat(self.parts)
            )


def _output(result: DeriveResult, sdtm: SdtmData, name: str, domain: str,
            stage: Path | None, fmt: str) -> _Output:  # fmt: skip
    return _Output(result, name, stage if domain in sdtm.streamed else None, fmt)


def _adae_adlb(
    sdtm: SdtmData, protocol: Protocol, adsl: pl.DataFrame, result: DeriveResult,
    stage: Path | None, fmt: str,
) -> pl.DataFrame | None:  # fmt: skip
    """ADAE and ADLB; returns the LB records of protocol markers when LB is streamed (the
    biomarker step reads them instead of the whole domain)."""
    if "ae" in sdtm:
        from oncotrial.derive.adae import derive_adae

        adae = derive_adae(sdtm["ae"], adsl, protocol, file=sdtm.files["ae"].name)
        result.datasets["adae"] = adae
        if "TRTEMFL" in adae.columns:
            result.add_exclusion(
                "adae", sdtm.files["ae"].name,
                "not treatment-emergent (kept in ADAE with TRTEMFL = N; left out of TEAE tables)",
                int((adae["TRTEMFL"] != "Y").sum()),
            )  # fmt: skip
    if "lb" not in sdtm:
        return None
    from oncotrial.derive.adlb import derive_adlb

    streamed = "lb" in sdtm.streamed
    codes = [(m.testcd or m.id).upper() for m in protocol.biomarkers if m.source == "LB"]
    kept = []
    output = _output(result, sdtm, "adlb", "lb", stage, fmt)
    try:
        for chunk in sdtm.chunks("lb"):
            output.add(derive_adlb(chunk, adsl, protocol))
            if streamed and codes and "LBTESTCD" in chunk.columns:
                kept.append(chunk.filter(pl.col("LBTESTCD").str.to_uppercase().is_in(codes)))
    except BaseException:
        output.abort()
        raise
    output.close()
    if not streamed:
        return None
    return pl.concat(kept) if kept else sdtm.select("lb", "USUBJID", "LBTESTCD", "_ROW")


class _Stopped(Exception):
    """The other stream failed: this one stops at its next chunk."""


def _lb_and_qs(
    sdtm: SdtmData, protocol: Protocol, adsl: pl.DataFrame, result: DeriveResult,
    stage: Path | None, fmt: str,
) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:  # fmt: skip
    """ADAE and ADLB (:func:`_adae_adlb`), then ADQS and its TTD records (:func:`_adqs`).

    When both LB and QS are streamed, ADQS is derived by a second thread at the same time
    (polars and pyarrow release the GIL): one stream's single-threaded steps overlap the
    other's, and at 100,000 subjects the two streams are most of the derivation. What ADQS
    adds to the result is gathered apart and added after ADLB's, so the output is the one the
    sequential order gives. If ADLB fails, ADQS stops at its next chunk and ADLB's error is
    the one raised, as it would be in that order."""
    if not {"lb", "qs"} <= set(sdtm.streamed):
        lb_markers = _adae_adlb(sdtm, protocol, adsl, result, stage, fmt)
        return lb_markers, _adqs(sdtm, protocol, adsl, result, stage, fmt)
    mine = DeriveResult(datasets={})
    stop = threading.Event()
    with ThreadPoolExecutor(1, thread_name_prefix="derive-adqs") as thread:
        qs = thread.submit(_adqs, sdtm, protocol, adsl, mine, stage, fmt, stop)
        try:
            lb_markers = _adae_adlb(sdtm, protocol, adsl, result, stage, fmt)
        except BaseException:
            stop.set()
            wait([qs])
            raise
        ttd = qs.result()
    for row in mine.exclusions.iter_rows(named=True):
        result.add_exclusion(row["DATASET"], row["SOURCE"], row["REASON"], row["N"])
    result.staged |= mine.staged
    result.datasets |= mine.datasets
    return lb_markers, ttd


def _adqs(
    sdtm: SdtmData, protocol: Protocol, adsl: pl.DataFrame, result: DeriveResult,
    stage: Path | None, fmt: str, stop: threading.Event | None = None,
) -> pl.DataFrame | None:  # fmt: skip
    """ADQS (a chunk of subjects at a time when QS is streamed) and the TTD_<scale> records of
    ADTTE, built from what each chunk contributes (:class:`~oncotrial.derive.ttd.TtdParts`).
    ``stop`` set: leave at the next chunk (:func:`_lb_and_qs`)."""
    if "qs" not in sdtm:
        return None
    from oncotrial.derive.adqs import adqs_exclusions, derive_adqs
    from oncotrial.derive.ttd import TtdParts, compute_ttd_parts, derive_param_ttd

    file = sdtm.files["qs"].name
    output = _output(result, sdtm, "adqs", "qs", stage, fmt)
    parts, excluded = [], []
    try:
        for chunk in sdtm.chunks("qs"):
            if stop is not None and stop.is_set():
                raise _Stopped
            adqs = derive_adqs(chunk, adsl, protocol, file=file)
            output.add(adqs)
            parts.append(compute_ttd_parts(adqs, protocol))
            excluded.append(adqs_exclusions(chunk, protocol))
    except BaseException:
        output.abort()
        raise
    output.close()
    counts = pl.concat(excluded).group_by("REASON", maintain_order=True).agg(pl.col("N").sum())
    qscat = pl.col("REASON").str.starts_with("QSCAT ")
    for reason, n in pl.concat([counts.filter(qscat).sort("REASON"),
                                counts.filter(~qscat)]).iter_rows():  # fmt: skip
        result.add_exclusion("adqs", file, str(reason), int(n))
    return derive_param_ttd(TtdParts.combine(parts), adsl, protocol)


def explain(usubjid: str, sdtm: SdtmData, protocol: Protocol) -> str:
    """One subject's assessments, time-point responses and best response, with the rules that
    decided them (what `oncotrial explain` prints). Only that subject's records are derived."""
    from oncotrial.derive.adrs import derive_adrs
    from oncotrial.derive.adsl import derive_adsl
    from oncotrial.derive.explain import explain_subject
    from oncotrial.errors import InputError

    dm = sdtm["dm"]
    if usubjid not in set(dm["USUBJID"].to_list()):
        close = [s for s in dm["USUBJID"].to_list() if usubjid in s][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(
            Problem(
                f"subject not found in DM{hint}",
                file=sdtm.files["dm"].name,
                variable="USUBJID",
                value=usubjid,
            ),
            title="unknown subject",
        )
    one = SdtmData(
        {
            d: f.filter(pl.col("USUBJID") == usubjid) if "USUBJID" in f.columns else f
            for d, f in sdtm.domains.items()
        },
        sdtm.files,
        [],
    )
    result = DeriveResult(datasets={})
    adsl = derive_adsl(one, protocol)
    tp = _tumour(one, protocol, adsl, result)
    settings = protocol.response
    rs = one.get("rs")
    rs_ovr = (
        rs.filter(pl.col("RSTESTCD") == "OVRLRESP")
        if rs is not None and "RSTESTCD" in rs.columns
        else None
    )
    if settings.source == "measurements" and tp is not None:
        adrs = derive_adrs(adsl, settings, timepoints=tp.timepoints).adrs
        ovr = tp.timepoints
    elif rs_ovr is not None:
        adrs = derive_adrs(adsl, settings, rs=rs_ovr).adrs
        ovr = adrs.filter(pl.col("PARAMCD") == "OVR")
    else:
        raise InputError(
            Problem(
                "no tumour assessments (TU/TR or RS OVRLRESP) for this subject",
                variable="USUBJID",
                value=usubjid,
            ),
            title="nothing to explain",
        )
    lesions = tp.lesions if tp is not None else None
    baseline = tp.baseline if tp is not None else None
    return explain_subject(usubjid, ovr, adrs, lesions=lesions, baseline=baseline)
