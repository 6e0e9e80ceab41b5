"""Exploratory biomarker analyses of a single-arm trial.

* :func:`read_markers` -- the protocol's markers per subject from SDTM GF / LB / MI and a wide
  feature matrix, validated (:class:`BiomarkerData`); :func:`read_feature_matrix` reads the
  matrix alone, for :func:`oncotrial.stats.cox_screen` / :func:`oncotrial.stats.logistic_screen`.
* :func:`compute_biomarker_associations` -- response, tumour shrinkage, PFS and OS by marker,
  per cohort and pooled, with Benjamini-Hochberg q-values across the section (``results.json``
  key ``biomarkers``).
* :func:`read_feature_panel` / :func:`compute_biomarker_screen`
  (:mod:`~oncotrial.biomarkers.screen_results`) -- an expression panel checked against ADSL and
  screened against ORR and PFS (``biomarkers.screen``, ``analyze``/``report --features``);
  :func:`~oncotrial.biomarkers.waterfall.compute_marker_waterfall` -- the waterfall rows with
  each subject's marker status.
"""

from typing import TYPE_CHECKING, Any

from oncotrial.biomarkers.matrix import read_feature_matrix
from oncotrial.biomarkers.read import BiomarkerData, read_markers

if TYPE_CHECKING:
    from oncotrial.biomarkers.associations import compute_biomarker_associations
    from oncotrial.biomarkers.screen_results import (
        FeaturePanel,
        compute_biomarker_screen,
        read_feature_panel,
    )

# The association tests need scipy.stats (about 1 s to import): loaded on first use, so that
# `oncotrial derive`, which only reads the markers, does not pay for them (PEP 562).
_LAZY = {
    "compute_biomarker_associations": "oncotrial.biomarkers.associations",
    "FeaturePanel": "oncotrial.biomarkers.screen_results",
    "compute_biomarker_screen": "oncotrial.biomarkers.screen_results",
    "read_feature_panel": "oncotrial.biomarkers.screen_results",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BiomarkerData",
    "FeaturePanel",
    "compute_biomarker_associations",
    "compute_biomarker_screen",
    "read_feature_matrix",
    "read_feature_panel",
    "read_markers",
]
