"""Reading the arrays of a spectrum kind that takes its population from files (file.py, dataset.py).

A path in a config is relative to the directory of the config file that gives it (or absolute); `anchor`
rewrites it relative to the working directory (the workflow's root) when it lies below it, else absolute, so
a spec names the same file from wherever its step runs.  Formats, by suffix:

  .npy   one array (numpy's format; no pickled objects)
  .csv   numbers separated by commas, one row per line; an optional header row names the columns; lines
         starting with # are comments
  .nc    netCDF: named variables

Every problem is a `FileProblem` whose text the kind passes to fail(key, value, why): one line.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numpy as np

from .base import SpectrumKind, number

__all__ = ["FileProblem", "KeyedProblem", "anchor", "content_hash", "read_table", "column", "vector", "scalar",
           "SUFFIXES", "SHA256", "PATH", "keyed", "FileBacked"]

SUFFIXES = (".npy", ".csv", ".nc")


class FileProblem(ValueError):
    """A problem with an input file, said in one line (the key and path are named by the caller)."""


class KeyedProblem(ValueError):
    """A FileProblem with the spectrum key whose file it concerns: str() is 'spectrum.<key> = <value>: why'."""

    def __init__(self, key: str, value, why: str):
        super().__init__(key, value, why)
        self.key, self.value, self.why = key, value, why

    def __str__(self) -> str:
        return f"spectrum.{self.key} = {self.value!r}: {self.why}"


# a file path key (relative to the config file's directory, or absolute)
PATH = {"type": "string", "minLength": 1, "maxLength": 4096, "pattern": "^[^\\x00\\n]+\\Z",
        "description": "a .npy, .csv or .nc file (relative to the config file's directory, or absolute)"}

# the content hash a resolved spec records of a kind's input files (a config may give it to pin the content)
SHA256 = {"sha256": {"type": "string", "pattern": "^[0-9a-f]{64}\\Z",
                     "description": "SHA-256 of the input files' content (filled in; given, it must match)"}}


def anchor(path: str, base_dir) -> str:
    """`path` (as a config gives it) resolved against base_dir, then made relative to the working directory
    when it lies below it."""
    p = Path(os.path.expanduser(path))
    if not p.is_absolute():
        p = Path(base_dir) / p
    p = Path(os.path.normpath(p.absolute()))
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def _stat(path: str):
    try:
        st = os.stat(path)
    except OSError as err:
        raise FileProblem(f"cannot read the file ({err.strerror or err})") from None
    if not os.path.isfile(path):
        raise FileProblem("is not a file")
    return st.st_size, st.st_mtime_ns


def content_hash(paths) -> str:
    """SHA-256 of the contents of the files, in order (one file: that file's SHA-256)."""
    digests = [_hash(p, *_stat(p)) for p in paths]
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256("".join(digests).encode()).hexdigest()


@functools.lru_cache(maxsize=64)
def _hash(path: str, size: int, mtime_ns: int) -> str:
    from .. import io

    return io.sha256(path)


def read_table(path: str) -> dict:
    """{name: array} of a file: a .npy array is named '' (unnamed), a header-less .csv's columns '0', '1', ...
    (a single column ''), a .nc file's variables by their names.  Cached by path, size and modification time."""
    return _read(path, *_stat(path))


@functools.lru_cache(maxsize=16)
def _read(path: str, size: int, mtime_ns: int) -> dict:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise FileProblem(f"expected a {', '.join(SUFFIXES[:-1])} or {SUFFIXES[-1]} file, got suffix {suffix!r}")
    try:
        if suffix == ".npy":
            return {"": np.load(path, allow_pickle=False)}
        if suffix == ".csv":
            return _read_csv(path)
        return _read_netcdf(path)
    except FileProblem:
        raise
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        reason = " ".join(str(getattr(err, "strerror", None) or err).split())[:100]
        raise FileProblem(f"not a readable {suffix} file ({reason})") from None


def _read_csv(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        rows = [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise FileProblem("holds no values")
    cells = [[c.strip() for c in row.split(",")] for row in rows]
    header = None
    try:
        float(cells[0][0])
    except ValueError:
        header, cells = cells[0], cells[1:]
    width = len(header) if header else len(cells[0]) if cells else 0
    for i, row in enumerate(cells):
        if len(row) != width:
            raise FileProblem(f"row {i + 1 + (header is not None)} has {len(row)} values, expected {width}")
    try:
        values = np.array([[float(c) for c in row] for row in cells], dtype=float).reshape(len(cells), width)
    except ValueError as err:
        raise FileProblem(f"not a number: {str(err).split(': ', 1)[-1][:40]}") from None
    names = header if header else ([""] if width == 1 else [str(i) for i in range(width)])
    if header and len(set(header)) != len(header):
        raise FileProblem(f"repeated column name in header {header}")
    out = {name: values[:, i] for i, name in enumerate(names)}
    if not header and width > 1:
        out[""] = values  # a header-less table as one 2-D array (a data matrix)
    return out


def _read_netcdf(path: str) -> dict:
    import xarray as xr

    with xr.open_dataset(path, engine="netcdf4") as ds:
        return {str(name): np.asarray(ds[name].values) for name in ds.data_vars}


def column(table: dict, names: tuple, what: str, required: bool = True):
    """The first of `names` in a table (None if absent and not required)."""
    for name in names:
        if name in table:
            return np.asarray(table[name])
    if required:
        shown = [n for n in names if n]
        raise FileProblem(f"has no {what} (expected {' or '.join(repr(n) for n in shown) or 'one array'}; "
                          f"found {', '.join(repr(k) for k in table) or 'nothing'})")
    return None


def vector(values, what: str, length: int | None = None, nonnegative: bool = False,
           per: str = "eigenvalue") -> np.ndarray:
    """A 1-D float64 array of finite values (>= 0 when nonnegative; of `length` when given)."""
    a = np.asarray(values)
    if a.dtype.kind not in "biuf":
        raise FileProblem(f"{what} is not numeric (dtype {a.dtype})")
    a = a.astype(float)
    if a.ndim != 1:
        raise FileProblem(f"{what} is a {a.ndim}-D array of shape {a.shape}; expected a 1-D array")
    if a.size == 0:
        raise FileProblem(f"{what} holds no values")
    if length is not None and a.size != length:
        raise FileProblem(f"{what} has {a.size} values, expected {length} (one per {per})")
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise FileProblem(f"{what}[{bad[0]}] = {a[bad[0]]} is not finite")
    if nonnegative:
        neg = np.flatnonzero(a < 0)
        if neg.size:
            raise FileProblem(f"{what}[{neg[0]}] = {a[neg[0]]:g} is negative (eigenvalues of a covariance are >= 0)")
    return a


def scalar(values, what: str) -> float:
    """A finite number >= 0 (a noise level)."""
    a = np.asarray(values, dtype=float)
    if a.size != 1:
        raise FileProblem(f"{what} has shape {a.shape}; expected one number")
    v = float(a.reshape(()))
    if not (np.isfinite(v) and v >= 0):
        raise FileProblem(f"{what} = {v} must be a finite number >= 0")
    return v


def keyed(key: str, spectrum: dict, load):
    """load(path) with a FileProblem turned into a KeyedProblem naming spectrum.<key> and its path."""
    try:
        return load(spectrum[key])
    except FileProblem as err:
        raise KeyedProblem(key, spectrum[key], str(err)) from None


def check_hash(spectrum: dict, keys: tuple, fail) -> None:
    """A spectrum that records (or pins) `sha256` must match its files' content now."""
    recorded = spectrum.get("sha256")
    if recorded is None:
        return
    now = content_hash([spectrum[k] for k in keys if k in spectrum])
    if now != recorded:
        fail("sha256", recorded, f"the files changed since this spec was made (now {now[:12]}...): rerun from the "
                                 "config, or restore them")


class FileBacked(SpectrumKind):
    """A spectrum kind whose population is read from files (its `path_keys`): `load(spectrum)` gives (eta
    descending, w or None, sigma_eps or None) or raises KeyedProblem.  Checks, dimension, eigenvalues and the
    content hash a resolved spec records are the same for every such kind."""

    dimension_key = "path"
    size_keys: dict = {}  # the file fixes D

    @staticmethod
    def load(spectrum: dict):
        raise NotImplementedError

    def check(self, spectrum, fail):
        try:
            self.load(spectrum)
        except KeyedProblem as err:
            fail(err.key, err.value, err.why)
        check_hash(spectrum, self.path_keys, fail)

    def dimension(self, spectrum):
        return int(self.load(spectrum)[0].size)

    def eigenvalues(self, spectrum):
        return self.load(spectrum)[0]

    def resolve(self, spectrum, exp):
        spectrum["sha256"] = content_hash(self.input_files(spectrum))
        sigma_eps = self.load(spectrum)[2]
        if sigma_eps is not None and "sigma_eps" not in exp:
            exp["sigma_eps"] = sigma_eps

    def caption(self, spectrum):
        return f"{self.caption_words} {spectrum['path']}, D = {number(self.dimension(spectrum))}"

    caption_words = "spectrum read from"
