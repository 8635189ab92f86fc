#!/usr/bin/env bash
# Paired comparison of servers that are already running (each pinned by the caller, e.g. taskset -c 0):
# for ROUNDS rounds, one wrk run of SECONDS on PATH against each server in turn (the order rotates),
# printing per run: round, name, requests, server CPU µs/request (total, user, system) from /proc/PID/stat.
# An A/B of two builds of the same app, side by side, so drift on a shared machine hits both alike.
#
#   bench/load/ab.sh ROUNDS SECONDS PATH NAME=PORT...      e.g. bench/load/ab.sh 8 5 /plaintext old=18095 new=18096
#
# Summarise with: python3 bench/load/ab_summary.py OUTPUT BASELINE-NAME
set -euo pipefail
(( $# >= 4 )) || { sed -n 2,9p "$0" >&2; exit 2; }
ROUNDS=$1 SECONDS_EACH=$2 TARGET=$3
shift 3
CLIENT_CPU=${CLIENT_CPU:-1}
CLK_TCK=$(getconf CLK_TCK)
names=() ports=() pids=()
for pair in "$@"; do
    name=${pair%%=*} port=${pair##*=}
    pid=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
    [[ -n "$pid" ]] || { echo "nothing listens on port $port" >&2; exit 1; }
    names+=("$name") ports+=("$port") pids+=("$pid")
done
n=${#names[@]}
for round in $(seq "$ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do
        k=$(( (i + round) % n ))
        read -r u1 s1 < <(awk '{ print $14, $15 }' "/proc/${pids[$k]}/stat")
        requests=$(timeout $((SECONDS_EACH + 30)) taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d"${SECONDS_EACH}s" "http://127.0.0.1:${ports[$k]}$TARGET" | awk '/requests in/ { print $1 }')
        read -r u2 s2 < <(awk '{ print $14, $15 }' "/proc/${pids[$k]}/stat")
        awk -v r="$round" -v s="${names[$k]}" -v n="${requests:-0}" -v u=$((u2 - u1)) -v k=$((s2 - s1)) -v hz="$CLK_TCK" \
            'BEGIN { if (n > 0) printf "%d %s %d %.3f %.3f %.3f\n", r, s, n, (u + k) / hz * 1e6 / n, u / hz * 1e6 / n, k / hz * 1e6 / n }'
    done
done
