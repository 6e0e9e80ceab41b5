"""Synthetic biomarkers for a simulated trial: an SDTM GF domain with a real, modest association
with response and PFS, and an optional expression matrix with a few true prognostic features.

The markers are drawn *after* the outcomes, conditional on each treated subject's simulated
course read back from the SDTM domains: responder = any RS OVRLRESP of CR or PR (iCR / iPR);
progression-free time = days from RFSTDTC to the first OVRLRESP of PD (iUPD / iCPD) or death
(DM DTHDTC), else to the last assessment. With ``r`` the standardised responder indicator and
``s`` the normal score of the progression-free time (longer = higher), each marker has a latent
value ``u = (a r + b s + e) / sqrt(1 + a^2 + b^2)`` (``e`` standard normal, so ``u`` is
about standard normal; a, b in :data:`EFFECTS`):

* PDL1CPS (PD-L1 combined positive score, 0-100): ``round(exp(1.4 + 1.3 u) - 2)`` clipped;
* HER2: POSITIVE when ``u > 1.04`` (about 15 %), else NEGATIVE;
* CDKN2A: LOSS when ``u > 0.25`` (about 40 %), else NO LOSS;
* TMB (mut/Mb): ``round(exp(1.6 + 0.6 u), 1)``;
* MSI: MSI-H when ``u > 1.88`` (about 3 %), else MSS.

Scores carry GFSTRESN and GFSTRESC, statuses GFSTRESC; GFDTC is 7 days before RFSTDTC
(a pre-treatment tissue sample). CDKN2A loss goes with shorter PFS (``b < 0``); the others with response and longer PFS. The
matrix has ``n_features`` standard-normal columns ``GENE_00001`` ... of which the first
``n_signals`` are ``rho s + sqrt(1 - rho^2) e`` (``rho`` = :data:`SIGNAL_RHO`): true prognostic
signals. Same domains and seed give the same frames; everything is drawn with numpy in one pass
(stream numbers 101 and 102 of the simulator's seeding, see :mod:`oncotrial.simulate._base`).
:data:`PANEL` is the matching protocol ``biomarkers`` list.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from scipy.special import ndtri

from oncotrial.errors import InputError, Problem
from oncotrial.protocol.model import Biomarker

GF_STREAM, MATRIX_STREAM = 101, 102
EFFECTS = {"PDL1CPS": (0.35, 0.15), "HER2": (0.3, 0.1), "CDKN2A": (0.0, -0.3),
           "TMB": (0.3, 0.1), "MSI": (0.4, 0.1)}  # fmt: skip
"""(a, b): weight of the standardised responder indicator and of the PFS normal score; the
latent value's correlation with response is a / sqrt(1 + a^2 + b^2), about 0.3 (modest)."""
SIGNAL_RHO = 0.5
PANEL = [
    Biomarker(id="PDL1_CPS", label="PD-L1 combined positive score", type="continuous",
              source="GF", testcd="PDL1CPS", cutoffs=[1, 10]),
    Biomarker(id="HER2", label="HER2 status", type="binary", source="GF", testcd="HER2",
              categories=["POSITIVE", "NEGATIVE"]),
    Biomarker(id="CDKN2A_LOSS", label="CDKN2A loss", type="binary", source="GF",
              testcd="CDKN2A", categories=["LOSS", "NO LOSS"]),
    Biomarker(id="TMB", label="Tumour mutational burden (mut/Mb)", type="continuous",
              source="GF", testcd="TMB", cutoffs=[10]),
    Biomarker(id="MSI", label="Microsatellite instability", type="binary", source="GF",
              testcd="MSI", categories=["MSI-H", "MSS"]),
]  # fmt: skip
"""The simulated panel as protocol markers (``protocol.biomarkers``)."""
_TESTS = {"PDL1CPS": "PD-L1 Combined Positive Score", "HER2": "HER2 Status",
          "CDKN2A": "CDKN2A Copy Number Loss", "TMB": "Tumor Mutational Burden",
          "MSI": "Microsatellite Instability"}  # fmt: skip
_RESPONSE = ("CR", "PR", "iCR", "iPR")
_PROGRESSION = ("PD", "iUPD", "iCPD")


def simulate_biomarkers(
    domains: dict[str, pl.DataFrame], seed: int, n_features: int = 0, n_signals: int = 5
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """(GF domain, expression matrix or None when ``n_features`` is 0) for the treated subjects
    of a simulated trial (``simulate_trial`` output: needs DM and RS)."""
    _check(domains, seed, n_features, n_signals)
    subjects = _outcomes(domains["dm"], domains["rs"])
    n = subjects.height
    r = subjects["RESP"].to_numpy().astype(np.float64)
    r = (r - r.mean()) / r.std() if n > 1 and r.std() > 0 else np.zeros(n)
    s = _normal_scores(subjects["PFS_DAYS"].to_numpy())
    gf = _gf(subjects, r, s, np.random.Generator(np.random.PCG64([seed, GF_STREAM])))
    if n_features == 0:
        return gf, None
    rng = np.random.Generator(np.random.PCG64([seed, MATRIX_STREAM]))
    x = rng.standard_normal((n, n_features))
    k = min(n_signals, n_features)
    x[:, :k] = SIGNAL_RHO * s[:, None] + np.sqrt(1 - SIGNAL_RHO**2) * x[:, :k]
    names = [f"GENE_{j + 1:05d}" for j in range(n_features)]
    matrix = pl.DataFrame(np.round(x, 6), schema=names).insert_column(0, subjects["USUBJID"])
    return gf, matrix


def _check(
    domains: dict[str, pl.DataFrame], seed: object, n_features: object, n_signals: object
) -> None:
    problems = [Problem(f"domain {d.upper()} is needed to simulate biomarkers", variable=d)
                for d in ("dm", "rs") if d not in domains]  # fmt: skip
    for name, value in (("seed", seed), ("n_features", n_features), ("n_signals", n_signals)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(
                Problem("must be a whole number >= 0", variable=name, value=repr(value))
            )
    if problems:
        raise InputError(problems, title="cannot simulate biomarkers")


def _outcomes(dm: pl.DataFrame, rs: pl.DataFrame) -> pl.DataFrame:
    """USUBJID, STUDYID, start, RESP, PFS_DAYS of every treated subject (RFSTDTC present)."""
    start = pl.col("RFSTDTC").str.slice(0, 10).str.to_date(strict=False)
    people = dm.select("STUDYID", "USUBJID", start.alias("START"),
                       pl.col("DTHDTC").str.slice(0, 10).str.to_date(strict=False).alias("DTH"))  # fmt: skip
    people = people.filter(pl.col("START").is_not_null()).sort("USUBJID")
    ovr = rs.filter(pl.col("RSTESTCD") == "OVRLRESP").select(
        "USUBJID", pl.col("RSSTRESC"),
        pl.col("RSDTC").str.slice(0, 10).str.to_date(strict=False).alias("D"))  # fmt: skip
    per = ovr.group_by("USUBJID").agg(
        pl.col("RSSTRESC").is_in(_RESPONSE).any().alias("RESP"),
        pl.col("D").filter(pl.col("RSSTRESC").is_in(_PROGRESSION)).min().alias("PD"),
        pl.col("D").max().alias("LAST"),
    )
    out = people.join(per, on="USUBJID", how="left").with_columns(pl.col("RESP").fill_null(False))
    end = pl.min_horizontal("PD", "DTH").fill_null(pl.col("LAST")).fill_null(pl.col("START"))
    return out.with_columns(
        (end - pl.col("START")).dt.total_days().cast(pl.Float64).alias("PFS_DAYS")
    )


def _normal_scores(t: np.ndarray) -> np.ndarray:
    n = t.size
    if n == 0:
        return np.zeros(0)
    ranks = np.empty(n)
    ranks[np.argsort(t, kind="stable")] = np.arange(1, n + 1)
    return np.asarray(ndtri((ranks - 0.5) / n), dtype=np.float64)


def _gf(
    people: pl.DataFrame, r: np.ndarray, s: np.ndarray, rng: np.random.Generator
) -> pl.DataFrame:
    n = people.height
    u = {
        code: (a * r + b * s + rng.standard_normal(n)) / np.sqrt(1 + a * a + b * b)
        for code, (a, b) in EFFECTS.items()
    }
    cps = np.clip(np.round(np.exp(1.4 + 1.3 * u["PDL1CPS"]) - 2), 0, 100) + 0.0
    tmb = np.round(np.exp(1.6 + 0.6 * u["TMB"]), 1)
    text = {
        "HER2": np.where(u["HER2"] > 1.04, "POSITIVE", "NEGATIVE"),
        "CDKN2A": np.where(u["CDKN2A"] > 0.25, "LOSS", "NO LOSS"),
        "MSI": np.where(u["MSI"] > 1.88, "MSI-H", "MSS"),
    }
    codes = list(_TESTS)
    numbers = {"PDL1CPS": cps, "TMB": tmb}
    k = len(codes)
    stresn = np.full((n, k), np.nan)
    stresc = np.empty((n, k), dtype=object)
    for j, code in enumerate(codes):
        if code in numbers:
            stresn[:, j] = numbers[code]
            stresc[:, j] = [f"{v:g}" for v in numbers[code]]
        else:
            stresc[:, j] = text[code]
    sample = people.select(
        (pl.col("START") - pl.duration(days=7)).dt.to_string("%Y-%m-%d")
    ).to_series()
    units = {"PDL1CPS": None, "TMB": "mut/Mb"}
    return pl.DataFrame({
        "STUDYID": people["STUDYID"].gather(np.repeat(np.arange(n), k)),
        "DOMAIN": ["GF"] * (n * k),
        "USUBJID": people["USUBJID"].gather(np.repeat(np.arange(n), k)),
        "GFSEQ": np.tile(np.arange(1, k + 1), n),
        "GFTESTCD": codes * n,
        "GFTEST": [_TESTS[c] for c in codes] * n,
        "GFORRES": stresc.ravel().tolist(),
        "GFSTRESC": stresc.ravel().tolist(),
        "GFSTRESN": pl.Series(stresn.ravel()).fill_nan(None),
        "GFSTRESU": [units.get(c) for c in codes] * n,
        "GFSPEC": ["TUMOR TISSUE"] * (n * k),
        "GFDTC": sample.gather(np.repeat(np.arange(n), k)),
    })  # fmt: skip


def check_panel_path(path: str | Path) -> Path:
    """``path`` as a Path when it names a ``.parquet`` or ``.csv`` file, else an InputError."""
    path = Path(path)
    if path.suffix.lower() not in (".parquet", ".csv"):
        raise InputError(Problem("a feature panel is written as .parquet or .csv",
                                 file=path.name, variable="features",
                                 value=path.suffix or "(none)"),
                         title="cannot write the feature panel")  # fmt: skip
    return path


def write_feature_panel(matrix: pl.DataFrame | None, path: str | Path) -> Path:
    """Write a simulated expression matrix to ``path`` (``.parquet``, or ``.csv`` with six
    decimals); the folder is created."""
    path = check_panel_path(path)
    if matrix is None:
        raise InputError(Problem("must be at least 1 to write a panel", variable="n_features",
                                 value="0"), title="cannot write the feature panel")  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        matrix.write_parquet(path, compression="zstd", statistics=False)
    else:
        matrix.write_csv(path, float_precision=6, line_terminator="\n")
    return path
