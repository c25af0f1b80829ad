"""The package's error types: ConvergenceError of the solvers, and ConfigError with the one-line message
every configuration check reports.

A message reads ``config error: <dotted.key> = <value>: <why>`` on a single line.  Long values (a whole
experiment, a long list) are cut to a few dozen characters, and the whole message is kept short, so a
typo never prints the configuration back at the user.
"""

from __future__ import annotations

import difflib

__all__ = ["ConvergenceError", "ConfigError", "MAX_VALUE_CHARS", "MAX_MESSAGE_CHARS", "short_repr", "dotted", "config_error",
           "suggestion"]

MAX_VALUE_CHARS = 60  # characters of a value's repr kept in a message
MAX_MESSAGE_CHARS = 200  # a message longer than this is cut (with "...")


class ConvergenceError(RuntimeError):
    """A fixed-point or root solve did not reach its tolerance."""


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


def config_error(path, value, why: str) -> ConfigError:
    """The ConfigError of `value` at key `path` (a tuple, or a ready dotted string): one short line."""
    key = path if isinstance(path, str) else dotted(path)
    message = f"config error: {key} = {short_repr(value)}: {_one_line(why)}"
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
