"""pyproject.toml and environment.yml list the same dependencies; the package reports its version."""

import re
import tomllib
from pathlib import Path

import pytest
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


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_venv_and_runs(tmp_path):
    """`python -m build` makes a wheel of a copy of this checkout; installed into a fresh venv (the dependencies
    from this environment, the package from the wheel alone), it runs outside the checkout: its version, a
    config check that needs the packaged schema, and a theory call equal to this checkout's to the last bit."""
    import os
    import subprocess
    import sys

    import numpy as np

    from clones import checkout_copy
    from ridgerenorm.theory import linear_ridge

    src = checkout_copy(tmp_path / "src")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["SETUPTOOLS_SCM_PRETEND_VERSION"] = "0.1.dev0+wheeltest"  # the copy has no git history
    res = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(src)],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    wheels = list((tmp_path / "dist").glob("ridgerenorm-0.1.dev0+wheeltest-*.whl"))
    assert len(wheels) == 1
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheels[0])], check=True,
                   env=env, capture_output=True)
    away = tmp_path / "elsewhere"
    away.mkdir()

    def run(*args):
        out = subprocess.run([*map(str, args)], cwd=away, env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout

    assert run(venv / "bin" / "ridgerenorm", "--version").strip() == "ridgerenorm 0.1.dev0+wheeltest"
    where = run(py, "-c", "import ridgerenorm; print(ridgerenorm.__file__)").strip()
    assert where.startswith(str(venv)), where  # the wheel's copy, not this checkout's
    assert run(venv / "bin" / "ridgerenorm", "check-config", ROOT / "config" / "config.yaml").startswith("config OK")
    code = ("import numpy as np; from ridgerenorm.theory import linear_ridge; eta = np.arange(1, 501) ** -1.5; "
            "th = linear_ridge(eta, np.ones(500), P=[10, 100, 1000], lam=1e-3, sigma_eps=0.1); "
            "print(' '.join(float(v).hex() for v in th.eg.values))")
    eta = np.arange(1, 501) ** -1.5
    here = linear_ridge(eta, np.ones(500), P=[10, 100, 1000], lam=1e-3, sigma_eps=0.1).eg.values
    assert [float.fromhex(v) for v in run(py, "-c", code).split()] == [float(v) for v in here]
