#!/usr/bin/env bash
# CPU per node of three meshes run side by side in the same window: chorus-tui on the built-in
# engine, chorus-tui on libzmq, and the original-style Python node. On a machine shared with other
# work this compares the variants fairly where separate runs would not (the bench's cost module runs
# them one after the other, on a quiet machine).
#
# Usage: bench/scripts/side-by-side-cost.sh [nodes per mesh, 10] [warm-up s, 45] [window s, 15] [base port, 21000]
# Needs `npm run build` first. Ports base..base+3*nodes are used; keep them below the ephemeral
# range (cat /proc/sys/net/ipv4/ip_local_port_range), or an outgoing connection may hold one.
set -euo pipefail
N=${1:-10}; WARM=${2:-45}; SECS=${3:-15}; BASE=${4:-21000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
pids_builtin=(); pids_libzmq=(); pids_python=()

peers() { # base index: every other port of the mesh, comma-separated
	local base=$1 self=$2 prefix=$3 out=()
	for j in $(seq 0 $((N - 1))); do [ "$j" -ne "$self" ] && out+=("$prefix$((base + j))"); done
	(IFS=,; echo "${out[*]}")
}

start_chorus() { # engine base
	local engine=$1 base=$2 i
	for i in $(seq 0 $((N - 1))); do
		node "$ROOT/dist/cli.js" --headless --demo 0 --report-ms 1000 --bind "tcp://127.0.0.1:$((base + i))" \
			--peer "$(peers "$base" "$i" tcp://127.0.0.1:)" --engine "$engine" > /dev/null 2>&1 &
		eval "pids_$engine+=($!)"
	done
}

start_python() { # base
	local base=$1 i
	for i in $(seq 0 $((N - 1))); do
		"$PYTHON" "$ROOT/bench/python/original_node.py" "$((base + i))" "$(peers "$base" "$i" '')" "python-$i" > /dev/null 2>&1 &
		pids_python+=($!)
	done
}

cpu_ticks() { # pids...: utime + stime, in clock ticks
	local total=0 pid
	for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
	echo "$total"
}

cleanup() { kill "${pids_builtin[@]}" "${pids_libzmq[@]}" "${pids_python[@]}" 2> /dev/null || true; }
trap cleanup EXIT

start_chorus builtin "$BASE"
start_chorus libzmq "$((BASE + N))"
start_python "$((BASE + 2 * N))"
sleep "$((6 + WARM))"
hz=$(getconf CLK_TCK)
declare -A before
for variant in builtin libzmq python; do eval "before[$variant]=\$(cpu_ticks \"\${pids_$variant[@]}\")"; done
sleep "$SECS"
for variant in builtin libzmq python; do
	eval "after=\$(cpu_ticks \"\${pids_$variant[@]}\")"
	echo "$variant: $(echo "scale=2; 100 * ($after - ${before[$variant]}) / $hz / $N / $SECS" | bc) % of a core per node ($N nodes, after $((6 + WARM)) s)"
done
