"""User text never reaches a shell unquoted: a config path with shell syntax in it is a file name, nothing more."""

import subprocess

from clones import ROOT, checkout_copy, env_for


def test_configfile_path_with_shell_syntax_runs_nothing(tmp_path):
    """The start-up plan puts the --configfile paths into a shell line: `$(touch CANARY)` in a path must stay
    a file name (the run plans and builds as usual; no CANARY appears anywhere)."""
    clone = checkout_copy(tmp_path / "clone")
    overlay = clone / "config" / "o$(touch CANARY)`touch CANARY2`;touch CANARY3.yaml"
    overlay.write_text((ROOT / "config" / "quick.yaml").read_text())
    target = "results/quick/simulation/b2_isotropic.nc"
    res = subprocess.run(["snakemake", target, "--cores", "2", "--configfile", str(overlay)], cwd=clone,
                         capture_output=True, text=True, env=env_for(clone))
    assert res.returncode == 0, res.stderr[-3000:]
    assert (clone / target).is_file()
    assert "b2_isotropic" in res.stderr and "est. time" in res.stderr, res.stderr[-3000:]  # the plan ran, quoted
    found = [p for p in tmp_path.rglob("CANARY*")] + [p for p in ROOT.glob("CANARY*")]
    assert found == [], found
