"""Content-addressed results: code stamps, an integrity scan, and the data bundle of a scale.

Snakemake decides what to rerun from modification times.  A checkout gives every source file a new time, so
rules do not list source files as inputs.  Each lists one *code stamp*, results/<scale>/code/<step>.sha256:
the SHA-256 of every package file the step's command imports (deps.py), rewritten only when that content
changes.  An edit to a module therefore reruns exactly the steps that import it, and a fresh clone given an
earlier run's results (with their stamps) reruns nothing.

Parameters are content-addressed the same way.  Each step's parameters are written once to
results/<scale>/specs/<name>.<sha>.json, named by their content and never rewritten, so no later start can
change what a running job reads; the rule lists that file as an input.  Whether an existing result is stale
is decided from the result itself: `align_spec_trigger` compares the parameters the file records with the
current ones and sets the spec file's modification time older than the result when they agree, newer when
they differ (one line naming the file and the keys, old -> new).  So a changed parameter reruns its step
whether or not Snakemake's own records (.snakemake/) exist, after `cache import`, a cache restore, or
`rm -rf .snakemake`; and a look with another config only touches that config's own spec files.

`scan` runs before the DAG is built: it removes temporary files left by a killed write and every netCDF file
that cannot be read or whose data do not match its checksum (io.py), so Snakemake plans their rebuild.

`export_bundle` writes the cached results of a scale as one .tar.gz with a checksum manifest;
`import_bundle` verifies every member against the manifest before it installs anything.

    ridgerenorm cache export --scale quick quick.tar.gz
    ridgerenorm cache import quick.tar.gz
"""

from __future__ import annotations

import hashlib
import io as _bytes_io
import json
import os
import tarfile
import time
from pathlib import Path

from . import io

__all__ = ["STAMP_DIR", "code_stamp", "foreign_package_notice", "spec_file", "recorded_spec", "spec_changes", "align_spec_trigger", "scan",
           "export_bundle", "import_bundle", "BundleError", "CACHED_DIRS"]

STAMP_DIR = "code"
# the folders of results/<scale>/ a bundle carries: what the simulations and theory made, and their stamps
# and benchmark records (figures, agreement and report are rebuilt from them in seconds)
CACHED_DIRS = ("spectra", "simulation", "theory", "spectra_data", STAMP_DIR, "benchmarks")
MANIFEST = "MANIFEST.sha256"


class BundleError(ValueError):
    """A bundle is missing, malformed, or fails its checksum manifest."""


def _stamp_name(f: Path, root: Path) -> str:
    """The name a code stamp gives a file: package-relative for the package's own modules (`ridgerenorm/cli.py`,
    wherever the package is installed: editable, wheel or another checkout), checkout-relative for the
    checkout's other files (`benchmarks/summary.py`)."""
    package = Path(__file__).resolve().parent
    if f.is_relative_to(package):
        return f.relative_to(package.parent).as_posix()
    return (f.relative_to(root) if f.is_relative_to(root) else Path("<outside>") / f.name).as_posix()


def stamp_text(files, root) -> str:
    """The content of a code stamp: a line `<sha256>  <name>` per file, sorted by name."""
    root = Path(root).resolve()
    named = sorted((_stamp_name(f, root), f) for f in (Path(root, f).resolve() for f in files))
    return "".join(f"{io.sha256(f)}  {name}\n" for name, f in named)


def code_stamp(results_dir, name: str, files, root) -> str:
    """Path of results_dir/code/<name>.sha256, holding the SHA-256 of each of `files` under its package- or
    checkout-relative name (so the same code gives the same stamp wherever it is installed); the file is
    rewritten only when that changes."""
    text = stamp_text(files, root)
    path = Path(results_dir) / STAMP_DIR / f"{name}.sha256"
    if not path.exists() or path.read_text() != text:
        with io.atomic_path(path) as tmp:
            tmp.write_text(text)
    return str(path)


def foreign_package_notice(checkout) -> str | None:
    """One line when the code a run uses is not `checkout`'s own: the package this process imports, or the
    Python behind the `ridgerenorm` command on PATH (which the jobs run), else None."""
    import shutil
    import sys

    from . import __version__

    package = Path(__file__).resolve().parent
    own = (Path(checkout) / "src" / "ridgerenorm").resolve()
    if package != own:
        return (f"ridgerenorm: this run uses the package at {package} (version {__version__}), "
                f"not this checkout's {own}")
    command = shutil.which("ridgerenorm")
    if command:
        with open(command, "rb") as f:
            first = f.readline(400).decode(errors="replace").strip()
        python = first[2:].strip() if first.startswith("#!") else ""
        if python and Path(python).resolve() != Path(sys.executable).resolve():
            return (f"ridgerenorm: the jobs' command {command} runs {python}, not this run's Python "
                    f"{sys.executable}: its ridgerenorm may be other code")
    return None


AGREED_TIME = 946684800  # 2000-01-01: the modification time of a spec file its result agrees with


def spec_file(specs_dir, name: str, text: str, write: bool = True) -> Path:
    """specs_dir/<stem>.<first 16 hex of SHA-256(text)><suffix> for name = <stem><suffix>, holding `text`:
    written once (atomically) and never rewritten, so a job reading it always reads what it started with."""
    name = Path(name)
    path = Path(specs_dir) / f"{name.stem}.{_sha256_bytes(text.encode())[:16]}{name.suffix}"
    if write and not path.is_file():
        with io.atomic_path(path) as tmp:
            tmp.write_text(text)
    return path


def recorded_spec(path) -> dict | None:
    """The parameters a result file records (its `spec` attribute), or None when it records none or is not
    a readable netCDF file.  Reads the attribute only, not the data."""
    import netCDF4

    try:
        with netCDF4.Dataset(path) as nc:
            return json.loads(nc.getncattr("spec")) if "spec" in nc.ncattrs() else None
    except (OSError, ValueError):
        return None


def _flat(value, prefix=""):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def spec_changes(old: dict, new: dict) -> list[str]:
    """The keys whose values differ between two parameter sets, as 'key old -> new' (nested keys dotted;
    a key present on one side only shows '(none)' on the other)."""
    a, b = _flat(old), _flat(new)
    return [f"{k} {json.dumps(a.get(k, '(none)'))} -> {json.dumps(b.get(k, '(none)'))}"
            for k in sorted(set(a) | set(b)) if a.get(k, "(none)") != b.get(k, "(none)")]


def align_spec_trigger(spec_path, results, current: dict) -> list[str]:
    """Make Snakemake's modification-time rule say what the result files themselves record: the spec file is
    dated older than its existing results when each records `current`, and newer than them when any records
    other parameters (or none).  Returns a line per stale result.  Only the spec file's time changes, never
    its content or a result."""
    spec_path, existing = Path(spec_path), [Path(r) for r in results if Path(r).is_file()]
    lines = []
    for result in existing:
        recorded = recorded_spec(result)
        if recorded != current:
            why = "; ".join(spec_changes(recorded, current)) if recorded is not None else "it records no parameters"
            lines.append(f"ridgerenorm: {result} is stale ({why}): planned again")
    if lines:
        newest = max(r.stat().st_mtime for r in existing)
        if spec_path.stat().st_mtime <= newest:
            later = max(time.time(), newest + 1.0)
            os.utime(spec_path, (later, later))
    elif existing and spec_path.stat().st_mtime > AGREED_TIME:
        os.utime(spec_path, (AGREED_TIME, AGREED_TIME))
    return lines


def scan(results_dir) -> list[str]:
    """Remove leftover temporary files (those no live process is writing: io.tmp_in_use) and unreadable or
    corrupt netCDF files below results_dir; one line per removed file."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        return []
    messages = []
    for tmp in results_dir.rglob(f".*{io.TMP_SUFFIX}"):
        if io.tmp_in_use(tmp):
            continue
        tmp.unlink(missing_ok=True)
        messages.append(f"ridgerenorm: removed {tmp}, left by an interrupted write")
    for path in sorted(results_dir.rglob("*.nc")):
        try:
            io.read_dataset(path)
        except io.CorruptFileError as err:
            path.unlink(missing_ok=True)
            messages.append(f"ridgerenorm: {err}; removed, it will be rebuilt")
    return messages


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bundle_members(root, scale: str) -> list[Path]:
    """The files of results/<scale> a bundle carries (temporary simulation blocks excluded)."""
    base = Path(root) / "results" / scale
    if not base.is_dir():
        raise BundleError(f"error: {base}: no results for scale {scale!r}")
    members = []
    for sub in CACHED_DIRS:
        for f in sorted((base / sub).rglob("*")):
            rel = f.relative_to(base)
            if f.is_file() and not f.name.endswith(io.TMP_SUFFIX) and not (rel.parts[0] == "simulation" and len(rel.parts) > 2):
                members.append(f)
    return members


def export_bundle(root, scale: str, archive) -> dict:
    """Write results/<scale>'s cached results to `archive` (.tar.gz) with MANIFEST.sha256 first; returns
    {'files': n, 'bytes': size of the archive}.  Modification times are kept, so the imported results stay
    older than the stamps and files made from them."""
    root = Path(root).resolve()
    members = bundle_members(root, scale)
    manifest = "".join(f"{io.sha256(f)}  {f.relative_to(root).as_posix()}\n" for f in members)
    with io.atomic_path(archive) as tmp:
        with tarfile.open(tmp, "w:gz") as tar:
            info = tarfile.TarInfo(MANIFEST)
            data = manifest.encode()
            info.size, info.mtime = len(data), int(time.time())
            tar.addfile(info, _bytes_io.BytesIO(data))
            for f in members:
                tar.add(f, arcname=f.relative_to(root).as_posix(), recursive=False)
    return {"files": len(members), "bytes": os.path.getsize(archive)}


def _read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        text = tar.extractfile(MANIFEST).read().decode()
    except (KeyError, AttributeError):
        raise BundleError(f"error: bundle has no {MANIFEST}") from None
    entries = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            raise BundleError(f"error: {MANIFEST}: malformed line {line[:80]!r}")
        entries[name] = digest
    return entries


def import_bundle(archive, root) -> dict:
    """Verify every member of `archive` against its manifest, then install them below `root` (keeping their
    modification times).  Nothing is written unless every member verifies."""
    root = Path(root).resolve()
    try:
        tar = tarfile.open(archive, "r:gz")
    except FileNotFoundError:
        raise
    except (tarfile.TarError, OSError) as err:
        raise BundleError(f"error: {archive}: not a readable bundle ({err})") from None
    with tar:
        entries = _read_manifest(tar)
        seen = set()
        for member in tar.getmembers():
            if member.name == MANIFEST:
                continue
            if not member.isfile() or member.name not in entries:
                raise BundleError(f"error: {archive}: {member.name} is not in the manifest")
            parts = Path(member.name).parts
            if parts[0] != "results" or ".." in parts:
                raise BundleError(f"error: {archive}: {member.name} is outside results/")
            if _sha256_bytes(tar.extractfile(member).read()) != entries[member.name]:
                raise BundleError(f"error: {archive}: {member.name} does not match its checksum")
            seen.add(member.name)
        if seen != set(entries):
            raise BundleError(f"error: {archive}: {len(set(entries) - seen)} manifest file(s) missing from the bundle")
        for member in tar.getmembers():
            if member.name != MANIFEST:
                tar.extract(member, root, filter="data")
    return {"files": len(seen)}
