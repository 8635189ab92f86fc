#!/usr/bin/env bash
# WebSocket echo of small messages (bench/apps/WebSocketBench): Kestrel with the WebSockets middleware,
# Parley's own API (AcceptWebSocketAsync) on both transports, and the same middleware app on Parley
# (UseParley, epoll). As bench/load.sh: the server pinned to CPU $SERVER_CPU, the client (CONNECTIONS
# ClientWebSockets, each sending a SIZE-byte message and waiting for its echo, in a loop) to CPU $CLIENT_CPU.
# Reports messages/s and server CPU time per message (utime + stime of the server process over the run).
# Bounded: servers x (WARMUP + DURATION + start-up) seconds.
#
#   bench/websocket.sh                  WARMUP=3 DURATION=10 CONNECTIONS=64 SIZE=32 (about 1 minute)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WARMUP=${WARMUP:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
SIZE=${SIZE:-32}
SERVERS=${SERVERS:-"kestrel parley parley-epoll aspnet-parley"}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
# A free port unless one is given: other benchmarks and tests may hold any fixed one.
PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
WORK=${WORK:-$(mktemp -d /tmp/parley-websocket.XXXXXX)}
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

for tool in taskset curl dotnet; do command -v "$tool" >/dev/null || die "$tool not found"; done
mkdir -p "$WORK/logs"
log "building bench/apps/WebSocketBench (Release) into $WORK/bin"
dotnet publish -c Release "$ROOT/bench/apps/WebSocketBench" -o "$WORK/bin" --nologo -v quiet >"$WORK/build.log" 2>&1 \
    || { cat "$WORK/build.log" >&2; die "build failed"; }
BIN="$WORK/bin/WebSocketBench"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_server() { # name
    DOTNET_gcServer=1 taskset -c "$SERVER_CPU" "$BIN" server "$1" "$PORT" >"$WORK/logs/$1.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 150); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/ready" && return 0; sleep 0.2; done
    die "$1 did not answer; see $WORK/logs/$1.log"
}

run_client() { # seconds -> "messages errors"
    timeout $(($1 + 60)) taskset -c "$CLIENT_CPU" "$BIN" client "ws://127.0.0.1:$PORT/echo" "$CONNECTIONS" "$1" "$SIZE"
}

printf 'server\tmessages_per_s\tcpu_us_per_message\terrors\n' >"$RESULTS"
for server in $SERVERS; do
    start_server "$server"
    run_client "$WARMUP" >/dev/null
    before=$(cpu_ticks "$SERVER_PID")
    read -r messages errors < <(run_client "$DURATION")
    after=$(cpu_ticks "$SERVER_PID")
    stop_server
    rate=$(awk -v m="$messages" -v d="$DURATION" 'BEGIN {printf "%.0f", m / d}')
    cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v m="$messages" 'BEGIN {printf "%.2f", (m > 0 ? t / hz * 1e6 / m : 0)}')
    printf '%s\t%s\t%s\t%s\n' "$server" "$rate" "$cpu" "$errors" >>"$RESULTS"
    log "$server: $rate messages/s, $cpu us server CPU/message, $errors errors"
done
column -t -s $'\t' "$RESULTS"
log "results in $RESULTS"
