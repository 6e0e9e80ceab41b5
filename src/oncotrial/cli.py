"""The `oncotrial` command: arguments → library call → formatted output or a clear error.

No clinical rule lives here. Every library error (:class:`~oncotrial.errors.InputError`) is
printed as a list of problems and exits with code 2; an unexpected error prints one line (set
``ONCOTRIAL_DEBUG=1`` for the traceback) and exits with code 1. Patient rows are never printed
in an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

# polars allocates with jemalloc; keeping freed pages for 5 s instead of handing them back at
# once saves the page faults of re-allocating them: at 20,000 subjects derive spends 9.5 s -> 4.4 s
# in the kernel (bench/README.md). Read when polars loads, so set before any import of it; a
# value the user has set is kept.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:5000,muzzy_decay_ms:5000")

import typer
from rich.console import Console

from oncotrial import __version__
from oncotrial.errors import InputError, OncotrialError

app = typer.Typer(
    name="oncotrial",
    help="Run and evaluate single-arm phase II oncology trials: SDTM → ADaM → results → report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
protocol_app = typer.Typer(help="Check, print, list and import protocols.", no_args_is_help=True)
app.add_typer(protocol_app, name="protocol")


def _mount_subapps() -> None:
    from oncotrial.design.cli import app as design_app

    app.add_typer(
        design_app,
        name="design",
        help="Simon two-stage designs: plan, operating characteristics, decide.",
    )


_mount_subapps()

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])

ProtocolOpt = Annotated[Path, typer.Option("--protocol", help="protocol.yaml of the trial.")]
SdtmOpt = Annotated[Path, typer.Option("--sdtm", help="Folder of SDTM domains (csv/xpt/parquet).")]


def guarded(func: F) -> F:
    """Turn library errors into readable messages and exit codes (2: bad input, 1: internal)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            err.print(exc.render(), markup=False)
            raise typer.Exit(2) from None
        except OncotrialError as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # the last line of defence: one line, no patient data
            if os.environ.get("ONCOTRIAL_DEBUG"):
                raise
            err.print(
                f"internal error ({type(exc).__name__}): {exc}. This is a bug in oncotrial; "
                "rerun with ONCOTRIAL_DEBUG=1 for details and report it.",
                markup=False,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _load(protocol: Path) -> Any:
    from oncotrial.protocol import load_protocol

    return load_protocol(protocol)


def _read(
    sdtm: Path, protocol: Any, domains: list[str] | None = None, stream_rows: int | None = None
) -> Any:
    from oncotrial.sdtm.read import read_sdtm

    data = read_sdtm(sdtm, files=protocol.sdtm_files, domains=domains, stream_rows=stream_rows)
    for w in data.warnings:
        err.print(f"warning: {w}", markup=False)
    return data


@app.command()
def version() -> None:
    """Print the oncotrial version.

    Example: oncotrial version
    """
    out.print(__version__)


@protocol_app.command("check")
@guarded
def protocol_check(
    file: Annotated[Path, typer.Argument(help="protocol.yaml to validate.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only report problems.")] = False,
) -> None:
    """Validate a protocol and print it with every default resolved.

    Example: oncotrial protocol check examples/protocols/anlotinib-sintilimab-escc.yaml
    """
    from oncotrial.protocol import dump_protocol, protocol_warnings

    protocol = _load(file)
    if not quiet:
        out.print(dump_protocol(protocol, resolved=True), markup=False)
    for w in protocol_warnings(protocol):
        err.print(f"warning: {w}", markup=False)
    err.print(f"{file}: valid protocol {protocol.id!r}", markup=False)


@protocol_app.command("import")
@guarded
def protocol_import(
    record: Annotated[Path, typer.Argument(help="Registry record (.txt), either layout.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write the protocol draft.")
    ],
) -> None:
    """Draft a protocol from a registry record; unmapped text is kept as checklist items.

    Example: oncotrial protocol import ../shared/registry-records/apatinib-escc.txt -o apatinib.yaml
    """
    from oncotrial.protocol.registry import import_to_yaml

    text, result = import_to_yaml(record)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    out.print(result.report, markup=False)
    out.print(
        f"wrote {output}: {len(result.protocol.endpoints)} endpoints, "
        f"{len(result.protocol.eligibility)} criteria, {len(result.unmapped)} kept as checklist items",
        markup=False,
    )


@protocol_app.command("fields")
def protocol_fields() -> None:
    """List every protocol setting with its type, default and meaning.

    Example: oncotrial protocol fields
    """
    from oncotrial.protocol.docs import field_table

    for row in field_table():
        out.print(f"{row.path}  ({row.type}, default {row.default})", markup=False)
        if row.doc:
            out.print(f"    {row.doc}", markup=False)


@app.command()
@guarded
def validate(
    sdtm: SdtmOpt,
    protocol: Annotated[
        Path | None, typer.Option("--protocol", help="Protocol (for sdtm_files).")
    ] = None,
    every_file: Annotated[
        bool,
        typer.Option(
            "--every-file", help="Validate every file on its own, even several per domain."
        ),
    ] = False,
) -> None:
    """Read and validate an SDTM folder; list every problem with file, row and variable.

    Example: oncotrial validate --sdtm build/demo/sdtm
    """
    from oncotrial.errors import InputError as _InputError
    from oncotrial.sdtm.read import read_sdtm, validate_every_file

    if every_file:
        counts, problems = validate_every_file(sdtm)
        for w in (p for p in problems if p.severity == "warning"):
            err.print(f"warning: {w}", markup=False)
        for name, n in counts.items():
            out.print(f"{name:28s} {n:>10,d} records", markup=False)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise _InputError(errors, title=f"invalid SDTM in {sdtm}")
        out.print(f"valid: {len(counts)} files", markup=False)
        return

    files = _load(protocol).sdtm_files if protocol else None
    data = read_sdtm(sdtm, files=files)
    for w in data.warnings:
        err.print(f"warning: {w}", markup=False)
    for name, frame in sorted(data.domains.items()):
        out.print(
            f"{name:8s} {data.files[name].name:28s} {frame.height:>10,d} records", markup=False
        )
    out.print(f"valid: {len(data.domains)} domains, {len(data.warnings)} warnings", markup=False)


@app.command()
@guarded
def derive(
    sdtm: SdtmOpt,
    protocol: ProtocolOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the ADaM datasets.")],
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet or xpt.")] = "csv",
) -> None:
    """Derive every ADaM dataset the SDTM allows (ADSL, ADRS, ADTR, ADTTE, ADAE, ADLB, ADQS).

    Example: oncotrial derive --sdtm build/demo/sdtm --protocol examples/protocols/anlotinib-sintilimab-escc.yaml --out build/demo/adam
    """
    from oncotrial.derive.pipeline import derive_all
    from oncotrial.sdtm.stream import DEFAULT_CHUNK_ROWS

    proto = _load(protocol)
    # LB and QS files larger than a chunk are streamed: ADLB and ADQS never held whole.
    data = _read(sdtm, proto, stream_rows=DEFAULT_CHUNK_ROWS)
    n_read = len(data.warnings)
    result = derive_all(data, proto, out=out_dir, fmt=fmt)
    for w in data.warnings[n_read:]:  # found while the streamed domains were read
        err.print(f"warning: {w}", markup=False)
    paths = result.write(out_dir, fmt)
    for name, n in result.records().items():
        out.print(f"{name:6s} {n:>10,d} records", markup=False)
    n_excl = int(result.exclusions["N"].sum()) if result.exclusions.height else 0
    out.print(f"excluded records: {n_excl} (reasons in {out_dir / 'exclusions.csv'})", markup=False)
    out.print(f"wrote {len(paths)} files to {out_dir}", markup=False)


@app.command()
@guarded
def simulate(
    protocol: ProtocolOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the SDTM domains.")],
    subjects: Annotated[int, typer.Option("--subjects", min=1, help="Treated subjects.")] = 53,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same files.")] = 0,
    screen_failures: Annotated[
        int | None,
        typer.Option("--screen-failures", min=0, help="Screen failures (default ~15 %)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    features: Annotated[
        Path | None,
        typer.Option(
            "--features",
            help="Also write a noise expression panel (USUBJID + GENE_00001 ...; .parquet or "
            ".csv) of the treated subjects, the first 5 features true PFS signals; for "
            "`analyze`/`report --features`.",
        ),
    ] = None,
    n_features: Annotated[
        int, typer.Option("--n-features", min=1, help="Features of the --features panel.")
    ] = 2000,
) -> None:
    """Simulate a realistic trial as SDTM (dm ds ex tu tr rs ae lb qs ss cm vs; gf when the
    protocol lists biomarkers), and optionally an expression panel (--features FILE).

    Example: oncotrial simulate --protocol examples/protocols/anlotinib-sintilimab-escc.yaml --subjects 53 --seed 1 --out build/demo/sdtm --features build/demo/panel/expression.parquet
    """
    from oncotrial.simulate import simulate_sdtm

    if fmt not in ("csv", "parquet"):
        raise InputError(
            f"--format must be csv or parquet, but was {fmt!r}", title="invalid option"
        )
    paths = simulate_sdtm(
        _load(protocol), out_dir, n_subjects=subjects, seed=seed, n_screen_fail=screen_failures,
        fmt=fmt, features=features, n_features=n_features,  # type: ignore[arg-type]
    )  # fmt: skip
    domains = paths[:-1] if features is not None else paths
    for p in domains:
        out.print(f"{p.name}", markup=False)
    out.print(f"wrote {len(domains)} domains to {out_dir}", markup=False)
    if features is not None:
        out.print(f"wrote a panel of {n_features:,} features to {paths[-1]}", markup=False)


@app.command()
@guarded
def explain(
    usubjid: Annotated[str, typer.Argument(help="The subject (USUBJID).")],
    sdtm: SdtmOpt,
    protocol: ProtocolOpt,
) -> None:
    """Print one subject's assessments, lesions, sums, % changes, responses and why.

    Example: oncotrial explain 01-701-1015 --sdtm tests/reference/pharmaverse/sdtm --protocol examples/protocols/pharmaverse.yaml
    """
    from oncotrial.derive.pipeline import explain as explain_one

    proto = _load(protocol)
    out.print(explain_one(usubjid, _read(sdtm, proto), proto), markup=False)


@app.command()
@guarded
def eligibility(
    protocol: ProtocolOpt,
    sdtm: SdtmOpt,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for the screening log CSVs.")
    ] = None,
) -> None:
    """Screen every subject against the protocol's computable criteria: a screening log.

    Example: oncotrial eligibility --protocol examples/protocols/anlotinib-sintilimab-escc.yaml --sdtm build/demo/sdtm --out build/demo/screening
    """
    from oncotrial.eligibility import screen
    from oncotrial.eligibility.screen import SCREEN_DOMAINS

    proto = _load(protocol)
    log = screen(proto, _read(sdtm, proto, domains=list(SCREEN_DOMAINS)))
    counts = log.counts()
    out.print(
        f"{counts['subjects']} subjects: {counts['eligible']} eligible, {counts['not_eligible']} not "
        f"eligible, {counts['not_assessable']} not assessable",
        markup=False,
    )
    failures = log.failures()
    if failures.height:
        for row in failures.iter_rows(named=True):
            out.print("  " + ", ".join(f"{k}={v}" for k, v in row.items()), markup=False)
    target = out_dir or sdtm.parent / "screening"
    paths = log.to_csv(target)
    out.print(f"wrote {', '.join(str(p) for p in paths)}", markup=False)


AdamOpt = Annotated[Path, typer.Option("--adam", help="Folder of ADaM datasets (from derive).")]
FeaturesOpt = Annotated[
    Path | None,
    typer.Option(
        "--features",
        help="Expression panel (Parquet or CSV: USUBJID + one numeric column per feature): "
        "screened against ORR and PFS (results.json biomarkers.screen).",
    ),
]


def _panel(features: Path | None, adam_data: dict[str, Any]) -> Any:
    if features is None:
        return None
    from oncotrial.biomarkers.screen_results import read_feature_panel

    return read_feature_panel(features, adam_data["adsl"])


@app.command()
@guarded
def analyze(
    adam: AdamOpt,
    protocol: ProtocolOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for results.json and tables/.")],
    features: FeaturesOpt = None,
) -> None:
    """Compute every endpoint per cohort and pooled: results.json and tables/*.csv.

    Example: oncotrial analyze --adam build/demo/adam --protocol examples/protocols/anlotinib-sintilimab-escc.yaml --out build/demo/results --features build/demo/panel/expression.parquet
    """
    from oncotrial.adam_io import read_adam
    from oncotrial.analyze import analyze_all
    from oncotrial.analyze.columns import ANALYSIS_COLUMNS

    proto = _load(protocol)
    adam_data = read_adam(adam, ANALYSIS_COLUMNS)
    results = analyze_all(adam_data, proto, _panel(features, adam_data))
    paths = results.write(out_dir)
    out.print(f"wrote {paths[0]} and {len(paths) - 1} tables", markup=False)


@app.command()
@guarded
def report(
    adam: AdamOpt,
    protocol: ProtocolOpt,
    out_file: Annotated[Path, typer.Option("--out", help="The report file (report.html).")],
    features: FeaturesOpt = None,
) -> None:
    """Analyse and write the self-contained HTML report, with results.json and tables/ beside it.

    Example: oncotrial report --adam build/demo/adam --protocol examples/protocols/anlotinib-sintilimab-escc.yaml --out build/demo/report/report.html --features build/demo/panel/expression.parquet
    """
    from oncotrial.adam_io import read_adam
    from oncotrial.analyze import analyze_all
    from oncotrial.analyze.columns import ANALYSIS_COLUMNS
    from oncotrial.report import read_listings, render_report
    from oncotrial.report.sections import FigureBook
    from oncotrial.report.sections._context import FIGURES_MODULE
    from oncotrial.report.sections._pool import FigurePool, default_workers

    proto = _load(protocol)
    workers = default_workers()
    # Started first: the workers import matplotlib while the analysis runs, then draw figures.
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(FigurePool(workers, FIGURES_MODULE)) if workers else None
        adam_data = read_adam(adam, ANALYSIS_COLUMNS)
        results = analyze_all(adam_data, proto, _panel(features, adam_data))
        results.write(out_file.parent)
        path = render_report(
            results, out_file, adam={**adam_data, **read_listings(adam)}, protocol=proto,
            figures=FigureBook(pool=pool),
        )  # fmt: skip
    out.print(f"Report: {path.resolve()}", markup=False)


def main() -> None:
    """Entry point of the console script."""
    try:
        app()
    except SystemExit as exc:
        sys.exit(exc.code)


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=str)


if __name__ == "__main__":  # pragma: no cover
    main()
