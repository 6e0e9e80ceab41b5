"""Large SDTM domains read, validated and used a chunk of whole subjects at a time.

A 100,000-subject trial has about 18 million LB and 18 million QS records; held as text they
need more memory than the rest of the pipeline together. :func:`plan_stream` reads only the
USUBJID column of such a file (the first record of each run of one subject's records) and
splits the subjects, in the order they first appear, into chunks of about ``rows_per_chunk``
records (a subject is never split). Each chunk is then read
from its first record to its last only, with a filter on its subjects unless those rows are
all its own (a file sorted by USUBJID is read once over, unfiltered), turned into text as
:func:`oncotrial.sdtm.read.read_table` does and checked by the same rules as a whole file
(:func:`oncotrial.sdtm.read.validate_domain`): every rule looks within one subject's records
(keys, duplicates and conflicts all include USUBJID), so the problems found are those of the
whole file, listed the same way (the first rows of each kind by row number, the rest counted).
They are raised, all together, after the last chunk.

Records keep the file's order within a chunk; a file sorted by USUBJID (as SDTM files are)
keeps its order throughout. CSV and Parquet files are streamed; XPT files are read whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from oncotrial.errors import InputError, Problem
from oncotrial.sdtm.schema import spec_for

STREAMABLE = ("lb", "qs")
"""Domains :func:`oncotrial.derive.pipeline.derive_all` can derive chunk by chunk."""
DEFAULT_CHUNK_ROWS = 1_000_000
"""Records per chunk (about 0.35 GiB of text for LB's 21 variables). ``oncotrial derive``
derives an LB and a QS chunk at once (:func:`oncotrial.derive.pipeline.derive_all`), each
needing several times its text while it is derived: at 100,000 subjects 2,000,000 records a
chunk took derive's peak memory over 8 GiB, at no gain in time."""


@dataclass
class StreamedDomain:
    """A domain file too large to hold whole: its chunks of subjects (see the module doc)."""

    domain: str
    path: Path
    rows: int
    rename: dict[str, str]
    usubjid: str
    chunk_of: pl.DataFrame
    """Source USUBJID value (``_RAW``) → chunk number (``_C``)."""
    n_chunks: int
    null_chunk: int | None
    spans: list[tuple[int, int, int]]
    """Per chunk, the 0-based rows of its first and last records and its number of records."""
    subjects: pl.Series | None = None

    def _scan(self) -> pl.LazyFrame:
        if self.path.name.lower().endswith(".parquet"):
            return pl.scan_parquet(self.path)
        return pl.scan_csv(self.path, infer_schema=False, encoding="utf8")

    def _text(self, frame: pl.DataFrame) -> pl.DataFrame:
        from oncotrial.sdtm.read import _as_text

        spec = spec_for(self.domain)
        numeric = spec.numeric if spec is not None else ()
        rows = [frame["_ROW"].cast(pl.Int64)] if "_ROW" in frame.columns else []
        text = _as_text(frame.drop("_ROW", strict=False).rename(self.rename), numeric)
        return text.with_columns(rows) if rows else text

    def read_chunk(self, c: int) -> pl.DataFrame:
        """Chunk ``c`` as text with ``_ROW`` (1-based row in the file), not yet checked."""
        raw = self.chunk_of.filter(pl.col("_C") == c)["_RAW"]
        src = pl.col(self.usubjid).cast(pl.String)
        cond = src.is_in(raw.implode())
        if self.null_chunk == c:
            cond = cond | src.is_null()
        first, last, n = self.spans[c]
        scan = self._scan().with_row_index("_ROW", offset=1).slice(first, last - first + 1)
        if n != last - first + 1:  # other subjects' records lie between
            scan = scan.filter(cond)
        try:
            part = scan.collect()
        except Exception as exc:  # every reader's own error becomes one clear message
            from oncotrial.sdtm.read import _unreadable

            raise _unreadable(self.path, exc) from None
        text = self._text(part)
        return text.select("_ROW", *[c for c in text.columns if c != "_ROW"])

    def chunks(self, warnings: list[Problem]) -> Iterator[pl.DataFrame]:
        """Every chunk, checked and cleaned as :func:`~oncotrial.sdtm.read.validate_domain`
        would clean the whole file. After the last chunk the file's errors are raised together
        (InputError); its warnings are appended to ``warnings``."""
        from oncotrial.sdtm.read import _check_domain, _Collector

        out = _Collector(self.path.name)
        for c in range(self.n_chunks):
            yield _check_domain(self.domain, self.read_chunk(c), out, self.subjects)
        problems = out.problems
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise InputError(errors, title=f"invalid SDTM in {self.path.parent}")
        warnings.extend(p for p in problems if p.severity == "warning")

    def select(self, *columns: str) -> pl.DataFrame:
        """The named variables present in the file (all its records, as text, unchecked)."""
        names = {v: k for k, v in self.rename.items()}
        present = [names[c] for c in columns if c in names]
        try:
            part = self._scan().select(present).collect()
        except Exception as exc:  # every reader's own error becomes one clear message
            from oncotrial.sdtm.read import _unreadable

            raise _unreadable(self.path, exc) from None
        return self._text(part)


def plan_stream(domain: str, path: Path, rows_per_chunk: int) -> StreamedDomain | None:
    """The chunks of ``path`` when it is a CSV or Parquet file of more than ``rows_per_chunk``
    records with a USUBJID variable; None when it should be read whole."""
    from oncotrial.sdtm.read import _unreadable

    name = path.name.lower()
    if not name.endswith((".csv", ".parquet")):
        return None
    try:
        scan = (
            pl.scan_parquet(path)
            if name.endswith(".parquet")
            else pl.scan_csv(path, infer_schema=False, encoding="utf8")
        )
        rename = {c: c.strip().upper() for c in scan.collect_schema().names()}
        usubjid = next((k for k, v in rename.items() if v == "USUBJID"), None)
        if usubjid is None:
            return None
        rows = scan.select(pl.len()).collect().item()
        if rows <= rows_per_chunk:
            return None
        # Runs of equal USUBJID (one per subject in a file sorted by subject): only their
        # first records are kept, so the grouping below hashes runs, not records.
        raw = pl.col("_RAW")
        runs = (
            scan.select(_RAW=pl.col(usubjid).cast(pl.String))
            .with_row_index("_I")
            .filter(raw.ne_missing(raw.shift()) | (pl.col("_I") == 0))
            .collect()
        )
    except Exception as exc:  # every reader's own error becomes one clear message
        raise _unreadable(path, exc) from None
    runs = runs.with_columns(_L=pl.col("_I").shift(-1).fill_null(rows) - 1)
    # Subjects as the checks see them (stripped, empty = missing), in order of first record.
    per_raw = runs.group_by("_RAW").agg(
        pl.col("_I").min(),
        pl.col("_L").max(),
        (pl.col("_L") - pl.col("_I") + 1).sum().alias("_N"),
    )
    per_subject = (
        per_raw.with_columns(_KEY=pl.col("_RAW").str.strip_chars().replace("", None))
        .group_by("_KEY")
        .agg(pl.col("_I").min(), pl.col("_L").max(), pl.col("_N").sum(), pl.col("_RAW"))
        .sort("_I")
        .with_columns(_C=((pl.col("_N").cum_sum() - pl.col("_N")) // rows_per_chunk))
        .with_columns(_C=pl.col("_C").rank("dense").cast(pl.Int64) - 1)
    )
    null_chunk = per_subject.filter(pl.col("_KEY").is_null())["_C"]
    spans = (
        per_subject.group_by("_C")
        .agg(pl.col("_I").min(), pl.col("_L").max(), pl.col("_N").sum())
        .sort("_C")
    )
    return StreamedDomain(
        domain=domain,
        path=path,
        rows=int(rows),
        rename=rename,
        usubjid=usubjid,
        chunk_of=per_subject.select("_RAW", "_C").explode("_RAW"),
        n_chunks=int(per_subject["_C"].n_unique()),
        null_chunk=int(null_chunk[0]) if null_chunk.len() else None,
        spans=list(spans.select("_I", "_L", "_N").iter_rows()),
    )
