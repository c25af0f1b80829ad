"""requirements/lock-py311.txt (hash-pinned, exact) and requirements/lowest.txt (the declared floors) agree with
pyproject.toml; environment.yml declares the same floors.  tests/env/check_envs.sh installs both."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock-py311.txt"
LOWEST = ROOT / "requirements" / "lowest.txt"


def direct_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(s) for s in project["dependencies"] + project["optional-dependencies"]["test"]]
    return {canonicalize_name(r.name): r for r in reqs}


def lock_entries(text):
    """{name: (version, number of --hash options)} of a pip-compile / uv pip compile file with hashes."""
    entries, current = {}, None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line[0].isspace():
            m = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s\\;]+)\s*(;[^\\]*)?\\?", stripped)
            assert m, f"lock line is not an exact pin: {stripped!r}"
            current = canonicalize_name(m.group(1))
            assert current not in entries, f"{current} pinned twice"
            entries[current] = [m.group(2), 0]
        elif stripped.startswith("--hash=sha256:"):
            assert current is not None
            assert re.fullmatch(r"--hash=sha256:[0-9a-f]{64}\s*\\?", stripped), stripped
            entries[current][1] += 1
    return {k: tuple(v) for k, v in entries.items()}


def lowest_pins(text):
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            m = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", line)
            assert m, f"lowest.txt line is not name==version: {line!r}"
            pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def floor(req):
    """The version of the single >= clause of a requirement (pyproject declares each dependency so)."""
    lows = [s.version for s in req.specifier if s.operator == ">="]
    assert len(lows) == 1, f"{req}: expected exactly one >= bound"
    return lows[0]


def same_release(pin, bound):
    """pin is the bound itself, zero-padded (2.0 == 2.0.0), or a post-release of it (a yanked bound's fix)."""
    p, b = Version(pin), Version(bound)

    def core(v):
        r = list(v.release)
        while len(r) > 1 and r[-1] == 0:
            r.pop()
        return tuple(r)

    return core(p) == core(b) and p.pre is None and p.dev is None and b.post in (None, p.post)


def check_lock(path):
    header = path.read_text().splitlines()[:3]
    assert any("--generate-hashes" in line for line in header), "the regeneration command heads the lock file"
    entries = lock_entries(path.read_text())
    assert entries and all(n >= 1 for _, n in entries.values()), "every pin carries at least one --hash"
    for name, req in direct_requirements().items():
        assert name in entries, f"{name} is not pinned in {LOCK.name}"
        version = entries[name][0]
        assert req.specifier.contains(version, prereleases=True), f"{name}=={version} is outside {req}"
    assert "ridgerenorm" not in entries  # the package itself is installed from the tree


def test_lock_pins_every_direct_dependency_with_hashes_inside_pyproject_ranges():
    check_lock(LOCK)


def test_lowest_pins_exactly_the_declared_floors():
    pins, reqs = lowest_pins(LOWEST.read_text()), direct_requirements()
    assert set(pins) == set(reqs), f"lowest.txt names {sorted(set(pins) ^ set(reqs))} differently from pyproject"
    for name, req in reqs.items():
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} is outside {req}"
        assert same_release(pins[name], floor(req)), f"{name}=={pins[name]} is not the floor {floor(req)}"


def test_environment_yml_declares_the_same_floors():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = [d for d in env["dependencies"] if isinstance(d, str)]
    specs += [s.split("#")[0].strip() for d in env["dependencies"] if isinstance(d, dict) for s in d.get("pip", [])]
    floors = {}
    for s in specs:
        m = re.fullmatch(r"([A-Za-z0-9._-]+)\s*>=\s*([\w.]+)", s)
        if m:
            floors[canonicalize_name(m.group(1))] = m.group(2)
    assert {n: floor(r) for n, r in direct_requirements().items()} == floors


@pytest.mark.parametrize(
    "text, message",
    [
        ("numpy==2.4.6 \\\n    --hash=sha256:" + "0" * 64 + "\n", "is not pinned"),  # scipy etc. missing
        ("numpy>=2.4 \\\n    --hash=sha256:" + "0" * 64 + "\n", "not an exact pin"),
        ("numpy==1.26.4 \\\n    --hash=sha256:" + "0" * 64 + "\n", "outside"),
    ],
)
def test_lock_check_fails_on_a_bad_lock(tmp_path, text, message):
    bad = tmp_path / "lock.txt"
    bad.write_text("# uv pip compile --generate-hashes\n" + text)
    with pytest.raises(AssertionError, match=message):
        check_lock(bad)


def test_floor_check_fails_on_a_raised_pin():
    assert same_release("2.0.0", "2.0") and same_release("1.7.1.post1", "1.7.1")
    assert not same_release("2.0.1", "2.0") and not same_release("1.14.0.51", "1.14.0.47")
