"""The package's error types: ConvergenceError of the solvers, and ConfigError with the one-line message
every configuration check reports.

A message reads ``config error: <dotted.key> = <value>: <why>`` on a single line.  Long values (a whole
experiment, a long list) are cut to a few dozen characters, and the whole message is kept short, so a
typo never prints the configuration back at the user.
"""

from __future__ import annotations

import difflib
import re

__all__ = ["ConvergenceError", "ConfigError", "MAX_VALUE_CHARS", "MAX_MESSAGE_CHARS", "short_repr", "dotted", "config_error",
           "suggestion", "yaml_number_hint", "not_eigenvalues"]

MAX_VALUE_CHARS = 60  # characters of a value's repr kept in a message
MAX_MESSAGE_CHARS = 200  # a message longer than this is cut (with "...")


class ConvergenceError(RuntimeError):
    """A fixed-point or root solve did not reach its tolerance."""


def not_eigenvalues(name: str, shape: tuple) -> str:
    """The one-line message for eigenvalues `name` given as an array of `shape` (not 1-D, or empty): a square
    matrix is most likely the covariance itself, a single row or column only needs flattening."""
    text = f"{name} must be a non-empty 1-D array of eigenvalues, got shape {tuple(shape)}"
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] > 1:
        return text + ": for a covariance matrix Sigma pass its eigenvalues, np.linalg.eigvalsh(Sigma)"
    if len(shape) >= 2 and sum(n > 1 for n in shape) == 1:
        return text + ": flatten it (np.ravel)"
    return text


class ConfigError(ValueError):
    """A configuration value is invalid; the message is one line naming key and value."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def short_repr(value, limit: int = MAX_VALUE_CHARS) -> str:
    """repr(value) on one line, cut to `limit` characters with "..." when longer."""
    text = _one_line(repr(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def dotted(path) -> str:
    """The dotted key of a path of keys and indices: ("experiments", "b2", "samples", 0) -> experiments.b2.samples.0."""
    # a key with unprintable characters (a newline) is shown escaped, so the message stays one line
    return ".".join(str(p) if str(p).isprintable() else repr(p) for p in path) or "<top level>"


# Scientific notation that YAML 1.1 (PyYAML, Snakemake) reads as text: a float needs a dot in its mantissa
# and a sign in its exponent there, so 1e-2 and 1.5e3 are strings while 1.0e-2 and 1.5e+3 are numbers.
_TEXT_NUMBER = re.compile(r"(?P<sign>[-+]?)(?P<mant>\d+\.?\d*|\.\d+)[eE](?P<esign>[-+]?)(?P<exp>\d+)\Z")


def yaml_number_hint(value, integer: bool = False) -> str:
    """For a string such as '1e-2' that YAML read as text: ' (YAML reads 1e-2 as text: write 1.0e-2)', the
    same number in a form YAML reads as one (an integer's digits when `integer` and it is whole); else ''."""
    m = _TEXT_NUMBER.match(value) if isinstance(value, str) else None
    if not m:
        return ""
    import yaml

    if isinstance(yaml.safe_load(value), float):  # YAML reads it as a number, so it was quoted
        return f" (a number in quotes is text: write {value} without quotes)"
    number = float(value)
    if integer and number.is_integer() and abs(number) < 1e18:
        fix = str(int(number))
    else:
        mant = m["mant"] if "." in m["mant"] and not m["mant"].endswith(".") else m["mant"].rstrip(".") + ".0"
        mant = "0" + mant if mant.startswith(".") else mant
        fix = f"{m['sign']}{mant}e{m['esign'] or '+'}{m['exp']}"
    return f" (YAML reads {value} as text: write {fix})"


def config_error(path, value, why: str) -> ConfigError:
    """The ConfigError of `value` at key `path` (a tuple, or a ready dotted string): one short line.  A number
    YAML read as text (1e-2) gets the spelling it reads as a number (yaml_number_hint)."""
    key = path if isinstance(path, str) else dotted(path)
    why = _one_line(why) + yaml_number_hint(value, integer="integer" in why)
    message = f"config error: {key} = {short_repr(value)}: {why}"
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 3] + "..."
    return ConfigError(message)


def suggestion(word, candidates) -> str:
    """'; did you mean 'x'?' for the closest candidate (difflib), or the valid keys when none is close."""
    candidates = sorted(str(c) for c in candidates)
    close = difflib.get_close_matches(str(word), candidates, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if not candidates:
        return ""
    listed = ", ".join(candidates)
    if len(listed) > 100:
        listed = listed[:97] + "..."
    return f" (valid keys: {listed})"
