#!/usr/bin/env bash
# What observability costs per request: plaintext CPU time of the server process per request, for
# Parley built as without instruments (the same binary with the Parley.Telemetry.IsSupported feature
# switch off in its runtimeconfig.json: every metric and span call site is skipped and folded away by
# the JIT), Parley with no listener, Parley with the OpenTelemetry SDK listening to its meter and activity source
# (every span sampled, metrics aggregated, exporters that discard), and raw Kestrel without and with the
# SDK listening to its meters (Microsoft.AspNetCore.Hosting, Microsoft.AspNetCore.Server.Kestrel) and spans
# (Microsoft.AspNetCore). One bounded run: each configuration warms for $WARMUP s, then wrk (keep-alive,
# $CONNECTIONS connections) runs $DURATION s while the server's utime+stime is read from /proc before and after.
#
#   bench/observability.sh            [ROUNDS=1 WARMUP=3 DURATION=10 CONNECTIONS=16 SERVER_CPU=0 CLIENT_CPU=1]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=${ROUNDS:-1}; WARMUP=${WARMUP:-3}; DURATION=${DURATION:-10}; CONNECTIONS=${CONNECTIONS:-16}
SERVER_CPU=${SERVER_CPU:-0}; CLIENT_CPU=${CLIENT_CPU:-1}
WORK=${WORK:-$(mktemp -d /tmp/parley-otel.XXXXXX)}
CLK_TCK=$(getconf CLK_TCK)
PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

dotnet build "$HERE/apps/ParleyBench/ParleyBench.csproj" -c Release --nologo -v quiet -clp:ErrorsOnly -o "$WORK/parley" >&2
dotnet build "$HERE/apps/KestrelBench/KestrelBench.csproj" -c Release --nologo -v quiet -clp:ErrorsOnly -o "$WORK/kestrel" >&2
# The same Parley build with the feature switch off.
rm -rf "$WORK/parleyoff"; cp -r "$WORK/parley" "$WORK/parleyoff"
python3 - "$WORK/parleyoff/ParleyBench.runtimeconfig.json" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
config["runtimeOptions"].setdefault("configProperties", {})["Parley.Telemetry.IsSupported"] = False
json.dump(config, open(path, "w"), indent=2)
PY

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

measure() { # name app otel
    local name=$1 app=$2 otel=$3
    local exe=ParleyBench; [ "$app" = kestrel ] && exe=KestrelBench
    BENCH_OTEL=$otel DOTNET_gcServer=1 taskset -c "$SERVER_CPU" "$WORK/$app/$exe" "$PORT" >"$WORK/$name.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/plaintext" && break; sleep 0.1; done
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:$PORT/plaintext" >/dev/null
    local before after requests
    before=$(cpu_ticks "$pid")
    requests=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "http://127.0.0.1:$PORT/plaintext" | awk '/requests in/ {print $1}')
    after=$(cpu_ticks "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    awk -v n="$name" -v r="$requests" -v t=$((after - before)) -v hz="$CLK_TCK" -v d="$DURATION" \
        'BEGIN { printf "| %s | %d | %.0f | %.2f |\n", n, r, r / d, t / hz * 1e6 / r }'
}

echo "Machine: $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| configuration | requests | requests/s | server CPU µs/request |"
echo "|---|---|---|---|"
for _ in $(seq 1 "$ROUNDS"); do
    measure parley-no-telemetry parleyoff 0
    measure parley parley 0
    measure parley-otel parley 1
    measure kestrel kestrel 0
    measure kestrel-otel kestrel 1
done
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
