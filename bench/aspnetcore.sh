#!/usr/bin/env bash
# The same minimal-API ASP.NET Core app (bench/apps/AspNetCoreBench: routing, Results.Text, Results.Json)
# on Kestrel and on Parley (UseParley, both transports): requests/s, server CPU per request and bytes
# allocated per request. As bench/load.sh: the server pinned to CPU $SERVER_CPU, wrk (1 thread, 64
# connections) to CPU $CLIENT_CPU; servers measured one after another within each round, order rotating.
# Bounded: ROUNDS x 3 servers x (WARMUP_PASSES x 2 x WARMUP + 2 x (DURATION + the allocation run)) seconds.
# The warm-up runs both paths WARMUP_PASSES times: after a single pass the scenario measured first still
# paid for tiered compilation (2026-12-06, parley-epoll in one process after one pass of 3 s per path:
# plaintext 25.8, json 16.8, then plaintext 10.7, json 9.3 µs CPU/request), which made every server's
# plaintext look dearer than its json.
#
#   bench/aspnetcore.sh                 ROUNDS=3 WARMUP=5 WARMUP_PASSES=2 DURATION=10 (about 8 minutes)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-5}
WARMUP_PASSES=${WARMUP_PASSES:-2}
DURATION=${DURATION:-10}
SERVERS=${SERVERS:-"kestrel parley parley-epoll"}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=${PORT:-18090}
WORK=${WORK:-$(mktemp -d /tmp/parley-aspnet.XXXXXX)}
CLK_TCK=$(getconf CLK_TCK)
RESULTS="$WORK/results.tsv"
SERVER_PID=""

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
stop_server() {
    [[ -n "$SERVER_PID" ]] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

for tool in wrk taskset curl dotnet; do command -v "$tool" >/dev/null || die "$tool not found"; done
mkdir -p "$WORK/logs"
log "building bench/apps/AspNetCoreBench (Release) into $WORK/bin"
dotnet publish -c Release "$ROOT/bench/apps/AspNetCoreBench" -o "$WORK/bin" --nologo -v quiet >"$WORK/build.log" 2>&1 \
    || { cat "$WORK/build.log" >&2; die "build failed"; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_server() { # name
    BENCH_SERVER=$1 DOTNET_gcServer=1 taskset -c "$SERVER_CPU" "$WORK/bin/AspNetCoreBench" "$PORT" >"$WORK/logs/$1.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 150); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/plaintext" && return 0; sleep 0.2; done
    die "$1 did not answer; see $WORK/logs/$1.log"
}

run_wrk() { # out duration path -> "requests errors"
    timeout $(($2 + 60)) taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d"$2s" "http://127.0.0.1:$PORT$3" >"$1" 2>&1 || true
    local requests errors
    requests=$(awk '/requests in/ {print $1}' "$1")
    errors=$(awk '/Non-2xx|Socket errors/ {n += $NF} END {print n + 0}' "$1")
    echo "${requests:-0} $errors"
}

printf 'round\tserver\tscenario\treq_per_s\tcpu_us_per_req\tbytes_per_req\terrors\n' >"$RESULTS"
read -r -a servers <<<"$SERVERS"
for round in $(seq "$ROUNDS"); do
    for i in "${!servers[@]}"; do
        server=${servers[$(( (i + round - 1) % ${#servers[@]} ))]}
        start_server "$server"
        for pass in $(seq "$WARMUP_PASSES"); do
            run_wrk "$WORK/logs/warm-$round-$server-$pass-p.txt" "$WARMUP" /plaintext >/dev/null
            run_wrk "$WORK/logs/warm-$round-$server-$pass-j.txt" "$WARMUP" /json >/dev/null
        done
        for scenario in plaintext json; do
            before=$(cpu_ticks "$SERVER_PID")
            read -r requests errors < <(run_wrk "$WORK/logs/wrk-$round-$server-$scenario.txt" "$DURATION" "/$scenario")
            after=$(cpu_ticks "$SERVER_PID")
            rps=$(awk -v r="$requests" -v d="$DURATION" 'BEGIN {printf "%.0f", r / d}')
            cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v r="$requests" 'BEGIN {printf "%.2f", (r > 0 ? t / hz * 1e6 / r : 0)}')
            a0=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/alloc")
            read -r arequests _ < <(run_wrk "$WORK/logs/alloc-$round-$server-$scenario.txt" 3 "/$scenario")
            a1=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/alloc")
            bytes=$(awk -v a="$a0" -v b="$a1" -v r="$arequests" 'BEGIN {printf "%.0f", (r > 0 ? (b - a) / r : 0)}')
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$server" "$scenario" "$rps" "$cpu" "$bytes" "$errors" >>"$RESULTS"
            log "round $round $server $scenario: $rps req/s, $cpu us CPU/request, $bytes B/request, $errors errors"
        done
        stop_server
    done
done

# Medians over rounds, and each server's ratio to Kestrel's median.
python3 - "$RESULTS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
med = {}
for key in {(r['server'], r['scenario']) for r in rows}:
    sel = [r for r in rows if (r['server'], r['scenario']) == key]
    med[key] = {f: statistics.median(float(r[f]) for r in sel) for f in ('req_per_s', 'cpu_us_per_req', 'bytes_per_req')}
print('| Scenario | Server | Requests/s | Server CPU µs/request | CPU vs Kestrel | Bytes allocated/request |')
print('|---|---|---:|---:|---:|---:|')
for scenario in ('plaintext', 'json'):
    for server in ('kestrel', 'parley', 'parley-epoll'):
        m = med.get((server, scenario))
        if not m: continue
        k = med[('kestrel', scenario)]
        print(f"| {scenario} | {server} | {m['req_per_s']:,.0f} | {m['cpu_us_per_req']:.2f} | {m['cpu_us_per_req'] / k['cpu_us_per_req']:.2f}x | {m['bytes_per_req']:,.0f} |")
PY
log "results in $RESULTS"
