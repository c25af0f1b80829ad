"""netCDF input/output with provenance and a data checksum, written atomically.

Every file the pipeline writes carries, as global attributes, the command that made it, the
experiment parameters (JSON), seed keys, its inputs with the checksums of their data, package versions,
the package modules that made it (with content hashes), the git commit of the source tree and the wall
time, and `data_sha256`, a checksum of its data (every variable's name, dtype, shape and bytes; not the
file's bytes, which change with timestamps).  `read_dataset` checks that checksum, so a corrupt or
truncated file is refused with one line naming it, never used.  Files are written to a temporary name in
the target folder and renamed, so a failed or interrupted step never leaves a half-written output behind.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["write_dataset", "read_dataset", "provenance", "sha256", "data_checksum", "atomic_path", "CorruptFileError",
           "TMP_SUFFIX"]

TMP_SUFFIX = ".tmp"  # temporary files of atomic writes: .<name>.<random>.tmp beside the target


class CorruptFileError(OSError):
    """A netCDF file cannot be read or its data do not match its recorded checksum."""


def sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def data_checksum(ds: xr.Dataset) -> str:
    """SHA-256 of a Dataset's data: every variable (data and coordinates) by name, dtype, shape and bytes."""
    h = hashlib.sha256()
    for name in sorted(ds.variables, key=str):
        values = np.ascontiguousarray(ds[name].values)
        h.update(f"{name}|{values.dtype.str}|{values.shape}|".encode())
        h.update(values.tobytes() if values.dtype.kind != "O" else repr(values.tolist()).encode())
    return h.hexdigest()


def input_checksum(path) -> str:
    """What provenance records of an input: the data checksum of a netCDF file, else the file's SHA-256."""
    if str(path).endswith(".nc"):
        return "data:" + data_checksum(read_dataset(path))
    return sha256(path)


def _module_digests() -> dict:
    """The package modules loaded in this process, each with the SHA-256 (12 hex digits) of its source."""
    out = {}
    for name, module in sorted(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if (name == "ridgerenorm" or name.startswith("ridgerenorm.")) and path and path.endswith(".py"):
            out[name] = sha256(path)[:12]
    return out


def _git_commit() -> str:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", str(here)],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _versions() -> dict:
    import matplotlib
    import scipy

    from . import __version__

    return {
        "ridgerenorm": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "xarray": xr.__version__,
        "matplotlib": matplotlib.__version__,
    }


def provenance(*, spec: dict | None = None, inputs=(), seeds: dict | None = None, wall_time: float | None = None,
               extra: dict | None = None) -> dict:
    """Global attributes describing how a file was made (netCDF attributes must be str/number)."""
    attrs = {
        "command": shlex.join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "versions": json.dumps(_versions(), sort_keys=True),
        "inputs": json.dumps({str(p): input_checksum(p) for p in inputs}, sort_keys=True),
        "package_modules": json.dumps(_module_digests(), sort_keys=True),
    }
    if spec is not None:
        attrs["spec"] = json.dumps(spec, sort_keys=True)
    if seeds is not None:
        attrs["seed_keys"] = json.dumps(seeds, sort_keys=True)
    if wall_time is not None:
        attrs["wall_time_s"] = float(wall_time)
    for k, v in (extra or {}).items():
        attrs[k] = v if isinstance(v, (str, int, float)) else json.dumps(v, sort_keys=True)
    return attrs


class atomic_path:
    """Context manager yielding a temporary path beside `target`; renamed onto it only on success."""

    def __init__(self, target: str | os.PathLike):
        self.target = Path(target)

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=TMP_SUFFIX, dir=self.target.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            # mkstemp makes the file private (0600); give it the permissions a plain open() would.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)
            os.replace(self.tmp, self.target)
        else:
            self.tmp.unlink(missing_ok=True)
        return False


def write_dataset(ds: xr.Dataset, path: str | os.PathLike, attrs: dict | None = None) -> None:
    """Write `ds` (plus provenance attrs and its data checksum) to netCDF atomically; the written file is read
    back and checked before it replaces the target."""
    ds = ds.copy()
    ds.attrs.update(attrs or {})
    ds.attrs["data_sha256"] = data_checksum(ds)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4")
        read_dataset(tmp)


def read_dataset(path: str | os.PathLike, verify: bool = True) -> xr.Dataset:
    """Load a netCDF file fully into memory (and close it).  With verify, a file that cannot be read or whose
    data do not match its `data_sha256` raises CorruptFileError naming it."""
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            ds = ds.load()
    except FileNotFoundError:
        raise
    except (OSError, RuntimeError, ValueError) as err:
        raise CorruptFileError(f"{path}: not a readable netCDF file ({type(err).__name__}: {err})") from None
    recorded = ds.attrs.get("data_sha256")
    if verify and recorded is not None and data_checksum(ds) != recorded:
        raise CorruptFileError(f"{path}: data do not match the recorded checksum (data_sha256); the file is corrupt")
    return ds
