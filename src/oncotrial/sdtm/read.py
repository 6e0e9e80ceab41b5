"""Read a folder of SDTM domains (CSV, SAS XPT, Parquet) and validate it once, at the boundary.

All problems of all files are collected and reported together (file, row, variable, value, what
is accepted); errors raise :class:`~oncotrial.errors.InputError`, warnings travel with the data.
Rows are numbered from 1, not counting the header. Every frame is returned with all variables as
text (as SDTM defines them), numeric variables cast to Float64, and a ``_ROW`` column with the
source row number so that derived records can say where they came from.

Handled, not fatal (reported as warnings):

* rows identical in every variable but the sequence number (``--SEQ``), as in the pharmaverse
  TUMSTATE records: the first is kept, the others dropped and counted;
* a domain file with no rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from oncotrial.errors import InputError, Problem, Severity
from oncotrial.sdtm.dates import dtc_dates, dtc_problem
from oncotrial.sdtm.schema import DomainSpec, spec_for
from oncotrial.sdtm.stream import STREAMABLE, StreamedDomain, plan_stream

SUFFIXES = (".csv", ".csv.gz", ".xpt", ".parquet")
MAX_PER_KIND = 20  # problems listed per (file, variable, kind); the rest are counted


@dataclass
class SdtmData:
    """Validated SDTM domains keyed by lowercase domain name, with their files and warnings.

    Domains too large to hold whole (``read_sdtm(..., stream_rows=...)``) are in ``streamed``:
    :meth:`chunks` gives them a chunk of whole subjects at a time, :meth:`select` a few of their
    variables; indexing one reads it whole.
    """

    domains: dict[str, pl.DataFrame]
    files: dict[str, Path]
    warnings: list[Problem] = field(default_factory=list)
    streamed: dict[str, StreamedDomain] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.domains or name in self.streamed

    def __getitem__(self, name: str) -> pl.DataFrame:
        if name in self.streamed:
            self.domains[name] = pl.concat(list(self.chunks(name))).sort("_ROW")
            del self.streamed[name]
        if name not in self.domains:
            raise InputError(
                Problem(
                    f"domain {name.upper()} is needed here but no {name}.csv / {name}.xpt / "
                    f"{name}.parquet was found",
                ),
                title="missing SDTM domain",
            )
        return self.domains[name]

    def get(self, name: str) -> pl.DataFrame | None:
        if name not in self:
            return None
        return self[name]

    def chunks(self, name: str) -> Iterator[pl.DataFrame]:
        """The validated records of a domain, a chunk of whole subjects at a time (the whole
        domain at once when it is not streamed). A streamed domain's errors are raised after
        its last chunk; its warnings are added to :attr:`warnings`."""
        if name in self.streamed:
            yield from self.streamed[name].chunks(self.warnings)
        else:
            yield self[name]

    def select(self, name: str, *columns: str) -> pl.DataFrame | None:
        """The named variables of a domain that it has (None when the domain is absent); for a
        streamed domain they are read from its file, unchecked."""
        if name in self.streamed:
            return self.streamed[name].select(*columns)
        frame = self.domains.get(name)
        return None if frame is None else frame.select(c for c in columns if c in frame.columns)

    def require(self, *names: str, needed_for: str) -> None:
        missing = [n for n in names if n not in self]
        if missing:
            raise InputError(
                [
                    Problem(f"domain {n.upper()} is required for {needed_for} but was not found")
                    for n in missing
                ],
                title="missing SDTM domain",
            )


def domain_of(path: Path) -> str | None:
    """Domain name from a file name: ``tu.csv`` → tu, ``tu_onco_recist.csv`` → tu."""
    name = path.name.lower()
    if not name.endswith(SUFFIXES):
        return None
    m = re.match(r"^(supp[a-z]{2}|[a-z]{2})(?:[_.\-]|$)", name)
    return m.group(1) if m else None


def discover(folder: Path, files: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Map each domain to its file; several candidates for one domain is an error unless
    ``files`` (the protocol's ``sdtm_files``) names the one to use."""
    files = dict(files or {})
    problems: list[Problem] = []
    if not folder.is_dir():
        raise InputError(Problem("SDTM folder not found", file=str(folder)), title="invalid SDTM")
    found: dict[str, list[Path]] = {}
    for p in sorted(folder.iterdir()):
        d = domain_of(p)
        if d is not None and p.is_file():
            found.setdefault(d, []).append(p)
    chosen: dict[str, Path] = {}
    for d, name in files.items():
        p = folder / name
        if not p.is_file():
            problems.append(
                Problem(
                    f"file for domain {d.upper()} named in the protocol (sdtm_files) not found",
                    file=str(p),
                )
            )
        else:
            chosen[d] = p
    for d, paths in found.items():
        if d in chosen:
            continue
        exact = [p for p in paths if p.name.lower().split(".")[0] == d]
        if len(paths) == 1:
            chosen[d] = paths[0]
        elif len(exact) == 1:
            chosen[d] = exact[0]
        else:
            names = ", ".join(p.name for p in paths)
            problems.append(
                Problem(
                    f"several files could hold domain {d.upper()} ({names}); name the one to use "
                    f"in the protocol, e.g. sdtm_files: {{{d}: {paths[0].name}}}",
                    file=str(folder),
                )
            )
    if problems:
        raise InputError(problems, title="invalid SDTM folder")
    return chosen


def _as_text(frame: pl.DataFrame, numeric: Iterable[str] = ()) -> pl.DataFrame:
    """Every column as text, stripped, empty → null; integer-valued floats written as integers
    (XPT/Parquet).

    Variables in ``numeric`` that are already numbers (Parquet, XPT) become Float64 directly: the
    text round trip would give the same values (a float's shortest text parses back exactly).
    Text columns whose distinct values are all already stripped and non-empty (most SDTM
    variables hold a few codes) are kept as they are: stripping them would change nothing.
    """
    exprs = []
    keep = set(numeric)
    strings = [n for n, t in frame.schema.items() if t == pl.String and n not in keep]
    clean = _clean_text(frame, strings)
    floats = [n for n, t in frame.schema.items() if t.is_float() and n not in keep]
    whole = _integer_valued(frame, floats)
    for name, dtype in frame.schema.items():
        c = pl.col(name)
        if name in keep and (dtype.is_float() or dtype.is_integer()):
            e = c.cast(pl.Float64)
        elif dtype.is_float():
            # A number's text has no blanks and is never empty: no strip needed.
            int_text = c.cast(pl.Int64).cast(pl.String)
            if whole[name] is None:
                e = pl.when(_is_whole(c)).then(int_text).otherwise(c.cast(pl.String))
            else:
                e = int_text if whole[name] else c.cast(pl.String)
        elif dtype.is_integer() or dtype == pl.Boolean:
            e = c.cast(pl.String)
        elif name in clean:
            e = c
        else:
            e = (c if dtype == pl.String else c.cast(pl.String)).str.strip_chars().replace("", None)
        exprs.append(e.alias(name))
    return frame.select(exprs)


def _is_whole(c: pl.Expr) -> pl.Expr:
    """A float written as an integer (3, not 3.0)."""
    return c.is_finite() & (c == c.round(0)) & (c.abs() < 1e15)


def _integer_valued(frame: pl.DataFrame, floats: list[str]) -> dict[str, bool | None]:
    """Per float column: True when every value (nulls aside) is written as an integer, False
    when none is, None when some are."""
    if not floats:
        return {}
    row = frame.select(
        pl.struct(
            _is_whole(pl.col(n)).fill_null(True).all().alias("all"),
            (~_is_whole(pl.col(n))).fill_null(True).all().alias("none"),
        ).alias(n)
        for n in floats
    ).row(0, named=True)
    return {n: True if r["all"] else False if r["none"] else None for n, r in row.items()}


def _clean_text(frame: pl.DataFrame, strings: list[str]) -> set[str]:
    """The text columns with no value to strip and none empty (checked on distinct values)."""
    clean = set()
    for name in strings:
        distinct = frame[name].unique()
        if not (distinct.str.strip_chars().ne_missing(distinct) | (distinct == "")).any():
            clean.add(name)
    return clean


def read_table(path: Path, numeric: Iterable[str] = ()) -> pl.DataFrame:
    """One domain file as a text frame (``numeric`` variables stored as numbers stay numbers:
    :func:`_as_text`). Raises InputError for unreadable files."""
    name = path.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz")):
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
        elif name.endswith(".parquet"):
            frame = pl.read_parquet(path)
        elif name.endswith(".xpt"):
            import pyreadstat

            pdf, _meta = pyreadstat.read_xport(str(path))
            frame = pl.from_pandas(pdf)
        else:
            raise InputError(
                Problem(
                    "unknown file type; accepted: .csv, .csv.gz, .xpt, .parquet", file=str(path)
                ),
                title="invalid SDTM",
            )
    except InputError:
        raise
    except Exception as exc:  # every reader's own error becomes one clear message
        raise _unreadable(path, exc) from None
    frame = frame.rename({c: c.strip().upper() for c in frame.columns})
    return _as_text(frame, numeric)


def _unreadable(path: Path, exc: Exception) -> InputError:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "utf-8" in detail.lower() or "utf8" in detail.lower():
        detail = "not UTF-8 text; save the file as UTF-8"
    return InputError(Problem(f"cannot be read: {detail}", file=path.name), title="invalid SDTM")


class _Collector:
    """Problems of one file, gathered over one frame or over the chunks of a streamed file.

    Row problems are grouped by kind (variable, message, severity): each kind lists its first
    :data:`MAX_PER_KIND` rows by row number and counts the rest, whatever the chunk they came
    from, so a streamed file reports exactly what the whole file read at once would.
    """

    def __init__(self, file: str):
        self.file = file
        self._order: list[tuple[str, ...]] = []
        self._severity: dict[tuple[str, ...], Severity] = {}
        self._shown: dict[tuple[str, ...], list[Problem]] = {}
        self._count: dict[tuple[str, ...], int] = {}
        self._dups: tuple[int, list[int], str | None] = (0, [], None)
        self._rank: dict[tuple[str, ...], tuple[int, str]] = {}
        self.step = 0
        """The check being run (set by the checks): kinds are listed by step, then message, as
        a whole-file read lists them, whichever chunk found them first."""

    def _kind(self, key: tuple[str, ...]) -> None:
        if key not in self._count:
            self._order.append(key)
            self._rank[key] = (self.step, key[2] if key[0] == "rows" else "")
            self._count[key] = 0
            self._shown[key] = []

    def rows(
        self, bad: pl.DataFrame, variable: str, message: str, severity: Severity = "error"
    ) -> None:
        """One problem per offending row (``bad`` has _ROW and the variable), capped."""
        n = bad.height
        if n == 0:
            return
        key = ("rows", variable, message, severity)
        self._kind(key)
        self._severity[key] = severity
        self._count[key] += n
        shown = bad.sort("_ROW").head(MAX_PER_KIND)
        values = shown[variable].to_list() if variable in shown.columns else [None] * shown.height
        new = [
            Problem(message, file=self.file, row=row, variable=variable,
                    value=_text(value), severity=severity)
            for row, value in zip(shown["_ROW"].to_list(), values, strict=True)
        ]  # fmt: skip
        merged = sorted(self._shown[key] + new, key=lambda p: p.row or 0)
        self._shown[key] = merged[:MAX_PER_KIND]

    def file_level(
        self, message: str, variable: str | None = None, severity: Severity = "error"
    ) -> None:
        """A problem of the whole file (listed once, however many chunks report it)."""
        key = ("file", message, variable or "", severity)
        self._kind(key)
        self._shown[key] = [Problem(message, file=self.file, variable=variable, severity=severity)]

    def repeats(self, n: int, rows: list[int], seq: str | None) -> None:
        """Records equal to an earlier record in every variable but ``seq``: one warning."""
        if n:
            self._kind(("repeats",))
            total, first, _ = self._dups
            self._dups = (total + n, sorted(first + rows)[:5], seq)

    @property
    def problems(self) -> list[Problem]:
        out: list[Problem] = []
        for key in sorted(self._order, key=self._rank.__getitem__):
            if key[0] == "repeats":
                n, first, seq = self._dups
                out.append(Problem(
                    f"{n} records repeat an earlier record in every variable"
                    f"{' but ' + seq if seq else ''} (rows {', '.join(map(str, first))}"
                    f"{', ...' if n > 5 else ''}); the repeats were dropped",
                    file=self.file, severity="warning"))  # fmt: skip
                continue
            out.extend(self._shown[key])
            n = self._count[key]
            if key[0] == "rows" and n > MAX_PER_KIND:
                _, variable, message, _ = key
                out.append(Problem(
                    f"... and {n - MAX_PER_KIND} more rows with the same problem ({message})",
                    file=self.file, variable=variable, severity=self._severity[key]))  # fmt: skip
        return out


def _text(value: object) -> str | None:
    """A value as the user wrote it: numbers kept as numbers are shown as their text would be
    (3, not 3.0; NaN)."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
    return str(value)


def _seq_var(domain: str, frame: pl.DataFrame) -> str | None:
    name = f"{domain.upper()}SEQ"
    return name if name in frame.columns else None


def _repeats(frame: pl.DataFrame, columns: list[str], *, all_copies: bool = False) -> pl.Series:
    """True for each row equal in every one of ``columns`` to an earlier row (to any other row
    when ``all_copies``).

    Rows are first told apart by a hash of those values; only rows whose hash repeats (equal
    rows always do) are compared exactly, so a hash collision can never flag a record. When no
    hash repeats (the usual case) that is known from counting distinct hashes, which is cheaper
    than marking the repeated ones.
    """
    sub = frame.select(columns)
    hashes = sub.hash_rows()
    if hashes.n_unique() == hashes.len():
        return pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True)
    maybe = hashes.is_duplicated()
    index = pl.int_range(pl.len(), dtype=pl.Int64).alias("_I")
    cand = sub.with_columns(index).filter(maybe)
    exact = (
        cand.select(columns).is_duplicated()
        if all_copies
        else cand.select(~pl.struct(columns).is_first_distinct()).to_series()
    )
    hit = cand["_I"].filter(exact)
    return sub.select(index.is_in(hit.implode())).to_series()


def _run_starts(column: pl.Expr) -> pl.Expr:
    """True on the first record of each run of equal values. SDTM files are sorted by subject,
    so a column has far fewer runs than records, and every distinct value starts at least one:
    checking the values at run starts checks every value."""
    return column.ne_missing(column.shift()) | (pl.int_range(pl.len()) == 0)


def validate_domain(
    domain: str, frame: pl.DataFrame, file: str, subjects: pl.Series | None = None
) -> tuple[pl.DataFrame, list[Problem]]:
    """Check one domain against its spec; return the cleaned frame and every problem found."""
    out = _Collector(file)
    frame = frame.with_row_index("_ROW", offset=1).with_columns(pl.col("_ROW").cast(pl.Int64))
    return _check_domain(domain, frame, out, subjects), out.problems


def _check_domain(
    domain: str, frame: pl.DataFrame, out: _Collector, subjects: pl.Series | None
) -> pl.DataFrame:
    """The checks of :func:`validate_domain` on a frame with ``_ROW`` (the whole file or a
    chunk of whole subjects); problems go to ``out``; returns the cleaned frame."""
    spec: DomainSpec | None = spec_for(domain)
    if spec is None:
        return frame
    out.step = 0  # each check has its own step: kinds are listed in check order
    cols = set(frame.columns)
    missing = [v for v in spec.required if v not in cols]
    for v in missing:
        out.step += 1
        out.file_level(f"required variable {v} is missing ({spec.name.upper()}: {spec.purpose})", v)
    for group in spec.any_of:
        out.step += 1
        if not cols.intersection(group):
            out.file_level(f"one of the variables {' / '.join(group)} is required", "/".join(group))
    out.step += 1
    if frame.height == 0:
        out.file_level("the file has no records", severity="warning")
    for v in spec.not_null:
        out.step += 1
        if v in cols:
            out.rows(
                frame.filter(pl.col(v).is_null()).select("_ROW", v),
                v,
                f"{v} is empty; every record needs it",
            )
    for v in spec.dates:
        out.step += 1
        if v in cols:
            # Dates repeat (one per visit): check each distinct text once, then find its rows.
            why_of = (
                frame.select(pl.col(v).filter(_run_starts(pl.col(v))).unique())
                .with_columns(why=dtc_problem(pl.col(v)))
                .filter(pl.col("why").is_not_null())
            )
            bad = (
                frame.select("_ROW", v)
                .filter(pl.col(v).is_in(why_of[v].implode()))
                .join(why_of, on=v, how="left", maintain_order="left")
                if why_of.height
                else pl.DataFrame(schema={"_ROW": pl.Int64, v: pl.String, "why": pl.String})
            )
            for why in sorted(set(bad["why"].to_list())):
                out.rows(
                    bad.filter(pl.col("why") == why),
                    v,
                    f"{why}: expected an ISO 8601 date such as 2014-02-11, 2014-02 or 2014 "
                    "(partial dates are allowed)",
                )
    casts = {}
    for v in spec.numeric:
        out.step += 2
        if v in cols:
            num = pl.col(v).cast(pl.Float64, strict=False)
            bad = frame.filter(pl.col(v).is_not_null() & (num.is_null() | ~num.is_finite())).select(
                "_ROW", v
            )
            out.rows(bad, v, "not a number; expected a numeric value")
            if v in spec.nonnegative:
                out.step += 1
                neg = frame.filter(num < 0).select("_ROW", v)
                out.rows(neg, v, "negative; expected a number >= 0")
            casts[v] = num
    for t in spec.terms:
        out.step += 1
        if t.variable not in cols:
            continue
        cond = pl.col(t.variable).is_not_null() & ~pl.col(t.variable).is_in(list(t.allowed))
        if t.when is not None:
            if t.when[0] not in cols:
                continue
            cond = cond & pl.col(t.when[0]).is_in(list(t.when[1]))
        where = f" where {t.when[0]} is {'/'.join(t.when[1])}" if t.when else ""
        out.rows(
            frame.filter(cond).select("_ROW", t.variable),
            t.variable,
            f"unknown term{where}; accepted: {', '.join(t.allowed)}"
            + (f"; {t.note}" if t.note else ""),
            t.severity,
        )
    for a, b in spec.date_order:
        out.step += 1
        if a in cols and b in cols:
            bad = frame.filter(dtc_dates(frame, b) < dtc_dates(frame, a)).select("_ROW", b, a)
            out.rows(bad, b, f"{b} is before {a}; an end cannot precede its start")
    # Exact duplicates (every variable but --SEQ equal): warn, keep the first.
    seq = _seq_var(domain, frame)
    content = [c for c in frame.columns if c not in ("_ROW", seq)]
    out.step += 1
    if frame.height and content:
        dup_mask = _repeats(frame, content)
        n_dup = int(dup_mask.sum())
        if n_dup:
            out.repeats(n_dup, frame.filter(dup_mask)["_ROW"].head(5).to_list(), seq)
            frame = frame.filter(~dup_mask)
    key = [k for k in spec.key if k in frame.columns]
    out.step += 1
    if key and len(key) == len(spec.key) and frame.height:
        nonnull = frame.select("_ROW", *key).filter(
            pl.all_horizontal(pl.col(k).is_not_null() for k in key)
        )
        dups = nonnull.filter(_repeats(nonnull, key, all_copies=True)).select("_ROW", *key)
        if len(key) == 1:
            out.rows(dups, key[0], f"duplicate {key[0]}: each subject may appear once")
        else:
            out.rows(
                dups,
                key[-1],
                f"duplicate key ({', '.join(key)}); records are traced by row number instead",
                "warning",
            )
    ck = [k for k in spec.conflict_key if k in frame.columns]
    out.step += 1
    if ck and spec.conflict_value in frame.columns and frame.height:
        # Only records whose key hash repeats can share a key (the groups are then exact).
        shared = frame.filter(frame.select(ck).hash_rows().is_duplicated())
        groups = shared.group_by(ck).agg(
            pl.col(spec.conflict_value).n_unique().alias("_n"), pl.col("_ROW")
        )
        bad = groups.filter(pl.col("_n") > 1).explode("_ROW").select("_ROW")
        clash = frame.join(bad, on="_ROW").sort("_ROW").select("_ROW", spec.conflict_value)
        out.rows(
            clash,
            spec.conflict_value,
            f"conflicting values for the same {', '.join(ck)}; keep one record per "
            "lesion, test, date and reader",
        )
    out.step += 1
    if (
        subjects is not None
        and "USUBJID" in cols
        and domain != "dm"
        # The values at run starts are every distinct subject: all in DM, no orphan records.
        and not frame.select(
            pl.col("USUBJID")
            .filter(_run_starts(pl.col("USUBJID")))
            .drop_nulls()
            .is_in(subjects.implode())
            .all()
        ).item()
    ):
        orphans = frame.filter(
            pl.col("USUBJID").is_not_null() & ~pl.col("USUBJID").is_in(subjects.implode())
        )
        out.rows(orphans.select("_ROW", "USUBJID"), "USUBJID", "subject not found in DM")
    if casts:
        frame = frame.with_columns(**casts)
    return frame


def read_sdtm(
    folder: str | Path,
    *,
    files: Mapping[str, str] | None = None,
    domains: Iterable[str] | None = None,
    stream_rows: int | None = None,
) -> SdtmData:
    """Read and validate the SDTM domains in ``folder``.

    ``files`` maps a domain to its file name when a folder holds several candidates (the
    protocol's ``sdtm_files``); ``domains`` limits reading to those domains (DM is always read
    when present, as every other domain is checked against its subjects). Raises InputError with
    every error of every file; warnings are returned in :attr:`SdtmData.warnings`.

    With ``stream_rows``, an LB or QS file of more records than that is not read here but
    streamed (:mod:`oncotrial.sdtm.stream`): it is checked chunk by chunk as it is used, and its
    errors are raised then.
    """
    folder = Path(folder)
    paths = discover(folder, files)
    wanted = set(domains) | {"dm"} if domains is not None else set(paths)
    problems: list[Problem] = []
    frames: dict[str, pl.DataFrame] = {}
    raw: dict[str, pl.DataFrame] = {}
    streamed: dict[str, StreamedDomain] = {}
    for d in sorted(wanted & set(paths)):
        try:
            plan = (
                plan_stream(d, paths[d], stream_rows)
                if stream_rows is not None and d in STREAMABLE
                else None
            )
            if plan is not None:
                streamed[d] = plan
                continue
            spec = spec_for(d)
            raw[d] = read_table(paths[d], spec.numeric if spec is not None else ())
        except InputError as exc:
            problems.extend(exc.problems)
    subjects = None
    if "dm" in raw and "USUBJID" in raw["dm"].columns:
        subjects = raw["dm"]["USUBJID"].drop_nulls().unique()
    elif "dm" not in paths:
        problems.append(
            Problem(
                "domain DM (dm.csv / dm.xpt / dm.parquet) is required: it lists the subjects",
                file=str(folder),
            )
        )
    for plan in streamed.values():
        plan.subjects = subjects
    for d in list(raw):
        # Drop each text frame once validated: only the cleaned one is kept.
        clean, found = validate_domain(d, raw.pop(d), paths[d].name, subjects)
        frames[d] = clean
        problems.extend(found)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(errors, title=f"invalid SDTM in {folder}")
    return SdtmData(
        frames,
        {d: paths[d] for d in sorted([*frames, *streamed])},
        [p for p in problems if p.severity == "warning"],
        streamed,
    )


def validate_every_file(folder: str | Path) -> tuple[dict[str, int], list[Problem]]:
    """Read and validate every domain file in ``folder`` on its own (several files may hold the
    same domain, e.g. ``rs_onco.csv`` and ``rs_onco_recist.csv``), each against DM's subjects.

    Returns the record count per file and every problem (errors and warnings) found.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(Problem("SDTM folder not found", file=str(folder)), title="invalid SDTM")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and domain_of(p) is not None)
    problems: list[Problem] = []
    counts: dict[str, int] = {}
    subjects = None
    dm = [p for p in paths if domain_of(p) == "dm"]
    if dm:
        try:
            subjects = read_table(dm[0])["USUBJID"].drop_nulls().unique()
        except (InputError, pl.exceptions.ColumnNotFoundError):
            subjects = None
    for p in paths:
        try:
            spec = spec_for(domain_of(p) or "")
            frame = read_table(p, spec.numeric if spec is not None else ())
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        clean, found = validate_domain(domain_of(p) or "", frame, p.name, subjects)
        counts[p.name] = clean.height
        problems.extend(found)
    return counts, problems
