"""Input validation for :mod:`oncotrial.stats`, done once at the public boundary.

Every check appends a message of the form ``"<argument> must be <rule>, but was <value>"``
to a :class:`Problems` collector; the public function raises one
:class:`~oncotrial.stats._errors.StatsInputError` listing all problems together.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from oncotrial.errors import MessageCollector

from ._errors import StatsInputError

_MAX_SHOWN = 5


class Problems(MessageCollector):
    """Collects validation messages; raises them together as :class:`StatsInputError`."""

    error = StatsInputError


def where(mask: NDArray[np.bool_], values: NDArray[Any] | None = None) -> str:
    """Describe the positions flagged by ``mask``: ``"index 2, 5 (2 values)"``."""
    idx = np.flatnonzero(mask)
    shown = idx[:_MAX_SHOWN]
    if values is None:
        items = ", ".join(str(int(i)) for i in shown)
    else:
        items = ", ".join(f"{show(values[i])} at index {int(i)}" for i in shown)
    more = f", ... ({idx.size} values)" if idx.size > _MAX_SHOWN else ""
    prefix = "" if values is not None else ("index " if idx.size == 1 else "indices ")
    return f"{prefix}{items}{more}"


def show(value: object) -> str:
    """A value as a user would write it: ``-2``, ``0.5``, ``'a'`` (no numpy wrappers)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def conf_level(value: object, problems: Problems, name: str = "conf_level") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        problems.add(f"{name} must be a number in (0, 1), but was {value!r}")
        return math.nan
    level = float(value)
    if not 0.0 < level < 1.0:
        problems.add(f"{name} must be in (0, 1), but was {value!r}")
    return level


def choice(value: object, choices: Sequence[str], problems: Problems, name: str) -> str:
    if value not in choices:
        accepted = ", ".join(repr(c) for c in choices)
        problems.add(f"{name} must be one of {accepted}, but was {value!r}")
    return str(value)


def integer(value: object, problems: Problems, name: str, minimum: int) -> int | None:
    """A whole number (Python or numpy integer, or an integral float) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        problems.add(f"{name} must be an integer >= {minimum}, but was {value!r}")
        return None
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif math.isfinite(float(value)) and float(value).is_integer():
        number = int(float(value))
    else:
        problems.add(f"{name} must be an integer >= {minimum}, but was {value!r}")
        return None
    if number < minimum:
        problems.add(f"{name} must be an integer >= {minimum}, but was {value!r}")
        return None
    return number


def vector(values: object, problems: Problems, name: str) -> NDArray[np.float64] | None:
    """A non-empty 1-D numeric vector without NaN or infinite values."""
    try:
        raw = np.asarray(values)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is a user error
        problems.add(f"{name} must be a 1-D array of numbers, but could not be read ({exc})")
        return None
    if raw.ndim != 1:
        problems.add(f"{name} must be 1-dimensional, but had shape {raw.shape}")
        return None
    if raw.size == 0:
        problems.add(f"{name} must have at least one value, but was empty")
        return None
    if raw.dtype.kind not in "biuf":
        if raw.dtype.kind == "O":  # None is a missing value, reported as NaN below
            raw = np.array([np.nan if x is None else x for x in raw.tolist()], dtype=object)
        try:
            raw = raw.astype(np.float64)
        except (TypeError, ValueError):
            problems.add(f"{name} must be numeric, but had {_first_non_number(raw)}")
            return None
    out = raw.astype(np.float64)
    bad = np.isnan(out)
    if bad.any():
        problems.add(
            f"{name} must not contain missing values (NaN or None), but had them at "
            f"{where(bad)}; drop or impute those rows first"
        )
    inf = np.isinf(out)
    if inf.any():
        problems.add(f"{name} must be finite, but had {where(inf, out)}")
    return out


def _first_non_number(raw: NDArray[Any]) -> str:
    for i, item in enumerate(raw.tolist()):
        try:
            float(item)
        except (TypeError, ValueError):
            return f"{show(item)} at index {i}"
    return "a value that is not a number"  # pragma: no cover - astype failed on some item


def survival(
    time: object, event: object, problems: Problems
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Validate a (time, event) pair: equal lengths, time >= 0, event 0/1 or bool.

    Returns empty arrays when the input could not be read (a problem is then recorded).
    """
    empty = (np.empty(0), np.empty(0, dtype=bool))
    t = vector(time, problems, "time")
    e = vector(event, problems, "event")
    if t is None or e is None:
        return empty
    if t.size != e.size:
        problems.add(
            f"time and event must have the same length, but time had {t.size} values "
            f"and event had {e.size}"
        )
        return empty
    negative = t < 0
    if negative.any():
        problems.add(f"time must be >= 0, but was {where(negative, t)}")
    not_binary = ~np.isnan(e) & ~np.isin(e, (0.0, 1.0))
    if not_binary.any():
        problems.add(
            f"event must be 0 (censored) or 1 (event), or bool, but was {where(not_binary, e)}"
        )
    return t, e == 1.0


def labels(values: object, problems: Problems, name: str, size: int) -> NDArray[Any]:
    """A 1-D vector of group labels without missing values, of length ``size`` if > 0."""
    raw = np.asarray(values, dtype=object)
    if raw.ndim != 1:
        problems.add(f"{name} must be 1-dimensional, but had shape {raw.shape}")
        return np.empty(0, dtype=object)
    if size and raw.size != size:
        problems.add(
            f"time and {name} must have the same length, but time had {size} values "
            f"and {name} had {raw.size}"
        )
    if _any_missing(raw):
        missing = np.array([_is_missing(v) for v in raw])
        problems.add(f"{name} must not contain missing values, but had one at {where(missing)}")
    return raw


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _any_missing(raw: NDArray[Any]) -> bool:
    """Whether a label is None or NaN, testing each distinct label once (a set of 100,000
    labels has a handful of them); unhashable labels are tested one by one."""
    try:
        distinct: Iterable[object] = set(raw.tolist())
    except TypeError:
        distinct = raw.tolist()
    return any(_is_missing(v) for v in distinct)
