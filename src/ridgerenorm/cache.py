"""Content-addressed results: code stamps, an integrity scan, and the data bundle of a scale.

Snakemake decides what to rerun from modification times.  A checkout gives every source file a new time, so
rules do not list source files as inputs.  Each lists one *code stamp*, results/<scale>/code/<step>.sha256:
the SHA-256 of every package file the step's command imports (deps.py), rewritten only when that content
changes.  An edit to a module therefore reruns exactly the steps that import it, and a fresh clone given an
earlier run's results (with their stamps) reruns nothing.

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
import os
import tarfile
import time
from pathlib import Path

from . import io

__all__ = ["STAMP_DIR", "code_stamp", "scan", "export_bundle", "import_bundle", "BundleError", "CACHED_DIRS"]

STAMP_DIR = "code"
# the folders of results/<scale>/ a bundle carries: what the simulations and theory made, and their stamps
# and benchmark records (figures, agreement and report are rebuilt from them in seconds)
CACHED_DIRS = ("spectra", "simulation", "theory", "spectra_data", STAMP_DIR, "benchmarks")
MANIFEST = "MANIFEST.sha256"


class BundleError(ValueError):
    """A bundle is missing, malformed, or fails its checksum manifest."""


def code_stamp(results_dir, name: str, files, root) -> str:
    """Path of results_dir/code/<name>.sha256, holding the SHA-256 of each of `files` (paths relative to
    `root` in the stamp, so clones at other places agree); the file is rewritten only when that changes."""
    root = Path(root).resolve()
    lines = []
    for f in sorted(Path(root, f).resolve() for f in files):
        rel = f.relative_to(root) if f.is_relative_to(root) else Path("<installed>") / f.name
        lines.append(f"{io.sha256(f)}  {rel.as_posix()}\n")
    text = "".join(lines)
    path = Path(results_dir) / STAMP_DIR / f"{name}.sha256"
    if not path.exists() or path.read_text() != text:
        with io.atomic_path(path) as tmp:
            tmp.write_text(text)
    return str(path)


def scan(results_dir) -> list[str]:
    """Remove leftover temporary files and unreadable or corrupt netCDF files below results_dir; one line
    per removed file."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        return []
    messages = []
    for tmp in results_dir.rglob(f".*{io.TMP_SUFFIX}"):
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
