#!/usr/bin/env bash
# A private one-node SLURM on localhost, to try generated array scripts and for the integration test.
# Everything (munge key and socket, slurm.conf, spool, state, logs, pid files) lives in STATE_DIR and
# the ports are picked free, so it neither needs nor disturbs a system SLURM or munge.
#
#   local-cluster.sh start STATE_DIR   # prints `export SLURM_CONF=...`: eval "$(... start DIR)"
#   local-cluster.sh stop STATE_DIR    # cancels its jobs, stops its daemons, waits until they are gone
#
# Run it as root: slurmd starts each job as the user who submitted it. There is no slurmdbd, so sacct
# does not work; read job state with squeue and STATE_DIR/jobcomp.txt.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
action=$1
state=$(mkdir -p "$2" && cd "$2" && pwd)
conf=$state/slurm.conf
export SLURM_CONF=$conf

# A port nobody listens on (bash's /dev/tcp connect fails on a free one), other than $1.
free_port() {
  local port
  for _ in {1..100}; do
    port=$((20000 + RANDOM % 40000))
    if [[ $port != "${1:-}" ]] && ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "no free port found" >&2
  return 1
}

# A zombie counts as gone: where pid 1 does not reap (containers), exited daemons stay zombies.
alive() {
  local proc_state
  proc_state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [[ $proc_state != Z ]]
}

# The pid in a pid file if that process is still the named program (pid files outlive their process).
running_pid() {
  local file=$1 name=$2 pid
  [[ -s $file ]] || return 0
  pid=$(<"$file")
  if alive "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]]; then echo "$pid"; fi
}

# SIGTERM, then SIGKILL whatever is left after 10 s.
stop_pids() {
  [[ $# -gt 0 ]] || return 0
  kill -TERM "$@" 2>/dev/null || true
  for _ in {1..100}; do
    local left=()
    for pid in "$@"; do alive "$pid" && left+=("$pid"); done
    [[ ${#left[@]} -eq 0 ]] && return 0
    sleep 0.1
  done
  kill -KILL "${left[@]}" 2>/dev/null || true
}

start() {
  if [[ -n $(running_pid "$state/slurmctld.pid" slurmctld) ]]; then
    echo "a local SLURM already runs in $state" >&2
    echo "export SLURM_CONF=$(printf %q "$conf")"
    return
  fi
  # Whatever fails, no daemon of a half-started cluster is left behind.
  trap 'echo "the local SLURM failed to start; logs in $state/log" >&2; stop' ERR
  # munged refuses a key or socket in a folder others can write to, and jobs of other users need
  # to reach the socket.
  mkdir -p "$state"/{munge,spool,ctld,log}
  chmod 755 "$state" "$state/munge"
  [[ -s $state/munge/munge.key ]] || mungekey --create --keyfile="$state/munge/munge.key"
  munged --force --socket="$state/munge/munge.socket" --key-file="$state/munge/munge.key" \
    --pid-file="$state/munge/munged.pid" --log-file="$state/log/munged.log" \
    --seed-file="$state/munge/munged.seed"

  local cpus memory_mb ctld_port
  cpus=$(nproc)
  ctld_port=$(free_port)
  memory_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  cat >"$conf" <<EOF
ClusterName=vis-agn-local
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$(free_port "$ctld_port")
SlurmUser=$(id -un)
AuthType=auth/munge
AuthInfo=socket=$state/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
PlugStackConfig=$state/plugstack.conf
# No cgroups: containers and CI machines without systemd have none to give.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$state/jobcomp.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# The node is whatever this machine is; never drain it for differing from the configuration.
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
NodeName=localhost CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  : >"$state/plugstack.conf"

  slurmctld -f "$conf"
  slurmd -f "$conf" -N localhost
  for _ in {1..150}; do
    if [[ $(sinfo -h -n localhost -o %t 2>/dev/null) == idle ]]; then
      echo "export SLURM_CONF=$(printf %q "$conf")"
      return
    fi
    sleep 0.2
  done
  echo "the local SLURM did not come up within 30 s; logs in $state/log:" >&2
  tail -n 20 "$state"/log/*.log >&2 || true
  stop
  exit 1
}

stop() {
  if [[ -n $(running_pid "$state/slurmctld.pid" slurmctld) ]] && jobs=$(squeue -h -o %A 2>/dev/null) && [[ -n $jobs ]]; then
    # shellcheck disable=SC2086 # one job id per word
    scancel $jobs 2>/dev/null || true
    # Cancelled jobs leave through slurmd; stopping it first would orphan their processes.
    for _ in {1..50}; do
      [[ -z $(squeue -h -o %A 2>/dev/null) ]] && break
      sleep 0.2
    done
  fi
  # shellcheck disable=SC2046 # zero or one pid each
  stop_pids $(running_pid "$state/slurmd.pid" slurmd) $(running_pid "$state/slurmctld.pid" slurmctld)
  # shellcheck disable=SC2046
  stop_pids $(running_pid "$state/munge/munged.pid" munged)
}

case $action in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
