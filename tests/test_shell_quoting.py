"""User text never reaches a shell unquoted: a config path with shell syntax in it is a file name, nothing more."""

import shlex
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
    # the summary the run ends with names the same file, quoted, in the report command it suggests
    assert f"--report report.html --configfile {shlex.quote(str(overlay.relative_to(clone)))}" in res.stderr, res.stderr[-3000:]
    found = [p for p in tmp_path.rglob("CANARY*")] + [p for p in ROOT.glob("CANARY*")]
    assert found == [], found


def test_names_with_shell_syntax_never_reach_a_shell(tmp_path):
    """Experiment names, figure ids and names and the scale become file names and shell words; each with a
    canary in it is refused by the config check, in one line, before anything runs."""
    from ridgerenorm import config as cfg

    canary = tmp_path / "CANARY"
    overlays = {
        "scale": f"scale: 'q$(touch {canary})'\n",
        "experiment name": f"experiments:\n  'b2;touch {canary}': {{model: linear_ridge}}\n",
        "figure id": f"figures:\n  'B2`touch {canary}`': {{name: x, kind: lr_venn}}\n",
        "figure name": f"figures:\n  B1: {{name: 'x$(touch {canary})'}}\n",
    }
    for what, text in overlays.items():
        overlay = tmp_path / "overlay.yaml"
        overlay.write_text(text)
        res = subprocess.run(["ridgerenorm", "check-config", str(ROOT / "config" / "config.yaml"), str(overlay)],
                             capture_output=True, text=True)
        assert res.returncode == 2 and res.stderr.startswith("config error: ") and res.stderr.count("\n") == 1, (
            what, res.stderr)
        try:
            cfg.load_config(ROOT / "config" / "config.yaml", overlay)
            raise AssertionError(f"{what}: accepted")
        except cfg.ConfigError:
            pass
    assert not canary.exists()


def test_bundle_member_names_with_shell_syntax_are_refused(tmp_path):
    """A bundle member named with shell syntax is not a file a bundle may hold: refused before any write."""
    import hashlib
    import io
    import tarfile

    canary = tmp_path / "CANARY"
    name = f"results/quick/theory/x$(touch {canary}).nc"
    archive = tmp_path / "b.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for member, data in (("MANIFEST.sha256", f"{hashlib.sha256(b'x').hexdigest()}  {name}\n".encode()), (name, b"x")):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (tmp_path / "workflow").mkdir()
    (tmp_path / "workflow" / "Snakefile").write_text("")
    res = subprocess.run(["ridgerenorm", "cache", "import", str(archive), "--root", str(tmp_path)],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "not a file a bundle may hold" in res.stderr, res.stderr
    assert not canary.exists() and not (tmp_path / "results").exists()
