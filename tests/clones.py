"""Helpers for tests that work on a copy of this checkout as a fresh clone would have it."""

import contextlib
import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICK = ("--configfile", "config/quick.yaml")


def checkout_copy(dest: Path) -> Path:
    """A copy of this checkout's files as a clone would have them (tracked and untracked, not ignored)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
            os.utime(dest / rel)  # a checkout gives every file a new modification time
    return dest


def snakemake_at(*args, cwd=ROOT):
    """Run snakemake in `cwd` (this checkout by default) with the installed package; fail with its output."""
    res = subprocess.run(["snakemake", *args], cwd=cwd, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


def env_for(clone: Path) -> dict:
    """Run the clone's own package: its Snakefile, stamps and `ridgerenorm` commands use clone/src."""
    return dict(os.environ, PYTHONPATH=str(clone / "src"))


def snakemake(clone, *args):
    res = subprocess.run(["snakemake", *args], cwd=clone, capture_output=True, text=True, env=env_for(clone))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout + res.stderr


def job_counts(output: str) -> dict:
    """{rule: count} from Snakemake's job stats table."""
    table = output[output.index("Job stats:"):] if "Job stats:" in output else ""
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.M) if rule != "total"}


@contextlib.contextmanager
def edited(clone: Path, path: Path):
    """Append a comment to `path` for the duration of the block; afterwards restore the file and the code
    stamps (a dry run rewrites the stamps of the edited code, which would make later runs rebuild)."""
    stamps = clone / "results" / "quick" / "code"
    saved = {p: (p.read_text(), p.stat().st_mtime_ns) for p in stamps.iterdir()}
    original = path.read_text()
    try:
        path.write_text(original + "\n# an edit\n")
        yield
    finally:
        path.write_text(original)
        for p, (text, t) in saved.items():
            p.write_text(text)
            os.utime(p, ns=(t, t))
