"""Streamed LB/QS (``read_sdtm(..., stream_rows=N)``) is exactly the whole-file path.

A streamed file is checked a chunk of whole subjects at a time with one collector; its problems,
its cleaned records and every dataset derived from it must be those of the file read whole
(commit 6a7a018: "every dataset and listing is equal between the two"). Data: a simulated
trial of 40 treated subjects (about 7,200 LB records) streamed in chunks of 1,500 records, with
errors injected across many subjects so that they fall into different chunks.
"""

from __future__ import annotations

import gc
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from oncotrial.adam_io import DatasetWriter, read_dataset, write_dataset
from oncotrial.cli import app
from oncotrial.derive.pipeline import STAGE, derive_all
from oncotrial.errors import InputError
from oncotrial.protocol import Protocol, parse_protocol
from oncotrial.sdtm import stream
from oncotrial.sdtm.read import MAX_PER_KIND, SdtmData, read_sdtm
from oncotrial.sdtm.stream import plan_stream
from oncotrial.simulate import simulate_sdtm
from tests.conftest import EXAMPLES

PROTOCOL_FILE = EXAMPLES / "anlotinib-sintilimab-escc.yaml"
CHUNK = 1500  # records per chunk: 5 chunks of LB and of QS
BAD_DATE = "2021-02-30"
FORMATS = ("csv", "parquet")
runner = CliRunner()


def _protocol() -> Protocol:
    """The example protocol plus one LB marker, so that derive keeps LB marker records."""
    spec = yaml.safe_load(PROTOCOL_FILE.read_text(encoding="utf-8"))
    spec["biomarkers"] = [
        *spec["biomarkers"],
        {"id": "ALB", "label": "Albumin", "type": "continuous", "source": "LB", "testcd": "ALB"},
    ]
    return parse_protocol(spec)


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The simulated SDTM folder per format."""
    root = tmp_path_factory.mktemp("trial")
    protocol = _protocol()
    for fmt in FORMATS:
        simulate_sdtm(protocol, root / fmt, 40, seed=11, fmt=fmt)  # type: ignore[arg-type]
    return {fmt: root / fmt for fmt in FORMATS}


# --- building broken LB files ---------------------------------------------------------------


def _read_lb(folder: Path, fmt: str) -> pl.DataFrame:
    path = folder / f"lb.{fmt}"
    return pl.read_csv(path, infer_schema=False) if fmt == "csv" else pl.read_parquet(path)


def _with_lb(src: Path, dst: Path, lb: pl.DataFrame, fmt: str) -> Path:
    """A copy of the SDTM folder ``src`` whose LB file is ``lb``."""
    shutil.copytree(src, dst)
    if fmt == "csv":
        lb.write_csv(dst / "lb.csv")
    else:
        lb.write_parquet(dst / "lb.parquet")
    return dst


def _set(lb: pl.DataFrame, rows: list[int], variable: str, value: object) -> pl.DataFrame:
    """``variable`` = ``value`` on the 0-based ``rows``."""
    i = pl.int_range(pl.len())
    dtype = lb.schema[variable]
    return lb.with_columns(
        pl.when(i.is_in(rows))
        .then(pl.lit(value, dtype=dtype))
        .otherwise(pl.col(variable))
        .alias(variable)
    )


def _repeat(lb: pl.DataFrame, rows: list[int]) -> pl.DataFrame:
    """Each of the 0-based ``rows`` followed by a copy equal in every variable but LBSEQ."""
    seq_type = lb.schema["LBSEQ"]
    framed = lb.with_row_index("_I").with_columns(_K=pl.lit(0))
    copies = framed.filter(pl.col("_I").is_in(rows)).with_columns(
        LBSEQ=(pl.col("LBSEQ").cast(pl.Int64) + 100_000).cast(seq_type), _K=pl.lit(1)
    )
    return pl.concat([framed, copies]).sort("_I", "_K").drop("_I", "_K")


def _same_subject_rows(lb: pl.DataFrame, near: list[int]) -> list[int]:
    """For each position, the first row at or after it whose previous row has its subject."""
    ids = lb["USUBJID"].to_list()
    out = []
    for j in near:
        while ids[j] != ids[j - 1]:
            j += 1
        out.append(j)
    return out


def _with_warnings(lb: pl.DataFrame) -> pl.DataFrame:
    """Seven exact repeats and two duplicate keys (USUBJID, LBSEQ), in subjects spread over
    the file: warnings only."""
    n = lb.height
    dup_key = _same_subject_rows(lb, [n // 4, 4 * n // 5])
    seq_before = [lb["LBSEQ"][j - 1] for j in dup_key]
    for j, seq in zip(dup_key, seq_before, strict=True):
        lb = _set(lb, [j], "LBSEQ", seq)
    return _repeat(lb, [10 + k * (n // 7) for k in range(7)])


def _with_errors(lb: pl.DataFrame, fmt: str) -> pl.DataFrame:
    """The warnings of :func:`_with_warnings` plus errors spread over the file: more than
    MAX_PER_KIND impossible LBDTC and non-numeric LBSTRESN, two records of a subject not in DM
    far apart, and records with an empty USUBJID."""
    n = lb.height
    lb = _set(lb, [7 + k * (n // 26) for k in range(26)], "LBDTC", BAD_DATE)
    if fmt == "csv":
        lb = _set(lb, [13 + k * (n // 24) for k in range(24)], "LBSTRESN", "n/a")
    else:  # a Parquet number cannot be text: NaN is not a number either
        lb = _set(lb, [13 + k * (n // 24) for k in range(24)], "LBSTRESN", float("nan"))
    lb = _set(lb, [n // 10, 9 * n // 10], "USUBJID", "ESCC-ANL-SIN-2L-999-9999")
    lb = _set(lb, [n // 3, 2 * n // 3], "USUBJID", None)
    lb = _set(lb, [n // 2], "USUBJID", "   ")
    return _with_warnings(lb)


def _interleaved(lb: pl.DataFrame) -> pl.DataFrame:
    """The records reordered so that every subject's records are spread over the whole file:
    the first record of each subject, then the second of each, ..."""
    return (
        lb.with_row_index("_I")
        .with_columns(_P=pl.int_range(pl.len()).over("USUBJID"))
        .sort("_P", "_I")
        .drop("_I", "_P")
    )


def _whole_problems(folder: Path) -> list[dict[str, object]]:
    with pytest.raises(InputError) as info:
        read_sdtm(folder)
    return [p.to_dict() for p in info.value.problems]


def _streamed_problems(folder: Path) -> list[dict[str, object]]:
    sdtm = read_sdtm(folder, stream_rows=CHUNK)  # LB is not read here: no error yet
    assert sdtm.streamed["lb"].n_chunks >= 4
    with pytest.raises(InputError) as info:
        for _ in sdtm.chunks("lb"):
            pass
    return [p.to_dict() for p in info.value.problems]


# --- 1. validation problems ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_streamed_lb_reports_exactly_the_problems_of_the_whole_file(
    trial: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    lb = _with_errors(_read_lb(trial[fmt], fmt), fmt)
    folder = _with_lb(trial[fmt], tmp_path / "sdtm", lb, fmt)
    whole = _whole_problems(folder)
    # The injected errors are there, with more than MAX_PER_KIND rows of two kinds.
    assert {(p["variable"], p["value"]) for p in whole} >= {
        ("LBDTC", BAD_DATE),
        ("USUBJID", "ESCC-ANL-SIN-2L-999-9999"),
        ("USUBJID", None),
    }
    more = [p["message"] for p in whole if str(p["message"]).startswith("... and ")]
    assert len(more) == 2
    assert sum(p["variable"] == "LBDTC" and p["row"] is not None for p in whole) == MAX_PER_KIND
    assert _streamed_problems(folder) == whole


@pytest.mark.parametrize("fmt", FORMATS)
def test_streamed_lb_reports_the_error_kinds_in_the_order_of_the_checks(
    trial: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    """In the first chunk a subject not in DM and an unparseable LBDTC, in the last chunk an
    impossible LBDTC: the whole file lists dates before subjects (the order of the checks) and
    date problems by their sorted reason, and so must the stream."""
    lb = _read_lb(trial[fmt], fmt)
    lb = _set(lb, [5], "USUBJID", "ESCC-ANL-SIN-2L-999-9999")
    lb = _set(lb, [20], "LBDTC", "10/05/2021")
    lb = _set(lb, [lb.height - 5], "LBDTC", BAD_DATE)
    folder = _with_lb(trial[fmt], tmp_path / "sdtm", lb, fmt)
    whole = _whole_problems(folder)
    assert [(p["row"], p["variable"], p["value"]) for p in whole] == [
        (lb.height - 4, "LBDTC", BAD_DATE),
        (21, "LBDTC", "10/05/2021"),
        (6, "USUBJID", "ESCC-ANL-SIN-2L-999-9999"),
    ]
    assert _streamed_problems(folder) == whole


@pytest.mark.parametrize("fmt", FORMATS)
def test_streamed_lb_adds_exactly_the_warnings_of_the_whole_file(
    trial: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    lb = _with_warnings(_read_lb(trial[fmt], fmt))
    folder = _with_lb(trial[fmt], tmp_path / "sdtm", lb, fmt)
    whole = [w.to_dict() for w in read_sdtm(folder).warnings]
    assert [w["file"] for w in whole] == [f"lb.{fmt}"] * 5  # repeats; 2 x 2 duplicate keys
    assert "7 records repeat an earlier record in every variable but LBSEQ" in str(whole[0])
    assert ", ...); the repeats were dropped" in str(whole[0])
    sdtm = read_sdtm(folder, stream_rows=CHUNK)
    before = len(sdtm.warnings)
    for _ in sdtm.chunks("lb"):
        pass
    assert [w.to_dict() for w in sdtm.warnings[before:]] == whole


# --- 2. clean frames -------------------------------------------------------------------------


def _chunks(sdtm: SdtmData, domain: str) -> list[pl.DataFrame]:
    chunks = list(sdtm.chunks(domain))
    assert len(chunks) >= 4
    return chunks


@pytest.mark.parametrize("order", ["sorted", "interleaved"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_streamed_chunks_hold_whole_subjects_and_concatenate_to_the_whole_frame(
    trial: dict[str, Path], tmp_path: Path, fmt: str, order: str
) -> None:
    lb = _with_warnings(_read_lb(trial[fmt], fmt))
    lb = _set(lb, [lb.height // 3, 2 * lb.height // 3], "LBNRIND", None)
    if order == "interleaved":
        lb = _interleaved(lb)
    folder = _with_lb(trial[fmt], tmp_path / "sdtm", lb, fmt)
    whole = read_sdtm(folder)
    chunks = _chunks(read_sdtm(folder, stream_rows=CHUNK), "lb")
    subjects = [set(c["USUBJID"].to_list()) for c in chunks]
    assert sum(len(s) for s in subjects) == len(set().union(*subjects))  # no subject split
    assert pl.concat(chunks).sort("_ROW").equals(whole["lb"], null_equal=True)
    qs = _chunks(read_sdtm(folder, stream_rows=CHUNK), "qs")
    assert pl.concat(qs).sort("_ROW").equals(whole["qs"], null_equal=True)


def test_indexing_a_streamed_domain_gives_the_whole_frame(trial: dict[str, Path]) -> None:
    whole = read_sdtm(trial["csv"])
    sdtm = read_sdtm(trial["csv"], stream_rows=CHUNK)
    assert set(sdtm.streamed) == {"lb", "qs"}
    assert sdtm["lb"].equals(whole["lb"], null_equal=True)
    assert "lb" not in sdtm.streamed


# --- 3. derive_all, streamed and whole -------------------------------------------------------


def _assert_same_outputs(whole: Path, streamed: Path, fmt: str) -> None:
    names = sorted(p.name for p in whole.iterdir())
    assert sorted(p.name for p in streamed.iterdir()) == names
    assert {"adlb." + fmt, "adqs." + fmt, "adbm." + fmt, "exclusions.csv"} <= set(names)
    for name in names:
        a, b = whole / name, streamed / name
        if name.endswith(".csv"):
            assert a.read_bytes() == b.read_bytes(), name
        else:
            assert read_dataset(a).equals(read_dataset(b), null_equal=True), name


@pytest.mark.parametrize("fmt", FORMATS)
def test_streamed_derive_writes_the_files_of_the_whole_derivation(
    trial: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    protocol = _protocol()
    lb = _with_warnings(_read_lb(trial[fmt], fmt))
    folder = _with_lb(trial[fmt], tmp_path / "sdtm", lb, fmt)
    held = derive_all(read_sdtm(folder), protocol)
    held.write(tmp_path / "whole", fmt)
    out = tmp_path / "streamed"
    result = derive_all(read_sdtm(folder, stream_rows=CHUNK), protocol, out=out, fmt=fmt)
    assert set(result.staged) == {"adlb", "adqs"}
    assert result.records() == held.records()
    result.write(out, fmt)
    assert not (out / STAGE).exists()
    assert (out / "warnings.csv").is_file()
    _assert_same_outputs(tmp_path / "whole", out, fmt)


# --- 4. an error in the last chunk -----------------------------------------------------------


@contextmanager
def _no_file_left_open() -> Iterator[None]:
    """Fails when a file opened inside the block is left open (its ResourceWarning, which
    ``gc.collect`` forces out once the failed derivation's frames are gone)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []


def _error_in_last_chunk(trial: dict[str, Path], tmp_path: Path, fmt: str) -> tuple[Path, int]:
    """An SDTM folder whose last LB record (in the last chunk) has an impossible LBDTC; returns
    the folder and the record's 1-based row."""
    lb = _read_lb(trial[fmt], fmt)
    lb = _set(lb, [lb.height - 1], "LBDTC", BAD_DATE)
    folder = _with_lb(trial[fmt], tmp_path / "sdtm", lb, fmt)
    plan = plan_stream("lb", folder / f"lb.{fmt}", CHUNK)
    assert plan is not None and plan.n_chunks >= 4
    last = plan.chunk_of.filter(pl.col("_RAW") == lb["USUBJID"][-1])["_C"].to_list()
    assert last == [plan.n_chunks - 1]
    return folder, lb.height


@pytest.mark.parametrize("fmt", FORMATS)
def test_error_in_the_last_chunk_leaves_no_staging_folder_and_no_adlb(
    trial: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    folder, row = _error_in_last_chunk(trial, tmp_path, fmt)
    out = tmp_path / "adam"
    sdtm = read_sdtm(folder, stream_rows=CHUNK)
    with _no_file_left_open():
        with pytest.raises(InputError) as info:
            derive_all(sdtm, _protocol(), out=out, fmt=fmt)
        [problem] = info.value.problems
        del info
    assert (problem.file, problem.row, problem.variable, problem.value) == (
        f"lb.{fmt}",
        row,
        "LBDTC",
        BAD_DATE,
    )
    assert not (out / STAGE).exists()
    assert not list(out.rglob("adlb.*"))


def _with_bad_qs_date(folder: Path, fmt: str, row: int) -> int:
    """``folder``'s QS file with an impossible QSDTC on the 0-based ``row`` (negative: from
    the end); returns the record's 1-based row."""
    path = folder / f"qs.{fmt}"
    qs = pl.read_csv(path, infer_schema=False) if fmt == "csv" else pl.read_parquet(path)
    row = row % qs.height
    qs = _set(qs, [row], "QSDTC", BAD_DATE)
    qs.write_csv(path) if fmt == "csv" else qs.write_parquet(path)
    return row + 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_error_in_qs_derived_beside_adlb_is_raised_and_leaves_nothing(
    trial: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    """ADQS is derived by a second thread while ADLB is derived: its error still reaches the
    caller, with no staging folder and no file left open."""
    folder = _with_lb(trial[fmt], tmp_path / "sdtm", _read_lb(trial[fmt], fmt), fmt)
    row = _with_bad_qs_date(folder, fmt, -1)
    sdtm = read_sdtm(folder, stream_rows=CHUNK)
    assert set(sdtm.streamed) == {"lb", "qs"}
    out = tmp_path / "adam"
    with _no_file_left_open():
        with pytest.raises(InputError) as info:
            derive_all(sdtm, _protocol(), out=out, fmt=fmt)
        [problem] = info.value.problems
        del info
    assert (problem.file, problem.row, problem.variable) == (f"qs.{fmt}", row, "QSDTC")
    assert not (out / STAGE).exists()
    assert not list(out.rglob("ad*"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_when_lb_and_qs_both_fail_the_lb_error_is_raised_as_in_the_sequential_order(
    trial: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    folder, lb_row = _error_in_last_chunk(trial, tmp_path, fmt)
    _with_bad_qs_date(folder, fmt, 0)
    out = tmp_path / "adam"
    with _no_file_left_open():
        with pytest.raises(InputError) as info:
            derive_all(read_sdtm(folder, stream_rows=CHUNK), _protocol(), out=out, fmt=fmt)
        [problem] = info.value.problems
        del info
    assert (problem.file, problem.row, problem.variable) == (f"lb.{fmt}", lb_row, "LBDTC")
    assert not (out / STAGE).exists()


def test_cli_derive_exits_2_naming_the_record_of_an_error_found_while_streaming(
    trial: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, row = _error_in_last_chunk(trial, tmp_path, "csv")
    monkeypatch.setattr(stream, "DEFAULT_CHUNK_ROWS", CHUNK)
    out = tmp_path / "adam"
    args = ["derive", "--sdtm", str(folder), "--protocol", str(PROTOCOL_FILE), "--out", str(out)]
    with _no_file_left_open():
        result = runner.invoke(app, args)
        code, output = result.exit_code, result.output
        del result  # its exception chain holds the failed derivation's frames
    assert code == 2, output
    assert f"lb.csv, row {row}, LBDTC = '{BAD_DATE}': impossible date" in output
    assert "Traceback" not in output
    assert not (out / STAGE).exists()
    assert not list(out.rglob("adlb.*"))


# --- 5. DatasetWriter ------------------------------------------------------------------------


def _dataset() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "USUBJID": ["S-1", "S-1", "S-2", "S-3", "S-3", "S-4", "S-5"],
            "PARAMCD": ["ALB", "HGB", "ALB", "ALB", None, "HGB", "ALB"],
            "AVAL": [41.5, 132.0, None, 38.25, 40.0, 1e-7, 12345678.9],
            "ADT": pl.Series([19000, 19030, None, 19001, 19002, 19500, 19003]).cast(pl.Date),
            "ASEQ": [1, 2, 1, 1, 2, 1, 1],
            "_ROW": [7, 8, 9, 10, 11, 12, 13],
        }
    )


def _in_chunks(frame: pl.DataFrame, path: Path, fmt: str) -> Path:
    writer = DatasetWriter(path, fmt)
    for part in (frame[:2], frame[2:3], frame[3:]):
        writer.write(part)
    assert writer.rows == frame.height
    return writer.close()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xpt"])
def test_dataset_writer_in_chunks_writes_the_file_of_write_dataset(
    tmp_path: Path, fmt: str
) -> None:
    frame = _dataset()
    whole = write_dataset(frame, tmp_path / "whole" / "adlb", fmt)
    chunked = _in_chunks(frame, tmp_path / "chunked" / "adlb", fmt)
    assert chunked.name == whole.name == f"adlb.{fmt}"
    if fmt == "csv":
        assert chunked.read_bytes() == whole.read_bytes()
    assert read_dataset(chunked).equals(read_dataset(whole), null_equal=True)
    assert "_ROW" not in read_dataset(chunked).columns


def test_dataset_writer_casts_a_chunk_to_the_first_chunks_types(tmp_path: Path) -> None:
    """A chunk where a variable is all empty (type Null) or integral is written with the first
    chunk's types, as the whole frame would be."""
    frame = _dataset()
    odd = frame[2:3].with_columns(AVAL=pl.lit(None), ASEQ=pl.col("ASEQ").cast(pl.Int32))
    writer = DatasetWriter(tmp_path / "adlb", "parquet")
    for part in (frame[:2], odd, frame[3:]):
        writer.write(part)
    path = writer.close()
    assert read_dataset(path).equals(frame.drop("_ROW"), null_equal=True)


def test_dataset_writer_refuses_a_chunk_with_other_variables(tmp_path: Path) -> None:
    frame = _dataset()
    writer = DatasetWriter(tmp_path / "adlb", "csv")
    writer.write(frame[:2])
    with pytest.raises(ValueError, match="adlb.csv has other variables than the first"):
        writer.write(frame[2:].drop("ASEQ"))
    with pytest.raises(ValueError, match="other variables"):
        writer.write(frame[2:].select("USUBJID", "AVAL", "PARAMCD", "ADT", "ASEQ"))
    writer.close()


class _FailingParquetWriter:
    """Stands in for pyarrow's ParquetWriter: the second row group fails (a full disk)."""

    def __init__(self, path: Path, *args: object, **kwargs: object) -> None:
        self.groups = 0
        self.closed = False

    def write_table(self, table: object) -> None:
        self.groups += 1
        if self.groups == 2:
            raise OSError("No space left on device")

    def close(self) -> None:
        self.closed = True


def test_dataset_writer_raises_the_writing_threads_error_at_the_next_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks are written by a background thread; its error is not lost: the next write (or
    close) raises it, and abort closes the file without raising."""
    import pyarrow.parquet as pq

    monkeypatch.setattr(pq, "ParquetWriter", _FailingParquetWriter)
    frame = _dataset()
    writer = DatasetWriter(tmp_path / "adlb", "parquet")
    writer.write(frame[:2])
    writer.write(frame[2:3])  # the first row group is written by now
    with pytest.raises(OSError, match="No space left on device"):
        writer.write(frame[3:])
    handle = writer._handle
    writer.abort()
    assert handle.closed and writer._handle is None and writer._thread is None

    late = DatasetWriter(tmp_path / "adqs", "parquet")
    late.write(frame[:2])
    late.write(frame[2:3])
    with pytest.raises(OSError, match="No space left on device"):
        late.close()
    assert late._handle is None


def test_dataset_writer_refuses_an_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="format 'sas7bdat' is not supported"):
        DatasetWriter(tmp_path / "adlb", "sas7bdat")
