"""Shared fixtures: paths to reference data and a minimal valid SDTM folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import polars as pl

    from oncotrial.analyze.results import Results
    from oncotrial.protocol.model import Protocol

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"
PHARMAVERSE_SDTM = REFERENCE / "pharmaverse" / "sdtm"
PHARMAVERSE_ADAM = REFERENCE / "pharmaverse" / "adam"
EXAMPLES = ROOT / "examples" / "protocols"
PHARMAVERSE_FILES = {
    "tu": "tu_onco_recist.csv",
    "tr": "tr_onco_recist.csv",
    "rs": "rs_onco_recist.csv",
}

# The smallest trial that exercises every domain's checks: two subjects, one lesion each.
MINIMAL_SDTM = {
    "dm": """STUDYID,USUBJID,ARMCD,ARM,RFSTDTC,BRTHDTC,AGE,SEX,DTHDTC,DTHFL
S1,S1-001,TRT,Treatment,2021-03-01,1960-05-01,60,M,,
S1,S1-002,TRT,Treatment,2021-03-08,1955-01-01,66,F,2021-09-30,Y
""",
    "ds": """USUBJID,DSSEQ,DSCAT,DSDECOD,DSSTDTC
S1-001,1,PROTOCOL MILESTONE,ENROLLED,2021-02-25
S1-002,1,PROTOCOL MILESTONE,ENROLLED,2021-03-05
S1-002,2,DISPOSITION EVENT,DEATH,2021-09-30
""",
    "ex": """USUBJID,EXSEQ,EXTRT,EXDOSE,EXDOSU,EXSTDTC,EXENDTC
S1-001,1,ANLOTINIB,12,mg,2021-03-01,2021-03-14
S1-002,1,ANLOTINIB,12,mg,2021-03-08,2021-03-21
""",
    "tu": """USUBJID,TUSEQ,TULNKID,TUTESTCD,TUORRES,TUSTRESC,TULOC,TUEVAL,VISIT,TUDTC
S1-001,1,T01,TUMIDENT,TARGET,TARGET,LIVER,INVESTIGATOR,SCREENING,2021-02-20
S1-002,1,T01,TUMIDENT,TARGET,TARGET,LUNG,INVESTIGATOR,SCREENING,2021-02-27
""",
    "tr": """USUBJID,TRSEQ,TRLNKID,TRTESTCD,TRORRES,TRSTRESC,TRSTRESN,TRSTRESU,TREVAL,VISIT,TRDTC
S1-001,1,T01,LDIAM,30,30,30,mm,INVESTIGATOR,SCREENING,2021-02-20
S1-001,2,T01,LDIAM,20,20,20,mm,INVESTIGATOR,WEEK 6,2021-04-12
S1-002,1,T01,LDIAM,25,25,25,mm,INVESTIGATOR,SCREENING,2021-02-27
""",
    "rs": """USUBJID,RSSEQ,RSTESTCD,RSORRES,RSSTRESC,RSEVAL,VISIT,RSDTC
S1-001,1,OVRLRESP,PR,PR,INVESTIGATOR,WEEK 6,2021-04-12
""",
    "ae": """USUBJID,AESEQ,AETERM,AEDECOD,AEBODSYS,AETOXGR,AESEV,AESER,AESTDTC,AEENDTC
S1-001,1,HYPERTENSION,Hypertension,Vascular disorders,2,MODERATE,N,2021-03-10,2021-03-20
""",
    "lb": """USUBJID,LBSEQ,LBTESTCD,LBSTRESN,LBSTRESU,LBSTNRLO,LBSTNRHI,LBDTC
S1-001,1,HGB,120,g/L,115,150,2021-02-25
""",
    "qs": """USUBJID,QSSEQ,QSCAT,QSTESTCD,QSSTRESN,QSDTC
S1-001,1,EORTC QLQ-C30,EOR0101,1,2021-02-25
""",
    "ss": """USUBJID,SSSEQ,SSTESTCD,SSSTRESC,SSDTC
S1-001,1,SURVSTAT,ALIVE,2021-10-01
""",
}


@pytest.fixture
def sdtm_dir(tmp_path: Path) -> Path:
    """A valid SDTM folder; tests break one file at a time."""
    folder = tmp_path / "sdtm"
    folder.mkdir()
    for name, text in MINIMAL_SDTM.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def simulated_results(
    folder: Path, protocol: Protocol, subjects: int, seed: int, n_features: int
) -> tuple[Results, dict[str, pl.DataFrame]]:
    """A simulated trial taken through SDTM → derive → analyze (with an expression panel of
    ``n_features``) in ``folder``: the Results, the ADaM frames with the listings, as the
    report command gives them to the report."""
    from oncotrial.adam_io import read_adam
    from oncotrial.analyze import analyze_all
    from oncotrial.biomarkers.screen_results import FeaturePanel
    from oncotrial.derive.pipeline import derive_all
    from oncotrial.report import read_listings
    from oncotrial.sdtm.read import read_sdtm
    from oncotrial.simulate import simulate_trial, write_sdtm
    from oncotrial.simulate.biomarkers import simulate_biomarkers

    domains = simulate_trial(protocol, subjects, seed, None)
    write_sdtm(domains, folder / "sdtm")
    derive_all(read_sdtm(folder / "sdtm", files=protocol.sdtm_files), protocol).write(
        folder / "adam"
    )
    adam = read_adam(folder / "adam")
    matrix = simulate_biomarkers(domains, seed, n_features=n_features)[1]
    assert matrix is not None
    results = analyze_all(adam, protocol, FeaturePanel("expression.parquet", matrix))
    return results, {**adam, **read_listings(folder / "adam")}
