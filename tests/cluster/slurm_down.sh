#!/usr/bin/env bash
# Stop the test cluster started by slurm_up.sh.
pkill -x slurmd; pkill -x slurmctld; pkill -x munged
exit 0
