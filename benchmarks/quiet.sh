#!/bin/bash
# Run a CPU benchmark as if the machine were quiet: every other process moves into a cgroup
# whose CPU weight is 2 (the default is 1024), so it only gets the cores this benchmark
# leaves idle, then everything moves back. Needs root and a writable cgroup v1 "cpu"
# controller; without one it runs the command as it is and says so.
#
#     benchmarks/quiet.sh .venv/bin/python benchmarks/engine.py --size 10000
#
# Only for benchmarks that use no other process: PostgreSQL and Redis would be throttled too.
set -u
GROUP=/sys/fs/cgroup/cpu/civility-background
if ! mkdir -p "$GROUP" 2>/dev/null || ! echo 2 >"$GROUP/cpu.shares" 2>/dev/null; then
  echo "quiet.sh: no writable cgroup cpu controller; running without it" >&2
  exec "$@"
fi
restore() {
  while read -r pid; do
    echo "$pid" >/sys/fs/cgroup/cpu/cgroup.procs 2>/dev/null
  done <"$GROUP/cgroup.procs"
  rmdir "$GROUP" 2>/dev/null
}
trap restore EXIT
# Kernel threads refuse the move; that is expected and harmless.
while read -r pid; do
  [ "$pid" = "$$" ] || echo "$pid" >"$GROUP/cgroup.procs" 2>/dev/null
done </sys/fs/cgroup/cpu/cgroup.procs
echo "quiet.sh: other processes at CPU weight 2 of 1024 while this runs" >&2
"$@"
