"""Audit trail of a pipeline output: what made it, from what, and whether it can be remade bit for bit.

Every netCDF file carries its command, parameters, seed keys, the data checksums of its inputs, versions
and git commit (io.provenance).  `ridgerenorm audit FILE` prints that record and checks the inputs' data are
unchanged (by content: a bit-identical rebuild of an input is not a change); `--verify` recomputes the file
in a temporary folder (first regenerating the temporary simulation blocks a merged file was made from) and
compares every variable bit for bit.  Paths are resolved against the checkout the file lives in (the folder
holding its results/), so audit works from any directory.

A file written by `ridgerenorm curve` records its options as a list of words (`curve_args`) and its input
files by SHA-256: `--verify` parses the words with the curve command's own parser (never a shell), accepts
them only if every input file they name is one the record lists (and audit has found unchanged), reruns the
command with its outputs in a temporary folder, and requires the same recorded parameters and every variable
bit-identical (the same code on the same inputs; the curve has no random draws).

A file's attributes are not covered by its data checksum, so a record may have been written by anyone:
`--verify` never runs the recorded command line.  It parses the line with the package's own argument parser,
accepts only the steps that write a netCDF file (spectrum, spectra-data, simulate, merge, theory), and builds
a fresh command from the step name, the recorded parameters (`spec`, given as a file in the temporary
folder), the step's numeric options, and input files that the record itself lists as checksummed inputs
inside the checkout.  Every output goes to the temporary folder.  A record that does not parse so is
refused with one line.
"""

from __future__ import annotations

import argparse
import contextlib
import io as _stdio
import json
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import io
from .commands import build_parser


def checkout_root(path) -> Path:
    """The checkout a results file belongs to: the folder above its results/ (the working directory when
    the path has no results/ component)."""
    parts = Path(path).resolve().parts
    if "results" in parts:
        i = len(parts) - 1 - parts[::-1].index("results")
        return Path(*parts[:i])
    return Path.cwd()


def rebuild_command(path) -> str:
    """A command that rebuilds `path` when pasted in any shell: cd to its checkout, the scale's config
    overlay, and --forcerun on the file itself."""
    root = checkout_root(path)
    rel = Path(path).resolve()
    rel = rel.relative_to(root) if rel.is_relative_to(root) else rel
    parts = rel.parts
    scale = parts[parts.index("results") + 1] if "results" in parts[:-1] else None
    overlay = root / "config" / f"{scale}.yaml"
    configfile = f" --configfile {shlex.quote(str(overlay.relative_to(root)))}" if scale and scale != "paper" and overlay.is_file() else ""
    target = shlex.quote(str(rel))
    return f"cd {shlex.quote(str(root))} && snakemake {target} --cores all{configfile} --forcerun {target}"


class RecordError(SystemExit):
    """A recorded command that --verify refuses to rebuild (one line, exit status 1 from the CLI)."""

    def __init__(self, message: str):
        super().__init__(f"audit: {message}")


# the steps --verify rebuilds: their input-file options, and their numeric options (passed on as parsed)
STEP_INPUTS = {"spectrum": (), "spectra-data": (), "simulate": ("spectrum",), "theory": ("spectrum",),
               "merge": ("spectrum", "blocks")}
STEP_VALUES = {"simulate": ("draws", "threads", "mem_gb"), "spectra-data": ("seed",)}
_DRAWS = re.compile(r"[0-9]{1,12}:[0-9]{1,12}")


def parse_record(command: str) -> argparse.Namespace:
    """A recorded `ridgerenorm STEP ...` line parsed by the package's own parser (nothing is run); refuses
    a line that is not one of the STEP_INPUTS steps or that the parser rejects."""
    shown = command[:80].encode("unicode_escape").decode()
    try:
        argv = shlex.split(command)
    except ValueError:
        raise RecordError(f"recorded command cannot be parsed: {shown}") from None
    if not argv or argv[0] != "ridgerenorm" or len(argv) < 2 or argv[1] not in STEP_INPUTS:
        raise RecordError(f"recorded command is not a ridgerenorm step that writes a netCDF file "
                          f"({', '.join(STEP_INPUTS)}): {shown}")
    with contextlib.redirect_stderr(_stdio.StringIO()):
        try:
            args = build_parser().parse_args(argv[1:])
        except SystemExit:
            raise RecordError(f"recorded command is not valid for `ridgerenorm {argv[1]}`: {shown}") from None
    if getattr(args, "draws", None) is not None and not _DRAWS.fullmatch(args.draws):
        raise RecordError(f"recorded --draws is not START:STOP: {args.draws[:40]!r}")
    return args


def _recorded_input(value: str, inputs: set[str], root: Path) -> str:
    """An input path of a recorded command, as an absolute path: only a file the record lists among its
    checksummed inputs, relative and inside the checkout."""
    path = Path(value)
    if value not in inputs or path.is_absolute() or ".." in path.parts:
        raise RecordError(f"recorded input {value[:80]!r} is not one of the file's checksummed inputs")
    where = (root / path).resolve()
    if not where.is_relative_to(root.resolve()):
        raise RecordError(f"recorded input {value[:80]!r} lies outside the checkout")
    return str(where)


def step_argv(args: argparse.Namespace, out: str, spec_file, inputs: dict[str, str | list[str]]) -> list[str]:
    """The argument list that recomputes one step: its name, the recorded parameters (spec_file), the given
    inputs, its numeric options as parsed, and `out`; nothing else of the record."""
    argv = [args.command, "--spec", f"@{spec_file}", "--out", out]
    for name in STEP_VALUES.get(args.command, ()):
        argv += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    for name, value in inputs.items():
        argv += value if isinstance(value, list) else [f"--{name}", value]
    return argv


def _run(argv: list[str], cwd) -> None:
    res = subprocess.run([sys.executable, "-m", "ridgerenorm.cli", *argv], capture_output=True, text=True, cwd=cwd)
    if res.returncode != 0:
        raise SystemExit(f"audit: rerun failed ({res.returncode}): {res.stderr.strip().splitlines()[-1:]}")


def _out_path(command: str) -> str:
    """The --out of a recorded command (for display; '?' when the line does not parse)."""
    try:
        return parse_record(command).out
    except RecordError:
        return "?"


def describe(path) -> tuple[str, list[str]]:
    """The printable record and the list of problems with the inputs (changed or missing).  `path` is a
    netCDF output or a figure (PNG or PDF), whose record sits in its metadata."""
    a = io.read_record(path)
    lines = [f"file:        {path}", f"made by:     {a.get('command', '?')}", f"created:     {a.get('created', '?')}",
             f"git commit:  {a.get('git_commit', '?')}", f"versions:    {a.get('versions', '?')}"]
    if "wall_time_s" in a:
        lines.append(f"wall time:   {float(a['wall_time_s']):.2f} s")
    if "seed_keys" in a:
        lines.append(f"seed keys:   {a['seed_keys']}")
    if "spec" in a:
        lines.append("parameters:  " + json.dumps(json.loads(a["spec"]), sort_keys=True))
    problems = []
    root = checkout_root(path)
    blocks = set(_out_path(c) for c in json.loads(a.get("block_commands", "[]")))
    for inp, digest in json.loads(a.get("inputs", "{}")).items():
        where = root / inp
        if not where.exists():
            state = "temporary block (regenerated by --verify)" if inp in blocks else "MISSING"
        else:
            # files made before data checksums recorded the SHA-256 of the file's bytes
            now = io.input_checksum(where) if digest.startswith("data:") else io.sha256(where)
            state = "unchanged" if now == digest else "CHANGED since this file was made"
        if state in ("MISSING", "CHANGED since this file was made"):
            problems.append(f"{inp}: {state}")
        lines.append(f"input:       {inp}  {digest.removeprefix('data:')[:16]}...  {state}")
    for row in a.get("agreement", []) if isinstance(a.get("agreement"), list) else []:
        lines.append(f"agreement:   {row.get('experiment')} {row.get('quantity')}: median rel dev "
                     f"{row.get('median_rel_dev')}, max {row.get('max_rel_dev')}, chi2/point {row.get('chi2_per_point')}")
    lines.append(f"rebuild:     {rebuild_command(path)}")
    return "\n".join(lines), problems


def _max_relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a - b| / max(|a|, |b|) over the entries (0 where both are zero or both NaN); inf on a
    shape or NaN-pattern mismatch.  Says whether a difference is round-off or a real change."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return float("inf")
    if a.dtype.kind not in "fc":
        return 0.0 if np.array_equal(a, b) else float("inf")
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if np.any(nan_a != nan_b):
        return float("inf")
    a, b = a[~nan_a], b[~nan_b]
    scale = np.maximum(np.abs(a), np.abs(b))
    diff = np.abs(a - b)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0)
    return float(rel.max()) if rel.size else 0.0


def curve_arguments(original, root: Path) -> list[str]:
    """The recorded options of a `ridgerenorm curve` file (its `curve_args`), as data: a JSON list of words that
    the curve command's own parser accepts, whose input files are each one the record lists with its SHA-256.
    RecordError (one line) otherwise; nothing of the record is run."""
    from . import curve

    text = original.attrs["curve_args"]
    shown = str(text)[:80].encode("unicode_escape").decode()
    try:
        words = json.loads(text)
    except ValueError:
        words = None
    if not (isinstance(words, list) and all(isinstance(w, str) for w in words)):
        raise RecordError(f"recorded curve arguments are not a list of words: {shown}")
    with contextlib.redirect_stderr(_stdio.StringIO()):
        try:
            args = curve.parser().parse_args(words + ["--out", "unused.nc"])
        except SystemExit:
            raise RecordError(f"recorded curve arguments are not valid for `ridgerenorm curve`: {shown}") from None
    recorded = json.loads(original.attrs.get("inputs", "{}"))
    for name in curve.INPUT_OPTIONS:
        values = getattr(args, name)
        for value in values if isinstance(values, list) else [] if values is None else [values]:
            if value not in recorded:
                raise RecordError(f"recorded --{name.replace('_', '-')} {value[:80]!r} is not one of the file's "
                                  "checksummed inputs")
            if not (root / value).is_file():
                raise RecordError(f"recorded --{name.replace('_', '-')} {value[:80]!r}: the input file is missing")
    return words


def recompute(path):
    """Recompute `path` in a temporary folder; the original and the recomputed Dataset.  The commands are
    rebuilt from the record (parse_record, step_argv; a curve's curve_arguments), never run as recorded."""
    original = io.read_dataset(path)
    if "command" not in original.attrs or "spec" not in original.attrs:
        raise RecordError(f"{path} records no command or no parameters to recompute it from")
    root = checkout_root(path)
    if "curve_args" in original.attrs:  # `ridgerenorm curve`: its options, rerun with outputs in the temporary folder
        words = curve_arguments(original, root)
        with tempfile.TemporaryDirectory(prefix="ridgerenorm-audit-") as tmp:
            out = str(Path(tmp) / "rebuilt.nc")
            _run(["curve", *words, "--out", out, "--png", str(Path(tmp) / "rebuilt.png")], root)
            return original, io.read_dataset(out)
    args = parse_record(original.attrs["command"])
    recorded = set(json.loads(original.attrs.get("inputs", "{}")))
    try:
        json.loads(original.attrs["spec"])
    except ValueError:
        raise RecordError(f"{path}: the recorded parameters are not JSON") from None
    with tempfile.TemporaryDirectory(prefix="ridgerenorm-audit-") as tmp:
        spec_file = Path(tmp) / "spec.json"  # the recorded parameters (the blocks of a merge share them)
        spec_file.write_text(original.attrs["spec"])
        inputs = {}
        if "spectrum" in STEP_INPUTS[args.command] and args.spectrum:
            inputs["spectrum"] = _recorded_input(args.spectrum, recorded, root)
        if args.command == "merge":
            blocks = []
            for k, block_cmd in enumerate(json.loads(original.attrs.get("block_commands", "[]"))):
                block = parse_record(block_cmd)
                if block.command != "simulate":
                    raise RecordError(f"a recorded block command is not a simulate step: {block.command}")
                blocks.append(str(Path(tmp) / f"block_{k}.nc"))
                spectrum = {"spectrum": _recorded_input(block.spectrum, recorded, root)}
                _run(step_argv(block, blocks[-1], spec_file, spectrum), root)
            if not blocks:
                raise RecordError(f"{path}: a merged file that records no block commands")
            inputs["blocks"] = blocks
        out = str(Path(tmp) / "rebuilt.nc")
        _run(step_argv(args, out, spec_file, inputs), root)
        return original, io.read_dataset(out)


def recompute_and_compare(path) -> dict[str, float]:
    """Recompute `path` in a temporary folder; return {variable: max relative difference} for the variables
    that are not bit-identical (empty: identical)."""
    return compare_datasets(*recompute(path))


def parameter_differences(original, rebuilt) -> list[str]:
    """The keys of the recorded parameters (`spec`) that the recomputation did not reproduce: a curve's
    recorded options must give its recorded parameters (else the options or the parameters were edited)."""
    a, b = json.loads(original.attrs["spec"]), json.loads(rebuilt.attrs["spec"])
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def environment_report(original_attrs: dict, rebuilt_attrs: dict | None = None) -> str:
    """Why a recomputed file may differ: the versions record (packages, BLAS, netCDF libraries) and git commit
    the file was made with against those of the recomputation (`rebuilt_attrs`; default this environment).
    "environment differs: numpy 2.4.6 -> 2.5.5, ..." or a line saying the environment is the same, so the
    RESULT itself differs."""
    if rebuilt_attrs is None:
        rebuilt_attrs = {"versions": json.dumps(io._versions()), "git_commit": io._git_commit()}
    if "versions" not in original_attrs:
        return "environment unknown: the file records no versions, so a changed environment cannot be ruled out"
    changes = io.environment_differences(original_attrs["versions"], rebuilt_attrs["versions"])
    old_commit, new_commit = original_attrs.get("git_commit", "(none)"), rebuilt_attrs.get("git_commit", "(none)")
    if old_commit != new_commit:
        changes.append(f"git_commit {old_commit} -> {new_commit}")
    if changes:
        return "environment differs: " + ", ".join(changes)
    return ("environment is the same (package and library versions, BLAS, git commit as recorded): "
            "the RESULT differs")


def compare_datasets(a, b) -> dict[str, float]:
    """{variable: max relative difference} of the variables (data and coordinates) of two Datasets that are
    not bit-identical; a variable present in only one of them counts as inf."""
    differ = {}
    for name in set(a.variables) | set(b.variables):
        if name not in a.variables or name not in b.variables:
            differ[name] = float("inf")
            continue
        x, y = a[name].values, b[name].values
        if not np.array_equal(x, y, equal_nan=x.dtype.kind == "f" and y.dtype.kind == "f"):
            differ[name] = _max_relative_difference(x, y)
    return differ


def compare_trees(before, after) -> tuple[list[str], int]:
    """Compare every netCDF file of two result trees variable by variable; the report lines and the number
    of files that differ (or exist in one tree only)."""
    before, after = Path(before), Path(after)
    names = sorted({p.relative_to(before) for p in before.rglob("*.nc")} | {p.relative_to(after) for p in after.rglob("*.nc")})
    lines, bad, n_vars = [], 0, 0
    for rel in names:
        if not (before / rel).exists() or not (after / rel).exists():
            lines.append(f"{rel}: only in {'after' if (after / rel).exists() else 'before'}")
            bad += 1
            continue
        a, b = io.read_dataset(before / rel), io.read_dataset(after / rel)
        n_vars += len(a.variables)
        differ = compare_datasets(a, b)
        if differ:
            bad += 1
            worst = ", ".join(f"{k} ({v:.1e})" for k, v in sorted(differ.items(), key=lambda kv: -kv[1]))
            lines.append(f"{rel}: DIFFERENT in {len(differ)} of {len(a.variables)} variables: {worst}")
    lines.append(f"{len(names)} files, {n_vars} variables compared: "
                 + ("every variable bit-identical" if not bad else f"{bad} file(s) differ"))
    return lines, bad


def main(path, verify: bool = False) -> int:
    text, problems = describe(path)
    print(text)
    if problems:
        print("inputs differ from those this file was made from:\n  " + "\n  ".join(problems))
        return 1
    if verify and Path(path).suffix in (".png", ".pdf"):
        print("verify: a figure is checked through its inputs (above); --verify recomputes netCDF files: "
              "audit them, or rebuild the figure with the command above")
        return 0
    if verify:
        original, rebuilt = recompute(path)
        keys = parameter_differences(original, rebuilt)
        if keys:
            print(f"verify: FAILED: the recorded arguments do not give the recorded parameters (they differ in "
                  f"{', '.join(keys)}): the record was edited")
            return 1
        differ = compare_datasets(original, rebuilt)
        if differ:
            worst = ", ".join(f"{k} ({v:.1e})" for k, v in sorted(differ.items(), key=lambda kv: -kv[1]))
            print(f"verify: DIFFERENT in {len(differ)} variable(s), max relative difference: {worst}")
            print("verify: " + environment_report(original.attrs, rebuilt.attrs))
            return 1
        print("verify: recomputed in a temporary folder; every variable is bit-identical")
    return 0
