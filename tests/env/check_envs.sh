#!/usr/bin/env bash
# Install the two pinned environments in fresh venvs and run the workflow on them (issue 15):
#   (a) the exact environment, requirements/lock-py311.txt, hash-checked: install time, `ridgerenorm --version`,
#       the quick-scale dry run;
#   (b) the declared floors, requirements/lowest.txt, on the lowest declared Python (3.11): the dry run and the
#       quick pipeline end to end in a temporary copy of the tree, then every target of `rule all` must exist.
#       When results/quick of the current environment exists (the pytest run before this script builds it),
#       `ridgerenorm compare` reports whether the floors' numbers are bit-identical to it; differences
#       (other numpy/BLAS builds) are reported, not a failure.
# Environment: PYTHON (default python3.11), CORES (default 2), KEEP=1 keeps the temporary folder.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON="${PYTHON:-python3.11}"
CORES="${CORES:-2}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ridgerenorm-envs.XXXXXX")"
if [ "${KEEP:-0}" != 1 ]; then trap 'rm -rf "$WORK"' EXIT; fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
T_START=$SECONDS
declare -A TIMES

say() { printf '\n== %s\n' "$*"; }
stamp() { TIMES[$1]=$(($SECONDS - $2)); echo "-- $1: ${TIMES[$1]} s"; }
copy_tree() {  # the tracked files of the checkout (as they are in the work tree), without results or .git
    mkdir -p "$1"
    (cd "$ROOT" && git ls-files -z | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$1"
}

"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
    || { echo "error: $PYTHON is not Python 3.11 (the lowest the project declares)" >&2; exit 1; }

# --- (a) the lock file --------------------------------------------------------------------------------------
say "lock: fresh venv, pip install --require-hashes --no-deps -r requirements/lock-py311.txt"
"$PYTHON" -m venv "$WORK/venv-lock"
t=$SECONDS
"$WORK/venv-lock/bin/python" -m pip install -q --require-hashes --no-deps -r "$ROOT/requirements/lock-py311.txt"
"$WORK/venv-lock/bin/python" -m pip install -q --no-deps "$ROOT"
stamp lock_install $t
"$WORK/venv-lock/bin/python" -m pip check
"$WORK/venv-lock/bin/ridgerenorm" --version
copy_tree "$WORK/tree-lock"
(cd "$WORK/tree-lock" && PATH="$WORK/venv-lock/bin:$PATH" snakemake -n --quiet --configfile config/quick.yaml)

# --- (b) the declared floors ---------------------------------------------------------------------------------
say "lowest: fresh venv, pip install -c requirements/lowest.txt -e .[test]"
"$PYTHON" -m venv "$WORK/venv-low"
t=$SECONDS
"$WORK/venv-low/bin/python" -m pip install -q -c "$ROOT/requirements/lowest.txt" -e "$ROOT[test]"
stamp lowest_install $t
"$WORK/venv-low/bin/python" -m pip check
LOW_VERSIONS="$("$WORK/venv-low/bin/python" - "$ROOT/requirements/lowest.txt" <<'PY'
import re, sys
from importlib.metadata import version
from packaging.utils import canonicalize_name
pins = dict(re.fullmatch(r"([\w.-]+)==(\S+)", line).groups()
            for line in (l.split("#")[0].strip() for l in open(sys.argv[1])) if line)
wrong = {n: (v, version(n)) for n, v in pins.items() if version(n) != v}
assert not wrong, f"installed versions differ from lowest.txt: {wrong}"
print(f"Python {sys.version.split()[0]}, " + ", ".join(f"{canonicalize_name(n)} {v}" for n, v in pins.items()))
PY
)"
echo "$LOW_VERSIONS"
copy_tree "$WORK/tree-low"
cd "$WORK/tree-low"
export PATH="$WORK/venv-low/bin:$PATH"
snakemake -n --quiet --configfile config/quick.yaml
t=$SECONDS
snakemake --cores "$CORES" --configfile config/quick.yaml > "$WORK/lowest-quick.log" 2>&1 \
    || { tail -n 60 "$WORK/lowest-quick.log"; echo "error: quick pipeline failed on the lowest versions" >&2; exit 1; }
stamp lowest_quick_pipeline $t
# every target of rule all exists: the figures and the files at the top of results/quick (the per-draw
# simulation files are temp() and removed after the merge, so --summary lists them without a file)
snakemake --configfile config/quick.yaml --summary > "$WORK/summary.tsv" 2>/dev/null
python - "$WORK/summary.tsv" <<'PY'
import csv, os, sys
files = [r["output_file"] for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")]
targets = [f for f in files if "/figures/" in f or f.count("/") == 2]
missing = [f for f in targets if not (os.path.isfile(f) and os.path.getsize(f))]
assert not missing, f"missing or empty outputs: {missing}"
pngs = [f for f in targets if f.endswith(".png") and "/figures/" in f]
assert pngs and os.path.isfile("results/quick/contact_sheet.pdf"), "no figure PNG or contact sheet among the outputs"
print(f"{len(targets)} targets present, {len(pngs)} figure PNGs")
PY
AFTER="$(snakemake -n --configfile config/quick.yaml 2>&1)"
grep -q "Nothing to be done" <<< "$AFTER" || { echo "$AFTER" | tail -n 20; echo "error: jobs left after the run" >&2; exit 1; }

COMPARE="not run (no $ROOT/results/quick from the current environment)"
if [ -d "$ROOT/results/quick" ]; then
    say "compare: current environment ($ROOT/results/quick) vs the floors"
    if ridgerenorm compare "$ROOT/results/quick" results/quick > "$WORK/compare.txt"; then
        COMPARE="bit-identical"
    else
        COMPARE="differs (expected across numpy/BLAS versions; not a failure)"
    fi
    tail -n 5 "$WORK/compare.txt"
fi

say "summary"
echo "lowest versions: $LOW_VERSIONS"
echo "lock install (fresh venv, hashes checked): ${TIMES[lock_install]} s"
echo "lowest install: ${TIMES[lowest_install]} s; quick pipeline on the lowest versions (${CORES} cores): ${TIMES[lowest_quick_pipeline]} s"
echo "compare with the current environment: $COMPARE"
echo "total: $((SECONDS - T_START)) s"
