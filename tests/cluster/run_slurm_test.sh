#!/usr/bin/env bash
# Real-cluster test: the quick pipeline through Snakemake's SLURM executor on a single-node SLURM cluster
# running on this machine's loopback (slurm_up.sh), with simulations sharded into more jobs than the local
# run uses; every netCDF value must be bit-identical to the local run.  CI runs it when CLUSTER=1.
#   bash tests/cluster/run_slurm_test.sh            (as root; installs slurm-wlm, and the executor plugin in
#                                                    a throwaway venv)
# The plugin goes into a venv under $work, not into the Python that runs the tests: once installed,
# snakemake-executor-plugin-slurm 2.8 runs `scontrol show config` whenever Snakemake starts, and with the
# cluster stopped that call waits about 9 s, in every later snakemake command on the machine.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/ridgerenorm-slurm.XXXXXX)
trap 'bash "$repo/tests/cluster/slurm_down.sh"' EXIT
bash "$repo/tests/cluster/slurm_up.sh"
python -m venv --system-site-packages "$work/venv"  # sees this Python's snakemake and ridgerenorm
"$work/venv/bin/python" -m pip install -q snakemake-executor-plugin-slurm

copy() {  # a fresh copy of the workflow
    mkdir -p "$1"
    cp -a "$repo/workflow" "$repo/config" "$repo/src" "$repo/profiles" "$repo/benchmarks" "$1/"
}
copy "$work/local"
copy "$work/slurm"
# Shard simulations more finely on the cluster: one or two data draws per SLURM job.
cat > "$work/slurm/shards.yaml" <<'YAML'
experiments:
  b2_isotropic: {block: 2}
  b3_capacity: {block: 1}
  b3_source: {block: 3}
  c2_isotropic: {block: 1}
  c3_variance_limited: {block: 2}
  d3_additive: {block: 2}
  d5_noise_mitigated: {block: 1}
YAML

t0=$(date +%s)
(cd "$work/local" && snakemake --cores 2 --configfile config/quick.yaml --quiet > "$work/local.log" 2>&1)
t1=$(date +%s)
(cd "$work/slurm" && "$work/venv/bin/python" -m snakemake --workflow-profile profiles/slurm --configfile config/quick.yaml shards.yaml \
    --slurm-status-command squeue --jobs 4 --quiet \
    --slurm-init-seconds-before-status-checks 2 --seconds-between-status-checks 5 --max-status-checks-per-second 5 \
    > "$work/slurm.log" 2>&1) || {
    tail -n 40 "$work/slurm.log"; exit 1; }
t2=$(date +%s)
echo "local run: $((t1 - t0)) s; slurm run: $((t2 - t1)) s; SLURM jobs run: $(squeue -h -t all | wc -l)"

python - "$work/local/results/quick" "$work/slurm/results/quick" <<'PY'
import sys
from pathlib import Path

import numpy as np
import xarray as xr

local, slurm = map(Path, sys.argv[1:])
files = sorted(p.relative_to(local) for p in local.rglob("*.nc"))
assert files, "no netCDF outputs"
bad = []
for rel in files:
    with xr.open_dataset(local / rel) as a, xr.open_dataset(slurm / rel) as b:
        for name in a.variables:
            x, y = a[name].values, b[name].values
            if not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
                bad.append(f"{rel}:{name}")
sims = [f for f in files if f.parts[0] == "simulation"]
with xr.open_dataset(slurm / "simulation" / "b3_capacity.nc") as d:
    shards = int(d.attrs["n_blocks"])
print(f"compared {len(files)} netCDF files ({len(sims)} merged simulations); b3_capacity merged from {shards} SLURM jobs")
if bad:
    sys.exit("DIFFERENT: " + ", ".join(bad[:20]))
print("slurm run is bit-identical to the local run")
PY
