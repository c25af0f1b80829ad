"""The README's quick start: a venv first, then the two set-up-and-run lines, the test one exactly what CI runs."""

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_start_commands():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Quick start"):]
    section = section[:section.index("\n## ", 3)]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def words(line):
    """A command line's words, with pip's quiet flag and the `python -m` prefix set aside."""
    out = shlex.split(line)
    out = [w for w in out if w != "-q"]
    while "-m" in out and out[out.index("-m") - 1] == "python":
        i = out.index("-m")
        if out[i + 1] == "pip":
            del out[i - 1:i + 1]
        else:
            break
    return out


def test_quick_start_makes_a_venv_then_runs_what_ci_runs():
    commands = quick_start_commands()
    assert commands[0].startswith("python3.11 -m venv .venv && . .venv/bin/activate")
    paper, tests = commands[1], commands[2]
    assert paper == 'pip install -e ".[test]" && snakemake --cores all'
    assert tests == 'pip install -e ".[test]" && python -m pytest'
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if "pytest" in line and not line.lstrip().startswith("#")]
    assert len(ci) == 1 and words(ci[0]) == words(tests)
    # the quick scale and the cluster are offered right there, with their real config and profile
    assert any("--configfile config/quick.yaml" in c for c in commands)
    slurm = [c for c in commands if "--workflow-profile" in c]
    assert slurm and (ROOT / shlex.split(slurm[0])[-1] / "config.yaml").is_file()
    assert (ROOT / "config" / "quick.yaml").is_file()
