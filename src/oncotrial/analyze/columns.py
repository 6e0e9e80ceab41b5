"""The variables the analysis reads of the two large ADaM datasets.

ADLB keeps every LB variable (48 in all) and ADQS one record per scale and form: at 100,000
subjects they hold 18 and 10 million records. :func:`oncotrial.adam_io.read_adam` reads only
these variables of them (``oncotrial analyze`` and ``oncotrial report`` do), which is all that
:mod:`oncotrial.analyze.safety` (lab shift tables) and :mod:`oncotrial.analyze.pro` use.
"""

from __future__ import annotations

from oncotrial.analyze.safety import ADLB_USED

ANALYSIS_COLUMNS: dict[str, tuple[str, ...]] = {
    "adlb": tuple(ADLB_USED),
    "adqs": (
        "USUBJID", "PARCAT1", "PARAMCD", "AVISIT", "AVISITN", "ADT", "ADY", "AVAL", "CHG",
        "ABLFL", "ANL01FL", "QCOMPLFL",
    ),
}  # fmt: skip
