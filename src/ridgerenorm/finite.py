"""Every number of a configuration is finite: NaN and +-inf are refused wherever they occur.

JSON schema cannot say this (`minimum: 0` is false for NaN, so NaN passes it, and +inf passes every lower
bound), and YAML (`.nan`, `.inf`, `1.0e400`) and JSON (`NaN`, `Infinity`) both produce such floats.  One
recursive walk covers every key of experiments, figures and their params, so a new key is covered without
being listed anywhere.
"""

from __future__ import annotations

import math

from .errors import config_error

__all__ = ["non_finite", "check_finite"]


def non_finite(value, path=()):
    """(path, number) of the first NaN or infinite float inside `value` (dicts and lists walked in
    order), or None when every number is finite."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (tuple(path), value)
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = non_finite(item, tuple(path) + (key,))
        if found is not None:
            return found
    return None


def check_finite(value, path=()) -> None:
    """Raise ConfigError naming the first non-finite number inside `value` (`path` is its key)."""
    found = non_finite(value, path)
    if found is not None:
        key, number = found
        raise config_error(key, number, "must be a finite number (NaN and infinity are not allowed)")
