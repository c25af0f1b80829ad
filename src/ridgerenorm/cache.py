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
import shutil
import sys
import tarfile
import time
from pathlib import Path

from . import io

__all__ = ["STAMP_DIR", "hold_run_lock", "code_stamp", "foreign_package_notice", "spec_file", "spec_of", "recorded_spec", "spec_changes", "align_spec_trigger", "scan",
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


def spec_of(attrs: dict) -> dict | None:
    """The parameters a result's record (io.read_attrs) holds in its `spec`, or None."""
    try:
        return json.loads(attrs["spec"])
    except (KeyError, TypeError, ValueError):
        return None


def recorded_spec(path) -> dict | None:
    """The parameters a result file records (a netCDF attribute, or a figure's PNG or PDF record), or None
    when it records none or cannot be read.  Reads the record only, not the data."""
    return spec_of(io.read_attrs(path))


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

    def pair(x, y):  # long texts are cut around where they first differ
        x, y = json.dumps(x), json.dumps(y)
        if len(x) <= 60 and len(y) <= 60:
            return f"{x} -> {y}"
        i = next((k for k, (c, d) in enumerate(zip(x, y)) if c != d), min(len(x), len(y)))
        start = max(0, i - 20)

        def cut(t):
            return ("..." if start else "") + t[start:start + 50] + ("..." if len(t) > start + 50 else "")

        return f"{cut(x)} -> {cut(y)}"

    return [f"{k} {pair(a.get(k, '(none)'), b.get(k, '(none)'))}"
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
        if tmp.is_dir():  # a bundle import's staging folder
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        messages.append(f"ridgerenorm: removed {tmp}, left by an interrupted write")
    # A file whose checksum was verified is verified again only once it is touched: the record keeps each
    # verified file's inode, size and modification and change times (a change time no program can set back),
    # so a start-up reads only the files written or altered since the last one (all of them at paper scale
    # would be gigabytes, at every Snakemake start).
    record = results_dir / VERIFIED_RECORD
    try:
        known = json.loads(record.read_text())
    except (OSError, ValueError):
        known = {}
    verified = {}
    for path in sorted(results_dir.rglob("*.nc")):
        rel = path.relative_to(results_dir).as_posix()
        try:
            st = path.stat()
        except OSError:
            continue
        key = [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        if known.get(rel) == key:
            verified[rel] = key
            continue
        try:
            io.read_dataset(path)
        except io.CorruptFileError as err:
            path.unlink(missing_ok=True)
            messages.append(f"ridgerenorm: {err}; removed, it will be rebuilt")
            continue
        except OSError:
            continue
        verified[rel] = key
    if verified != known:
        try:
            with io.atomic_path(record) as tmp:
                tmp.write_text(json.dumps(verified, sort_keys=True))
        except OSError:
            pass  # a read-only results folder: every start verifies every file, as before
    return messages


VERIFIED_RECORD = ".verified.json"  # scan's record of the files whose data checksum it has verified


RUN_LOCK = "ridgerenorm-run.lock"
_held_run_lock = None  # the open lock file of this process's run (closed, and so released, when it ends)


def hold_run_lock(folder) -> str | None:
    """Mark this Snakemake process as the run of this checkout: an exclusive flock on folder/RUN_LOCK (the
    checkout's .snakemake/), released by the kernel when the process ends, however it ends, so it is never
    stale.  Returns None when taken; else one line naming the process that holds it.  The second of two
    runs that would build the same files is stopped by Snakemake's own lock (.snakemake/locks), whose
    message offers --unlock: this line comes first and says the other run is alive."""
    import fcntl
    import shlex

    global _held_run_lock
    if _held_run_lock is not None:
        return None
    path = Path(folder) / RUN_LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        holder = " ".join(f.read().split())[:160] or "?"
        f.close()
        return (f"ridgerenorm: another Snakemake process is running in this checkout ({holder}); a run that "
                "builds the same files stops at Snakemake's lock: wait for it, and do not --unlock while it runs")
    f.seek(0)
    f.truncate()
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    command = shlex.join(["snakemake", *sys.argv[1:]])  # argv[0] is snakemake's script or __main__.py
    f.write(f"pid {os.getpid()} on {os.uname().nodename} since {started}: {command[:100]}\n")
    f.flush()
    _held_run_lock = f
    return None


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
    {'files': n, 'bytes': size of the archive}.  Every netCDF member is checked against its data checksum
    first (a corrupt file is refused, not shipped).  Modification times are kept, so the imported results
    stay older than the stamps and files made from them."""
    root = Path(root).resolve()
    members = bundle_members(root, scale)
    for f in members:
        if f.suffix == ".nc":
            try:
                io.read_dataset(f)
            except io.CorruptFileError as err:
                raise BundleError(f"error: not exported: {err}") from None
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


# What a bundle may hold: results/<scale>/<folder>/<file> of these kinds, nothing else (no figures, no
# scripts, no links or devices); and how much it may unpack to.
MEMBER_KINDS = {"spectra": ".nc", "simulation": ".nc", "theory": ".nc", "spectra_data": ".nc", STAMP_DIR: ".sha256"}
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}"
MAX_MEMBER_BYTES = 8 << 30  # one member
MAX_BUNDLE_BYTES = 64 << 30  # all members, unpacked
MAX_MANIFEST_BYTES = 1 << 20


def _member_place(name: str) -> tuple[str, str] | None:
    """(scale, folder) of an acceptable member name, else None."""
    import re

    m = re.fullmatch(rf"results/([A-Za-z0-9_-]{{1,64}})/([a-z_]+)/({_NAME})", name)
    if m and m.group(2) in MEMBER_KINDS and m.group(3).endswith(MEMBER_KINDS[m.group(2)]):
        return m.group(1), m.group(2)
    m = re.fullmatch(rf"results/([A-Za-z0-9_-]{{1,64}})/benchmarks/([a-z_]+/)?({_NAME}/)?{_NAME}\.tsv", name)
    return (m.group(1), "benchmarks") if m else None


def _read_manifest(tar: tarfile.TarFile, archive) -> tuple[dict, tarfile.TarInfo]:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isreg() or first.size > MAX_MANIFEST_BYTES:
        raise BundleError(f"error: {archive}: not a bundle (its first member must be {MANIFEST})")
    text = tar.extractfile(first).read(MAX_MANIFEST_BYTES + 1).decode(errors="replace")
    entries = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name or name in entries:
            raise BundleError(f"error: {MANIFEST}: malformed line {line[:80]!r}")
        if _member_place(name) is None:
            raise BundleError(f"error: {archive}: {name[:100]!r} is not a file a bundle may hold "
                              f"(results/<scale>/{{{','.join(MEMBER_KINDS)}}}/ and benchmarks/)")
        entries[name] = digest
    scales = {_member_place(n)[0] for n in entries}
    if len(scales) > 1:
        raise BundleError(f"error: {archive}: members of more than one scale ({', '.join(sorted(scales))})")
    return entries, first


def import_bundle(archive, root) -> dict:
    """Verify every member of `archive` against its manifest, then install them below `root`.

    The manifest comes first and is checked before anything is written: only results/<scale>/ files of the
    MEMBER_KINDS (and benchmark records) of one scale.  Members are streamed (hashed while copied, never read
    whole), each capped at MAX_MEMBER_BYTES and all at MAX_BUNDLE_BYTES, into a staging folder beside the
    targets; a netCDF member must also pass its data checksum.  Only when every member verifies are they
    renamed into place (keeping their modification times).  On any failure the staging folder goes and
    results/ is exactly as it was; results/ may be a link to other storage."""

    root = Path(root).resolve()
    try:
        tar = tarfile.open(archive, "r|gz")  # a stream: members in order, nothing read twice
    except FileNotFoundError:
        raise
    except (tarfile.TarError, OSError, EOFError) as err:
        raise BundleError(f"error: {archive}: not a readable bundle ({err})") from None
    results = root / "results"
    made_results = not results.exists()
    results.mkdir(exist_ok=True)
    staging = Path(results.resolve(), f".import.{io.tmp_tag()}.stage{io.TMP_SUFFIX}")
    staged, total = {}, 0  # member name -> its staged file, in bundle order
    try:
        with tar:
            entries, first = _read_manifest(tar, archive)
            for member in tar:
                if member is first:
                    continue
                if member.name not in entries or member.name in staged:
                    raise BundleError(f"error: {archive}: {member.name[:100]!r} is not in the manifest (or twice)")
                if not member.isreg() or member.issparse():
                    raise BundleError(f"error: {archive}: {member.name}: not a regular file")
                if member.size > MAX_MEMBER_BYTES or total + member.size > MAX_BUNDLE_BYTES:
                    raise BundleError(f"error: {archive}: {member.name}: {member.size / 1e9:.1f} GB, over the "
                                      f"bundle's limits ({MAX_MEMBER_BYTES >> 30} GiB a file, "
                                      f"{MAX_BUNDLE_BYTES >> 30} GiB in all)")
                total += member.size
                dest = staging / member.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                h, n, src = hashlib.sha256(), 0, tar.extractfile(member)
                with open(dest, "wb") as out:
                    for chunk in iter(lambda: src.read(1 << 20), b""):
                        n += len(chunk)
                        h.update(chunk)
                        out.write(chunk)
                if n != member.size or h.hexdigest() != entries[member.name]:
                    raise BundleError(f"error: {archive}: {member.name} does not match its checksum")
                if dest.suffix == ".nc":
                    try:
                        io.read_dataset(dest)
                    except io.CorruptFileError:
                        raise BundleError(f"error: {archive}: {member.name}: its data do not match their "
                                          "recorded checksum") from None
                os.utime(dest, (member.mtime, member.mtime))
                staged[member.name] = dest
        missing = set(entries) - set(staged)
        if missing:
            raise BundleError(f"error: {archive}: {len(missing)} manifest file(s) missing from the bundle")
        for name, dest in staged.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(dest, target)
    except (tarfile.TarError, EOFError, zlib_error()) as err:
        raise BundleError(f"error: {archive}: a truncated or damaged bundle ({type(err).__name__}: "
                          f"{str(err)[:80]})") from None
    except OSError as err:
        if err.errno == 28:
            raise BundleError(f"error: no space left on {results.resolve()} while importing {archive}; "
                              "nothing was installed") from None
        raise
    except BaseException:
        if made_results:
            shutil.rmtree(results, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"files": len(staged)}


def zlib_error():
    import zlib

    return zlib.error
