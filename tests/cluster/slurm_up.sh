#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine's loopback (Debian's slurm-wlm): munged, slurmctld and
# slurmd, all bound to 127.0.0.1.  No accounting daemon: jobs are tracked with squeue (MinJobAge keeps
# finished jobs visible).  Idempotent; run as root.  Stop with tests/cluster/slurm_down.sh.
set -euo pipefail
if ! command -v slurmctld > /dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge > /dev/null
fi
node=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 2048 ))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=ridgerenorm-test
SlurmctldHost=${node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP
CONF
[ -s /etc/munge/munge.key ] || (command -v mungekey > /dev/null && mungekey --create) || create-munge-key
chown -R munge:munge /etc/munge /run/munge 2>/dev/null || true
pgrep -x munged > /dev/null || runuser -u munge -- /usr/sbin/munged
pgrep -x slurmctld > /dev/null || slurmctld -c
pgrep -x slurmd > /dev/null || slurmd
for _ in $(seq 60); do
    if sinfo -h -o %t 2>/dev/null | grep -qE "^(idle|mix|alloc)"; then
        echo "slurm up: $(sinfo -h -o '%P %D %c cpus %m MB %t')"
        exit 0
    fi
    scontrol update nodename="${node}" state=resume > /dev/null 2>&1 || true
    sleep 1
done
echo "slurm did not come up; logs:" >&2
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2
exit 1
