"""Writing and reading ADaM datasets (CSV, Parquet, SAS XPT v5) with their types intact.

CSV is the default for people; Parquet keeps types exactly; XPT v5 is what regulators receive
(FDA Study Data Technical Conformance Guide): variable names of at most 8 characters, dates as
SAS dates with the DATE9. format. Reading CSV back restores dates from the ADaM naming convention
(variables ending in ``DT``, plus ``STARTDT`` and the like, are dates).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from oncotrial.errors import InputError, Problem

FORMATS = ("csv", "parquet", "xpt")
SAS_EPOCH = date(1960, 1, 1)
ADAM_NAMES = ("adsl", "adrs", "adtr", "adtte", "adae", "adlb", "adqs", "adbm")
_DATE_NAME = re.compile(r"^[A-Z0-9]*DT$")


def write_dataset(frame: pl.DataFrame, path: Path, fmt: str = "csv") -> Path:
    """Write one dataset; returns the path written (with the format's suffix)."""
    if fmt not in FORMATS:
        raise InputError(
            Problem(f"format {fmt!r} is not supported; accepted: {', '.join(FORMATS)}"),
            title="invalid option",
        )
    path = path.with_suffix(f".{fmt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    public = frame.select([c for c in frame.columns if not c.startswith("_")])
    if fmt == "csv":
        public.write_csv(path, date_format="%Y-%m-%d")
    elif fmt == "parquet":
        public.write_parquet(path)
    else:
        import pyreadstat

        long = [c for c in public.columns if len(c) > 8]
        if long:
            raise InputError(
                Problem(
                    f"XPT v5 allows variable names of at most 8 characters: {', '.join(long)}",
                    file=path.name,
                ),
                title="cannot write XPT",
            )
        dates = [c for c, t in public.schema.items() if t == pl.Date]
        # SAS dates are days since 1960-01-01 with a date format (DATE9.); a datetime would be
        # written in seconds, which SAS would then read as days.
        sas = public.with_columns(
            (pl.col(c) - pl.lit(SAS_EPOCH)).dt.total_days().cast(pl.Float64) for c in dates
        )
        pyreadstat.write_xport(
            sas.to_pandas(), str(path), table_name=path.stem.upper()[:8], file_format_version=5,
            variable_format={c: "DATE9" for c in dates},
        )  # fmt: skip
    return path


STATISTICS = ("STUDYID", "USUBJID", "PARAMCD", "PARCAT1", "AVISITN", "ADT", "ADY", "AVAL")
"""Variables whose Parquet min/max statistics :class:`DatasetWriter` writes."""


class DatasetWriter:
    """One dataset written a chunk at a time, so that a dataset larger than memory never has to
    be held whole: CSV chunks are appended under one header, Parquet chunks become row groups of
    one file (pyarrow ``ParquetWriter``). XPT cannot be appended to, so its chunks are gathered
    and written at :meth:`close`. Every chunk must have the first chunk's variables; their types
    are cast to the first chunk's. The file is the one :func:`write_dataset` would write.

    A chunk is encoded and written by a background thread while the caller derives the next one
    (pyarrow and polars release the GIL while they encode): at 100,000 subjects writing ADLB and
    ADQS is a fifth of ``oncotrial derive``'s CPU time, and one core was idle meanwhile. At most
    one chunk is in flight, so memory grows by one chunk at most. An error of the writing thread
    is raised by the next :meth:`write` or by :meth:`close`."""

    def __init__(self, path: Path, fmt: str = "csv"):
        if fmt not in FORMATS:
            raise InputError(
                Problem(f"format {fmt!r} is not supported; accepted: {', '.join(FORMATS)}"),
                title="invalid option",
            )
        self.fmt = fmt
        self.path = path.with_suffix(f".{fmt}")
        self.rows = 0
        self._schema: dict[str, pl.DataType] | None = None
        self._parts: list[pl.DataFrame] = []
        self._handle: Any = None
        self._thread: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def write(self, frame: pl.DataFrame) -> None:
        public = frame.select([c for c in frame.columns if not c.startswith("_")])
        if self._schema is None:
            self._schema = dict(public.schema)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        else:
            if public.columns != list(self._schema):
                raise ValueError(f"chunk of {self.path.name} has other variables than the first")
            public = public.cast(self._schema)  # type: ignore[arg-type]
        self.rows += public.height
        if self.fmt == "xpt":
            self._parts.append(public)
            return
        self._wait()
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"write-{self.path.stem}")
        self._pending = self._thread.submit(self._append, public)

    def _append(self, public: pl.DataFrame) -> None:
        if self.fmt == "csv":
            if self._handle is None:
                self._handle = self.path.open("wb")
                public.write_csv(self._handle, date_format="%Y-%m-%d")
            else:
                public.write_csv(self._handle, date_format="%Y-%m-%d", include_header=False)
            return
        table = public.to_arrow()
        if self._handle is None:
            import pyarrow.parquet as pq

            # Min/max statistics of the key variables only (what readers filter on): for all
            # 48 ADLB variables they cost a quarter of the writing time.
            stats = [c for c in STATISTICS if c in public.columns]
            self._handle = pq.ParquetWriter(
                self.path, table.schema, compression="zstd", write_statistics=stats
            )
        self._handle.write_table(table)

    def _wait(self) -> None:
        """Let the chunk in flight finish; raises the writing thread's error, if any."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> Path:
        """Finish the file (after the chunk in flight); returns its path."""
        try:
            self._wait()
        finally:
            if self._thread is not None:
                self._thread.shutdown()
                self._thread = None
            if self._handle is not None:
                self._handle.close()
                self._handle = None
        if self._parts:
            write_dataset(pl.concat(self._parts), self.path, self.fmt)
            self._parts = []
        return self.path

    def abort(self) -> None:
        """Close the file of a failed derivation, whatever state the writing thread is in (the
        caller removes the file and raises its own error)."""
        self._parts = []
        with contextlib.suppress(Exception):  # the derivation's error is the one to report
            self.close()


_NUMERIC_NAME = re.compile(
    r"^(AVAL|BASE|CHG|PCHG|NADIR|CHGNAD|PCHGNAD|CNSR|AGE|ADY|ASEQ|SRCSEQ|TRTDURD|NITEMS|NEEDED)$"
    r"|^[A-Z0-9]*N$|^[AB]TOXGR[LH]?$"
)


def _restore_types(frame: pl.DataFrame) -> pl.DataFrame:
    """Dates from their ADaM names; an all-empty column of a numeric ADaM variable (e.g. ATOXGRN
    when no grade was collected) becomes numeric again instead of text."""
    casts = []
    for name, dtype in frame.schema.items():
        if dtype in (pl.String, pl.Null) and frame[name].null_count() == frame.height:
            if _DATE_NAME.match(name):
                casts.append(pl.col(name).cast(pl.Date))
            elif _NUMERIC_NAME.match(name):
                casts.append(pl.col(name).cast(pl.Float64))
            else:
                casts.append(pl.col(name).cast(pl.String))
        elif _DATE_NAME.match(name) and dtype == pl.String:
            casts.append(pl.col(name).str.to_date("%Y-%m-%d", strict=False))
        elif _DATE_NAME.match(name) and dtype == pl.Datetime:
            casts.append(pl.col(name).dt.date())
    return frame.with_columns(casts) if casts else frame


def read_dataset(path: Path, columns: Iterable[str] | None = None) -> pl.DataFrame:
    """One ADaM dataset with its types restored; ``columns`` reads only those variables (the
    ones present), which keeps an 18-million-record ADLB small in memory."""
    name = path.name.lower()
    wanted = None if columns is None else list(columns)
    try:
        if name.endswith(".csv"):
            use = None
            if wanted is not None:
                header = pl.read_csv(path, n_rows=0, infer_schema=False).columns
                use = [c for c in header if c in wanted]
            frame = pl.read_csv(path, infer_schema_length=None, columns=use)
        elif name.endswith(".parquet"):
            use = None
            if wanted is not None:
                use = [c for c in pl.read_parquet_schema(path) if c in wanted]
            frame = pl.read_parquet(path, columns=use)
        elif name.endswith(".xpt"):
            import pyreadstat

            pdf, _ = pyreadstat.read_xport(str(path), usecols=wanted)
            frame = pl.from_pandas(pdf)
        else:
            raise InputError(
                Problem("unknown ADaM file type", file=str(path)), title="invalid ADaM"
            )
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            Problem(
                f"cannot be read: {str(exc).splitlines()[0] if str(exc) else exc!r}", file=path.name
            ),
            title="invalid ADaM",
        ) from None
    return _restore_types(frame)


def read_adam(
    folder: str | Path, columns: Mapping[str, Iterable[str]] | None = None
) -> dict[str, pl.DataFrame]:
    """Every ADaM dataset found in ``folder`` (adsl is required); ``columns`` names, per
    dataset, the only variables to read (e.g. what the analysis uses of ADLB and ADQS)."""
    columns = columns or {}
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(Problem("ADaM folder not found", file=str(folder)), title="invalid ADaM")
    out: dict[str, pl.DataFrame] = {}
    for name in ADAM_NAMES:
        for fmt in ("parquet", "csv", "xpt"):
            p = folder / f"{name}.{fmt}"
            if p.is_file():
                out[name] = read_dataset(p, columns.get(name))
                break
    if "adsl" not in out:
        raise InputError(
            Problem(
                "adsl.csv / adsl.parquet / adsl.xpt not found; run `oncotrial derive` first",
                file=str(folder),
            ),
            title="invalid ADaM",
        )
    return out
