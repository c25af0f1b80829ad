"""pyproject.toml and environment.yml list the same dependencies; the package reports its version."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def names(specs):
    return {re.split(r"[<>=!~ \[]", s.strip(), maxsplit=1)[0].lower().replace("_", "-") for s in specs}


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = names(project["dependencies"]) | names(project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = names(d for d in env["dependencies"] if isinstance(d, str)) - {"python", "pip"}
    pip = [s for d in env["dependencies"] if isinstance(d, dict) for s in d.get("pip", []) if not s.startswith("-")]
    assert not conda & names(pip)  # each installed one way
    assert conda | names(pip) == wanted


def test_version_is_reported(capsys):
    from ridgerenorm import __version__, cli

    assert __version__ and __version__ != "0+unknown"
    try:
        cli.main(["--version"])
    except SystemExit as e:
        assert e.code == 0
    assert capsys.readouterr().out.strip() == f"ridgerenorm {__version__}"


def test_commit_outside_a_git_checkout_is_the_version(tmp_path):
    """A non-editable install has no git repository around it: provenance records the package version (which
    setuptools-scm derives from the commit), never "unknown"."""
    import shutil
    import subprocess
    import sys

    import ridgerenorm

    shutil.copytree(Path(ridgerenorm.__file__).parent, tmp_path / "ridgerenorm",
                    ignore=shutil.ignore_patterns("__pycache__"))
    code = "import ridgerenorm, ridgerenorm.io as io; print(io._git_commit()); print(ridgerenorm.__version__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == out[1] and out[0] not in ("unknown", "0+unknown")


def test_version_file_is_no_rule_input():
    """setuptools-scm rewrites _version.py at every install; as a code input of the rules it would rerun the
    whole pipeline after `pip install -e .`."""
    from ridgerenorm import deps

    for step in deps.STEPS:
        assert "ridgerenorm._version" not in deps.step_modules(step), step
