"""Bundles are untrusted input: `cache import` installs only verified results of one scale, streams what it
reads with size caps, and on any failure leaves results/ exactly as it was; `cache export` ships no corrupt
file.  Each hostile case ends in one line."""

import io as bytes_io
import os
import subprocess
import sys
import tarfile

import numpy as np
import pytest
import xarray as xr

from ridgerenorm import cache, io


def _results(root):
    """A tiny results/quick tree: one theory file, one code stamp, one benchmark record."""
    ds = xr.Dataset({"eg": ("P", np.linspace(1.0, 2.0, 5), {"long_name": "test error", "units": "1"})},
                    coords={"P": ("P", np.arange(5), {"long_name": "samples", "units": "1"})})
    io.write_dataset(ds, root / "results" / "quick" / "theory" / "x.nc", io.provenance(spec={"name": "x"}, inputs=[]))
    (root / "results" / "quick" / "code").mkdir(parents=True)
    (root / "results" / "quick" / "code" / "theory.sha256").write_text("0" * 64 + "  ridgerenorm/theory/solver.py\n")
    (root / "results" / "quick" / "benchmarks" / "theory").mkdir(parents=True)
    (root / "results" / "quick" / "benchmarks" / "theory" / "x.tsv").write_text("s\n1.0\n")
    (root / "workflow").mkdir()
    (root / "workflow" / "Snakefile").write_text("")
    return root


def _snapshot(root):
    base = root / "results"
    if not base.exists():
        return None
    return {p.relative_to(base): (p.is_dir() or p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(base.rglob("*"))}


def _bundle(path, members, manifest=None, first_manifest=True):
    """A .tar.gz with MANIFEST.sha256 (the true one unless given) and members {name: bytes or TarInfo tweak}."""
    import hashlib

    if manifest is None:
        manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in members.items())
    with tarfile.open(path, "w:gz") as tar:
        items = [("MANIFEST.sha256", manifest.encode())] + list(members.items())
        if not first_manifest:
            items = items[1:] + items[:1]
        for name, data in items:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, bytes_io.BytesIO(data))
    return path


@pytest.fixture
def exported(tmp_path):
    src = _results(tmp_path / "src")
    archive = tmp_path / "quick.tar.gz"
    assert cache.export_bundle(src, "quick", archive)["files"] == 3
    return archive, src


def test_round_trip_installs_and_keeps_times(exported, tmp_path):
    archive, src = exported
    dest = tmp_path / "dest"
    dest.mkdir()
    assert cache.import_bundle(archive, dest) == {"files": 3}
    for rel in ("theory/x.nc", "code/theory.sha256", "benchmarks/theory/x.tsv"):
        a, b = src / "results" / "quick" / rel, dest / "results" / "quick" / rel
        assert a.read_bytes() == b.read_bytes() and int(a.stat().st_mtime) == int(b.stat().st_mtime), rel
    assert not list((dest / "results").glob(".*"))  # no staging folder left


def test_import_into_a_results_link_to_other_storage(exported, tmp_path):
    archive, _ = exported
    dest, scratch = tmp_path / "dest", tmp_path / "scratch"
    dest.mkdir()
    scratch.mkdir()
    (dest / "results").symlink_to(scratch)
    assert cache.import_bundle(archive, dest) == {"files": 3}
    assert (scratch / "quick" / "theory" / "x.nc").is_file()


def _hostile(tmp_path, exported):
    """name -> (archive, fragment of the one-line refusal)."""
    archive, src = exported
    good = {m.name: m for m in tarfile.open(archive).getmembers()}
    data = {name: tarfile.open(archive).extractfile(m).read() for name, m in good.items() if m.isfile()}
    nc = data["results/quick/theory/x.nc"]
    cases = {}
    cases["script"] = (_bundle(tmp_path / "a.tgz", {"results/evil.sh": b"rm -rf /\n"}), "not a file a bundle may hold")
    cases["figure"] = (_bundle(tmp_path / "b.tgz", {"results/quick/figures/B2_lr-isotropic.png": b"\x89PNG"}),
                       "not a file a bundle may hold")
    cases["traversal"] = (_bundle(tmp_path / "c.tgz", {"results/quick/theory/../../../x.nc": nc}),
                          "not a file a bundle may hold")
    cases["two scales"] = (_bundle(tmp_path / "d.tgz", {"results/quick/theory/x.nc": nc, "results/paper/theory/x.nc": nc}),
                           "more than one scale")
    cases["tampered"] = (_bundle(tmp_path / "e.tgz", {"results/quick/theory/x.nc": nc[:-1] + bytes([nc[-1] ^ 1])},
                                 manifest=data["MANIFEST.sha256"].decode().splitlines()[0]
                                 .replace("results/quick/code/theory.sha256", "results/quick/theory/x.nc") + "\n"),
                         "does not match its checksum")
    raw = archive.read_bytes()
    (tmp_path / "f.tgz").write_bytes(raw[: len(raw) // 2])
    cases["truncated"] = (tmp_path / "f.tgz", "truncated or damaged")
    cases["manifest last"] = (_bundle(tmp_path / "g.tgz", {"results/quick/theory/x.nc": nc}, first_manifest=False),
                              "first member must be MANIFEST.sha256")
    cases["not gzip"] = (tmp_path / "h.tgz", "not a readable bundle")
    (tmp_path / "h.tgz").write_bytes(b"plain text, not a bundle\n")
    return cases


@pytest.mark.parametrize("case", ["script", "figure", "traversal", "two scales", "tampered", "truncated",
                                  "manifest last", "not gzip"])
def test_hostile_bundle_is_refused_in_one_line_and_changes_nothing(exported, tmp_path, case):
    archive, fragment = _hostile(tmp_path, exported)[case]
    dest = _results(tmp_path / "dest")  # a checkout with results of its own
    before = _snapshot(dest)
    with pytest.raises(cache.BundleError) as err:
        cache.import_bundle(archive, dest)
    assert fragment in str(err.value) and "\n" not in str(err.value), err.value
    assert _snapshot(dest) == before
    res = subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "cache", "import", str(archive), "--root", str(dest)],
                         capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and fragment in res.stderr, res.stderr


def test_oversized_and_bomb_members_are_refused_while_streaming(exported, tmp_path, monkeypatch):
    """A member larger than the cap (here 1 MiB, a gzip bomb of zeros that packs to a few KB) is refused
    from its header before a byte is unpacked, and never read into memory."""
    monkeypatch.setattr(cache, "MAX_MEMBER_BYTES", 1 << 20)
    zeros = bytes(4 << 20)
    bomb = _bundle(tmp_path / "bomb.tgz", {"results/quick/theory/x.nc": zeros})
    assert bomb.stat().st_size < 50_000
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(cache.BundleError, match="over the bundle's limits"):
        cache.import_bundle(bomb, dest)
    assert not (dest / "results").exists()  # results/ did not exist and still does not


def test_export_refuses_a_corrupt_file(tmp_path):
    src = _results(tmp_path / "src")
    target = src / "results" / "quick" / "theory" / "x.nc"
    ds = io.read_dataset(target)
    ds["eg"].values[2] += 1e-9
    ds.to_netcdf(tmp_path / "y.nc")  # the old checksum kept, the data changed
    os.replace(tmp_path / "y.nc", target)
    with pytest.raises(cache.BundleError, match="not exported: .*x.nc: data do not match the recorded checksum"):
        cache.export_bundle(src, "quick", tmp_path / "out.tar.gz")
    assert not (tmp_path / "out.tar.gz").exists()


def _octal(n: int, width: int) -> bytes:
    return b"%0*o" % (width - 1, n) + b"\0"


def _patched_bundle(path, members, patch):
    """A bundle of `members` (a true manifest first) whose last member's 512-byte header is changed by
    patch(header: bytearray) and its checksum recomputed: headers tarfile would never write."""
    import gzip
    import hashlib

    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in members.items())
    raw = bytes_io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        offsets = []
        for name, data in [("MANIFEST.sha256", manifest.encode())] + list(members.items()):
            offsets.append(raw.tell())
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, bytes_io.BytesIO(data))
    data = bytearray(raw.getvalue())
    at = offsets[-1]
    header = data[at: at + 512]
    patch(header)
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    data[at: at + 512] = header
    path.write_bytes(gzip.compress(bytes(data)))
    return path


def _gnu_sparse(header):
    """GNU sparse type 'S': one 512-byte data run at the end of a 4 GiB file of holes."""
    header[156:157] = tarfile.GNUTYPE_SPARSE
    header[386:398], header[398:410] = _octal((4 << 30) - 512, 12), _octal(512, 12)
    header[483:495] = _octal(4 << 30, 12)


def _pax_sparse_bundle(path):
    """The same 4 GiB sparse file as POSIX pax GNU.sparse records (what GNU tar writes with --sparse)."""
    import hashlib

    name, data = "results/quick/theory/x.nc", b"x" * 512
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        manifest = f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode()
        info = tarfile.TarInfo("MANIFEST.sha256")
        info.size = len(manifest)
        tar.addfile(info, bytes_io.BytesIO(manifest))
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.pax_headers = {"GNU.sparse.map": f"{(4 << 30) - 512},512", "GNU.sparse.size": str(4 << 30)}
        tar.addfile(info, bytes_io.BytesIO(data))
    return path


@pytest.mark.parametrize("kind", ["gnu", "pax"])
def test_sparse_member_is_refused_in_one_line(tmp_path, kind):
    """A sparse member unpacks to its full size from a few hundred bytes (here 4 GiB of holes, under the
    8 GiB member cap, so only its type refuses it): refused before a byte is written."""
    archive = (_patched_bundle(tmp_path / "s.tgz", {"results/quick/theory/x.nc": b"x" * 512}, _gnu_sparse)
               if kind == "gnu" else _pax_sparse_bundle(tmp_path / "s.tgz"))
    member = [m for m in tarfile.open(archive, "r|gz")][-1]
    assert member.issparse() and member.size == 4 << 30 < cache.MAX_MEMBER_BYTES
    dest = _results(tmp_path / "dest")
    before = _snapshot(dest)
    res = subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "cache", "import", str(archive), "--root", str(dest)],
                         capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith(f"error: {archive}: results/quick/theory/x.nc: not a regular file"), res.stderr
    assert _snapshot(dest) == before


@pytest.mark.parametrize("lie", [-512, 512, 1 << 20])
def test_a_lying_size_header_is_refused(exported, tmp_path, lie):
    """A member whose header gives a size other than its data's: shorter reads the rest of the data as the
    next header, longer runs into the next header or off the end; either way one line and nothing changed."""
    archive, _ = exported
    nc = tarfile.open(archive).extractfile("results/quick/theory/x.nc").read()
    members = {"results/quick/theory/x.nc": nc}

    def lying(header):
        header[124:136] = _octal(len(nc) + lie, 12)

    bad = _patched_bundle(tmp_path / "lie.tgz", members, lying)
    dest = _results(tmp_path / "dest")
    before = _snapshot(dest)
    with pytest.raises(cache.BundleError) as err:
        cache.import_bundle(bad, dest)
    message = str(err.value)
    assert "\n" not in message and ("truncated or damaged" in message or "does not match its checksum" in message), message
    assert _snapshot(dest) == before


def test_a_truncated_netcdf_with_a_matching_manifest_is_refused(exported, tmp_path):
    """An exporter whose disk filled cut a .nc short and checksummed what was there: the manifest agrees, the
    file does not read (or fails its data checksum), so nothing is installed."""
    archive, _ = exported
    nc = tarfile.open(archive).extractfile("results/quick/theory/x.nc").read()
    bad = _bundle(tmp_path / "cut.tgz", {"results/quick/theory/x.nc": nc[: len(nc) // 2]})
    dest = _results(tmp_path / "dest")
    before = _snapshot(dest)
    with pytest.raises(cache.BundleError, match="results/quick/theory/x.nc: its data do not match") as err:
        cache.import_bundle(bad, dest)
    assert "\n" not in str(err.value)
    assert _snapshot(dest) == before


def test_a_full_disk_during_import_installs_nothing(exported, tmp_path, monkeypatch):
    """The disk fills while a member is staged: one line naming the folder, results/ as it was, no staging left."""
    import builtins
    import errno

    archive, _ = exported
    dest = _results(tmp_path / "dest")
    before = _snapshot(dest)
    real_open = builtins.open

    class Full:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    def staging_open(path, mode="r", *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        return Full(f) if "w" in mode and ".stage" in str(path) else f

    monkeypatch.setattr(cache, "open", staging_open, raising=False)
    with pytest.raises(cache.BundleError) as err:
        cache.import_bundle(archive, dest)
    assert str(err.value) == (f"error: no space left on {(dest / 'results').resolve()} while importing {archive}; "
                              "nothing was installed")
    assert _snapshot(dest) == before  # the staging folder went too
