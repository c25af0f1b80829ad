"""netCDF input/output with provenance and a data checksum, written atomically.

Every file the pipeline writes carries, as global attributes, the command that made it, the
experiment parameters (JSON), seed keys, its inputs with the checksums of their data, package versions,
the package modules that made it (with content hashes), the git commit of the source tree and the wall
time, and `data_sha256`, a checksum of its data (every variable's name, dtype, shape and bytes; not the
file's bytes, which change with timestamps).  `read_dataset` checks that checksum, so a corrupt or
truncated file is refused with one line naming it, never used.  Files are written to a temporary name in
the target folder and renamed, so a failed or interrupted step never leaves a half-written output behind.

Files follow the CF-1.11 conventions (checked by tests/test_cf.py with the IOOS compliance checker):
global Conventions, title, history, source and references; long_name and units on every variable
(coordinates that a model creates bare, such as draw and fdraw, get them from DIMENSIONS); coordinates
without _FillValue; boolean variables stored as int8 flags (flag_values 0 1), which xarray still reads as
booleans.  None of this changes a bit of the data.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["write_dataset", "read_dataset", "provenance", "sha256", "data_checksum", "atomic_path", "CorruptFileError",
           "TMP_SUFFIX", "tmp_owner", "tmp_in_use", "FIGURE_RECORD_KEY", "read_record", "read_attrs", "environment_differences"]

TMP_SUFFIX = ".tmp"  # temporary files of atomic writes: .<name>.<host>-<pid>.<random>.tmp beside the target


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname().split(".")[0]) or "host"


def tmp_tag() -> str:
    """`<host>-<pid>`: the writer's part of a temporary name (tmp_owner reads it back)."""
    return f"{_host()}-{os.getpid()}"


def tmp_owner(path) -> tuple[str, int] | None:
    """(host, pid) of the process writing a temporary file of atomic_path, from its name; None for a name
    without an owner."""
    m = re.search(r"\.([A-Za-z0-9-]+)-([0-9]{1,10})\.[^.]+" + re.escape(TMP_SUFFIX) + "$", Path(path).name)
    return (m.group(1), int(m.group(2))) if m else None


def tmp_in_use(path) -> bool:
    """Whether a temporary file may still be written: its owner is a live process on this host, or it
    belongs to another host (a cluster node sharing the folder) and changed within the last day."""
    owner = tmp_owner(path)
    if owner is None:
        return False
    host, pid = owner
    if host != _host():
        try:
            return time.time() - Path(path).stat().st_mtime < 86400
        except FileNotFoundError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    """The git commit of the source tree this package runs from ("-dirty" if it has uncommitted changes).

    Outside a git checkout of the package (a wheel or other non-editable install) it is the package
    version, which setuptools-scm derives from the commit it was built from (e.g. 0.1.dev42+g893ac02).
    git is asked only when this very file is tracked by the repository around it, so a virtual
    environment inside some other repository does not report that repository's commit.
    """
    from . import __version__

    here = Path(__file__).resolve().parent

    def git(*args, check=True):
        return subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, timeout=5, check=check)

    try:
        git("ls-files", "--error-unmatch", "--", Path(__file__).name)
        commit = git("rev-parse", "HEAD").stdout.strip()
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", str(here), check=False).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return __version__


def _blas() -> dict:
    """Vendor and version, architecture (kernel set), threading layer and default thread count of each BLAS
    library loaded, keyed by the package that ships it (numpy and scipy wheels each bring their own)."""
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS, so the record does not depend on what ran before)
    from threadpoolctl import threadpool_info

    out = {}
    for lib in threadpool_info():
        if lib.get("user_api") != "blas":
            continue
        folder = Path(lib.get("filepath") or "").parent.name
        owner = folder[: -len(".libs")] if folder.endswith(".libs") else lib.get("prefix", "blas")
        key = f"blas_{owner}"
        while key in out:  # two libraries from the same folder
            key += "_"
        out[key] = f"{lib.get('internal_api', '?')} {lib.get('version') or '?'}"
        out[key + "_architecture"] = str(lib.get("architecture") or "?")
        out[key + "_threading"] = str(lib.get("threading_layer") or "?")
        out[key + "_threads"] = int(lib.get("num_threads", 0))
    return out


def _versions() -> dict:
    """Versions of everything that can change a result: Python, the numerical packages, the BLAS libraries
    (vendor, version, kernel set, threads) and the netCDF/HDF5 libraries that write the files."""
    import matplotlib
    import netCDF4
    import scipy

    from . import __version__

    return {
        "ridgerenorm": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "xarray": xr.__version__,
        "matplotlib": matplotlib.__version__,
        "netCDF4": netCDF4.__version__,
        "hdf5": netCDF4.__hdf5libversion__,
        "netcdf_c": netCDF4.__netcdf4libversion__,
        **_blas(),
    }


def environment_differences(recorded: dict | str, current: dict | str | None = None) -> list[str]:
    """The entries of two `versions` records (dicts or their JSON) that differ, as "name old -> new"
    ("(none)" for an entry only one of them has); `current` defaults to this environment."""
    recorded = json.loads(recorded) if isinstance(recorded, str) else dict(recorded)
    current = _versions() if current is None else (json.loads(current) if isinstance(current, str) else current)
    missing = "(none)"
    return [f"{k} {recorded.get(k, missing)} -> {current.get(k, missing)}"
            for k in sorted(set(recorded) | set(current)) if recorded.get(k, missing) != current.get(k, missing)]


def _command() -> str:
    return shlex.join([Path(sys.argv[0]).name] + sys.argv[1:])


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def provenance(*, spec: dict | None = None, inputs=(), seeds: dict | None = None, wall_time: float | None = None,
               extra: dict | None = None) -> dict:
    """Global attributes describing how a file was made (netCDF attributes must be str/number)."""
    from . import __version__

    command = _command()
    created = _now()
    attrs = {
        "command": command,
        "created": created,
        "history": f"{created} {command}",
        "source": f"ridgerenorm {__version__}",
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


# the PNG text chunk and the PDF Info entry holding a figure's record (JSON)
FIGURE_RECORD_KEY = {"png": "ridgerenorm", "pdf": "Ridgerenorm"}


def _pdf_string(raw: bytes, key: bytes) -> str | None:
    """The literal string of /key in a PDF's (uncompressed) Info dictionary, with PDF escapes undone."""
    start = raw.rfind(b"/" + key + b" (")
    if start < 0:
        return None
    out, i, escapes = bytearray(), start + len(key) + 3, {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
    depth = 0
    while i < len(raw):
        c = raw[i:i + 1]
        if c == b"\\":
            nxt = raw[i + 1:i + 2]
            out += escapes.get(nxt, nxt)
            i += 2
            continue
        if c == b"(":
            depth += 1
        elif c == b")":
            if depth == 0:
                return out.decode("latin-1")
            depth -= 1
        out += c
        i += 1
    return None


def _png_text(raw: bytes, key: str) -> str | None:
    """The text of tEXt, zTXt or iTXt chunk `key` of a whole PNG file (every chunk's CRC checked, up to IEND),
    read without decoding the image: the workflow reads every figure's record at each start.  ValueError for a
    file that is not a whole, intact PNG."""
    import struct
    import zlib

    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, found = 8, None
    while True:
        if pos + 12 > len(raw):
            raise ValueError("truncated PNG file")
        length, kind = struct.unpack(">I4s", raw[pos:pos + 8])
        data = raw[pos + 8:pos + 8 + length]
        if len(data) != length or pos + 12 + length > len(raw):
            raise ValueError("truncated PNG file")
        (crc,) = struct.unpack(">I", raw[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + data) != crc:
            raise ValueError(f"broken PNG chunk {kind.decode('latin-1')}")
        if found is None and kind in (b"tEXt", b"zTXt", b"iTXt"):
            name, _, rest = data.partition(b"\0")
            if name.decode("latin-1") == key:
                if kind == b"tEXt":
                    found = rest.decode("latin-1")
                elif kind == b"zTXt":
                    found = zlib.decompress(rest[1:]).decode("latin-1")
                else:  # iTXt: compression flag, method, language tag, translated keyword, text (UTF-8)
                    flag, body = rest[0], rest[2:]
                    body = body.split(b"\0", 2)[2]
                    found = (zlib.decompress(body) if flag else body).decode("utf-8")
        pos += 12 + length
        if kind == b"IEND":
            return found


def read_record(path) -> dict:
    """The provenance record of a result: a netCDF file's global attributes, or the JSON record a figure
    (PNG or PDF) carries in its metadata.  CorruptFileError when there is none."""
    path = Path(path)
    if path.suffix in (".png", ".pdf"):
        try:
            if path.suffix == ".png":
                text = _png_text(path.read_bytes(), FIGURE_RECORD_KEY["png"])
            else:
                text = _pdf_string(path.read_bytes(), FIGURE_RECORD_KEY["pdf"].encode())
            if text is None:
                raise ValueError("no record")
            return json.loads(text)
        except FileNotFoundError:
            raise
        except (OSError, ValueError) as err:
            raise CorruptFileError(f"{path}: carries no ridgerenorm record ({str(err)[:60]})") from None
    return dict(read_dataset(path).attrs)


def read_attrs(path) -> dict:
    """A result's record without reading its data: a netCDF file's global attributes, or a figure's record
    (read_record); {} when it has none or cannot be read."""
    path = Path(path)
    if path.suffix in (".png", ".pdf"):
        try:
            return read_record(path)
        except OSError:
            return {}
    import netCDF4

    try:
        with netCDF4.Dataset(path) as nc:
            return {k: nc.getncattr(k) for k in nc.ncattrs()}
    except OSError:
        return {}


class atomic_path:
    """Context manager yielding a temporary path beside `target`; renamed onto it only on success."""

    def __init__(self, target: str | os.PathLike):
        self.target = Path(target)

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        # the name carries its writer (host and pid), so a start-up scan leaves a live write alone
        fd, tmp = tempfile.mkstemp(prefix=f".{self.target.name}.{tmp_tag()}.", suffix=TMP_SUFFIX,
                                   dir=self.target.parent)
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


CONVENTIONS = "CF-1.11"
REFERENCES = ("A. Atanasov, J. A. Zavatone-Veth and C. Pehlevan, Scaling and renormalization in high-dimensional "
              "regression, J. Stat. Mech.: Theory Exp. (2026), doi:10.1088/1742-5468/ae4bba; arXiv:2405.00592")

# long_name and units of variables (mostly index coordinates) that the code creates without attributes.
DIMENSIONS = {
    "draw": {"long_name": "index of the data draw (X, label noise)", "units": "1"},
    "fdraw": {"long_name": "index of the feature draw (random features F)", "units": "1"},
    "k": {"long_name": "eigen-index (descending population eigenvalue)", "units": "1"},
    "P": {"long_name": "number of training samples", "units": "1"},
    "N": {"long_name": "number of features N", "units": "1"},
}


def _default_title(ds: xr.Dataset) -> str:
    """A title for a file whose producer set none: what kind of output it is, and of which experiment."""
    spec = json.loads(ds.attrs["spec"]) if isinstance(ds.attrs.get("spec"), str) else {}
    if "simulated" in ds.variables:
        what = "theory"
    elif any(str(v).endswith("_se") for v in ds.data_vars):
        what = "merged simulation (means and standard errors over draws)"
    elif "draw" in ds.dims:
        what = "simulation block (per-draw values)"
    elif {"eta", "w"} <= set(ds.data_vars):
        what = "population spectrum and teacher weights"
    else:
        what = "output"
    name = spec.get("name") or spec.get("id")
    return f"ridgerenorm {what}" + (f" of experiment {name}" if name else "")


def cf_encode(ds: xr.Dataset) -> xr.Dataset:
    """A shallow copy of `ds` with the CF-1.11 metadata (see the module docstring); the data are shared."""
    from . import __version__

    ds = ds.copy()
    for name, var in ds.variables.items():
        attrs = {**DIMENSIONS.get(str(name), {}), **var.attrs}
        if var.dtype == bool:  # xarray writes int8 (+ attribute dtype=bool, so it reads back booleans)
            attrs.pop("units", None)
            attrs.setdefault("flag_values", np.array([0, 1], dtype=np.int8))
            attrs.setdefault("flag_meanings", f"not_{name} {name}")
        var.attrs = attrs
        if name in ds.coords:
            var.encoding = {**var.encoding, "_FillValue": None}
    ds.attrs["Conventions"] = CONVENTIONS
    ds.attrs.setdefault("title", _default_title(ds))
    ds.attrs.setdefault("history", f"{ds.attrs.get('created') or _now()} {ds.attrs.get('command') or _command()}")
    ds.attrs.setdefault("source", f"ridgerenorm {__version__}")
    ds.attrs.setdefault("references", REFERENCES)
    return ds


def probe_writable(target: str | os.PathLike) -> None:
    """Fail now, not after the compute, when `target` cannot be written: make its folder and create and
    remove a temporary file there (OSError naming the folder otherwise)."""
    folder = Path(target).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe.", suffix=TMP_SUFFIX, dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OSError(err.errno, f"cannot write there ({err.strerror})", str(folder)) from None


def write_dataset(ds: xr.Dataset, path: str | os.PathLike, attrs: dict | None = None) -> None:
    """Write `ds` (plus provenance attrs, the CF-1.11 metadata of cf_encode and its data checksum) to netCDF
    atomically; the written file is read back and checked before it replaces the target."""
    ds = ds.copy()
    ds.attrs.update(attrs or {})
    ds = cf_encode(ds)
    ds.attrs["data_sha256"] = data_checksum(ds)
    with atomic_path(path) as tmp:
        try:
            ds.to_netcdf(tmp, engine="netcdf4")
        except (OSError, RuntimeError) as err:  # a full disk reaches HDF5 as "NetCDF: HDF error"
            _raise_if_disk_full(err, tmp.parent, ds.nbytes)
            raise
        read_dataset(tmp)


def _raise_if_disk_full(err, folder, need: int) -> None:
    """Turn a write error on a (nearly) full file system into OSError(ENOSPC) "no space left on <folder>"."""
    import errno
    import shutil

    free = shutil.disk_usage(folder).free
    if getattr(err, "errno", None) == errno.ENOSPC or free < need + (16 << 20):
        raise OSError(errno.ENOSPC, f"no space left on {folder} ({free / 1e6:.0f} MB free, "
                                    f"about {need / 1e6:.0f} MB needed)") from None


def read_dataset(path: str | os.PathLike, verify: bool = True) -> xr.Dataset:
    """Load a netCDF file fully into memory (and close it).  With verify, a file that cannot be read, that
    records no `data_sha256`, or whose data do not match it raises CorruptFileError naming it (every file
    the package writes records one: a file without is not trusted)."""
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            ds = ds.load()
    except FileNotFoundError:
        raise
    except (OSError, RuntimeError, ValueError) as err:
        reason = " ".join(str(getattr(err, "strerror", None) or err).split())[:80]
        raise CorruptFileError(f"{path}: not a readable netCDF file ({reason})") from None
    recorded = ds.attrs.get("data_sha256")
    if verify and recorded is None:
        raise CorruptFileError(f"{path}: records no data checksum (data_sha256); not a file this package wrote "
                               "whole, so it is not trusted")
    if verify and data_checksum(ds) != recorded:
        raise CorruptFileError(f"{path}: data do not match the recorded checksum (data_sha256); the file is corrupt")
    return ds
