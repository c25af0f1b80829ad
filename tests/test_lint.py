"""The package and its tests pass ruff's conservative rule set (pyproject.toml [tool.ruff.lint]: syntax
errors and pyflakes), when ruff is installed (the test extra)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ruff")
ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing_in_src_and_tests():
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests"], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-1000:]


def test_ruff_catches_an_unused_import(tmp_path):
    """The rule set is the project's (read from pyproject.toml) and it does find a problem when there is one."""
    (tmp_path / "probe.py").write_text("import os\n")
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
                          str(tmp_path / "probe.py")], capture_output=True, text=True)
    assert res.returncode == 1 and "F401" in res.stdout, res.stdout + res.stderr
