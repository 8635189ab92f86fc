#!/usr/bin/env bash
# TLS benchmark: Parley (both transports) vs raw Kestrel (HTTPS) vs nginx (ssl), each serving the same
# certificate, on one machine. As bench/load.sh: each server pinned to CPU $SERVER_CPU, wrk and the idle tool
# to CPU $CLIENT_CPU; for $ROUNDS rounds every scenario runs on each server in turn (the order rotates), so a
# ratio compares servers measured seconds apart. All traffic goes to 127.0.0.1. Every run is bounded.
#
#   bench/tls.sh                 (2 rounds, 5 s warm-up, 8 s per scenario, 10,000 idle connections: ~10 min)
#
# Scenarios, for each certificate in $CERTS (ecdsa: P-256; rsa: 2048 bits), all TLS 1.3:
#   keepalive  GET /plaintext on 64 keep-alive TLS connections (ecdsa only): req/s and server CPU µs/request
#   full       a new TCP connection and a full handshake per request: $FULL_CLIENTS `openssl s_time -new`
#              processes (a new session each time, nothing resumed), each sending GET /plaintext (HTTP/1.0)
#              and reading the answer: handshakes/s and server CPU µs/handshake
#   resumed    GET /plaintext with "Connection: close" on 16 wrk connections: a new TCP connection per request,
#              but wrk keeps one SSL object per connection slot and SSL_clear keeps its session, so the
#              handshake resumes it (TLS 1.3 PSK): handshakes/s and server CPU µs/handshake
#   idle       (ecdsa only, fresh process) $IDLE_CONNECTIONS TLS connections, one request each, then idle:
#              the server's RSS growth per connection (and for Parley its live managed heap, GET /heap, per
#              connection); $IDLE_IN_FLIGHT connections are being opened at once. Connections the tool could not
#              open are counted by kind, and Parley's handshake timeouts from its error log
#   alloc      (ecdsa only, parley, parley-epoll and parley-nospin) bytes the server process allocates per keep-alive request
#              over TLS: GET /alloc (GC.GetTotalAllocatedBytes) before and after a keep-alive wrk run
#
# Servers: parley (the Socket transport, the library's default), parley-epoll, kestrel, nginx; and parley-nospin,
# kestrel-nospin: the same two .NET servers with the thread pool's spin-wait off
# (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0). On one core an idle pool worker's spinning is sched_yield
# ping-pong that the server's CPU figure counts (docs/benchmarks.md, TLS); the -nospin pair measures both ways in
# one run, and a -nospin row's "vs Kestrel" ratio is against kestrel-nospin. The idle step skips them (the spin
# does not change memory).
#
# Environment: ROUNDS [2]  WARMUP [5]  DURATION [8]
#   SERVERS ["kestrel parley parley-epoll nginx parley-nospin kestrel-nospin"]
#   CERTS ["ecdsa rsa"]  IDLE_CONNECTIONS [10000]  IDLE_IN_FLIGHT [64]  FULL_CLIENTS [4]  SERVER_CPU [0]  CLIENT_CPU [1]
#   WORK [a new /tmp/parley-tls.XXXXXX]  BUILD [1]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-5}
DURATION=${DURATION:-8}
SERVERS=${SERVERS:-"kestrel parley parley-epoll nginx parley-nospin kestrel-nospin"}
CERTS=${CERTS:-"ecdsa rsa"}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
IDLE_IN_FLIGHT=${IDLE_IN_FLIGHT:-64}
FULL_CLIENTS=${FULL_CLIENTS:-4}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BUILD=${BUILD:-1}
WORK=${WORK:-$(mktemp -d /tmp/parley-tls.XXXXXX)}
NGINX=${NGINX:-/usr/sbin/nginx}
CLK_TCK=$(getconf CLK_TCK)
RESULTS="$WORK/results.tsv"

declare -A PORT=([parley]=18091 [kestrel]=18092 [nginx]=18093 [parley-epoll]=18094 [parley-nospin]=18095 [kestrel-nospin]=18096)
declare -A SERVER_PID=() LAUNCH_PID=()
STARTED_PIDS=()

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${STARTED_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_certificates() {
    mkdir -p "$WORK/certs"
    local san="subjectAltName=DNS:localhost,IP:127.0.0.1"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj /CN=localhost -addext "$san" \
        -keyout "$WORK/certs/ecdsa.key" -out "$WORK/certs/ecdsa.pem" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=localhost -addext "$san" \
        -keyout "$WORK/certs/rsa.key" -out "$WORK/certs/rsa.pem" 2>/dev/null
}

build_apps() {
    if [[ "$BUILD" == 1 ]]; then
        for app in ParleyBench KestrelBench; do
            log "building $app"
            dotnet build "$HERE/apps/$app/$app.csproj" -c Release -o "$WORK/bin/$app" --nologo -v quiet -clp:ErrorsOnly >&2
        done
    fi
}

nginx_config() { # cert
    mkdir -p "$WORK/nginx-tmp"
    cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
worker_rlimit_nofile 65536;
user root root;
events { worker_connections 20000; use epoll; }
http {
    access_log off;
    tcp_nodelay on;
    keepalive_timeout 130s;
    keepalive_requests 100000000;
    client_body_temp_path $WORK/nginx-tmp/body;
    proxy_temp_path $WORK/nginx-tmp/proxy;
    fastcgi_temp_path $WORK/nginx-tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx-tmp/uwsgi;
    scgi_temp_path $WORK/nginx-tmp/scgi;
    server {
        listen 127.0.0.1:${PORT[nginx]} ssl backlog=4096;
        ssl_certificate $WORK/certs/$1.pem;
        ssl_certificate_key $WORK/certs/$1.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location = /plaintext { default_type text/plain; return 200 'Hello, World!'; }
    }
}
EOF
}

start_server() { # name cert
    local name=$1 cert=$2 port=${PORT[$1]}
    mkdir -p "$WORK/logs"
    case $name in
        parley|parley-epoll|kestrel|parley-nospin|kestrel-nospin)
            local app=ParleyBench transport=sockets
            local -a runtime=()
            [[ $name == kestrel* ]] && app=KestrelBench
            [[ $name == parley-epoll ]] && transport=epoll
            [[ $name == *-nospin ]] && runtime=(DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0)
            # BENCH_ERROR_LOG: Parley's error log (failed and timed-out handshakes) goes to the server's log file.
            env "${runtime[@]}" BENCH_TLS_CERT="$WORK/certs/$cert.pem" BENCH_TLS_KEY="$WORK/certs/$cert.key" PARLEY_TRANSPORT=$transport BENCH_ERROR_LOG=1 \
                taskset -c "$SERVER_CPU" "$WORK/bin/$app/$app" "$port" >"$WORK/logs/$name-$cert.log" 2>&1 &
            LAUNCH_PID[$name]=$!
            SERVER_PID[$name]=$!
            ;;
        nginx)
            nginx_config "$cert"
            taskset -c "$SERVER_CPU" "$NGINX" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" >"$WORK/logs/nginx-$cert.log" 2>&1 &
            LAUNCH_PID[$name]=$!
            ;;
    esac
    STARTED_PIDS+=("${LAUNCH_PID[$name]}")
    for _ in $(seq 300); do
        curl -skf --max-time 2 "https://127.0.0.1:$port/plaintext" >/dev/null 2>&1 && break
        kill -0 "${LAUNCH_PID[$name]}" 2>/dev/null || die "$name exited: $(tail -5 "$WORK/logs/$name-$cert.log")"
        sleep 0.1
    done
    curl -skf --max-time 2 "https://127.0.0.1:$port/plaintext" >/dev/null || die "$name did not answer on $port"
    # nginx: the worker serves and is measured.
    if [[ $name == nginx ]]; then SERVER_PID[$name]=$(pgrep -P "${LAUNCH_PID[$name]}" | head -1); fi
}

stop_server() { # name
    local pid=${LAUNCH_PID[$1]}
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

cpu_ticks() { local stat; stat=$(<"/proc/$1/stat"); stat=${stat##*) }; awk '{ print $12 + $13 }' <<<"$stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

measure() { # round server cert scenario connections [extra wrk args]
    local round=$1 server=$2 cert=$3 scenario=$4 conns=$5; shift 5
    local pid=${SERVER_PID[$server]} out="$WORK/logs/wrk-$scenario-$cert-$server-$round.txt"
    local before after parsed
    before=$(cpu_ticks "$pid")
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$conns" -d"${DURATION}s" --latency "$@" "https://127.0.0.1:${PORT[$server]}/plaintext" >"$out" 2>&1 || true
    after=$(cpu_ticks "$pid")
    parsed=$(awk -f "$HERE/load/parse_wrk.awk" "$out")
    read -r requests seconds rps p99 errors <<<"$parsed"
    local us="nan"
    (( requests > 0 )) && us=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$cert" "$server" "$round" "$rps" "$us" "$p99" "$errors" >>"$RESULTS"
    log "  $scenario/$cert $server: $rps req/s, $us µs CPU/req, p99 $p99 ms, errors $errors"
}

measure_full() { # round server cert
    local round=$1 server=$2 cert=$3 pid=${SERVER_PID[$2]} before after k
    local -a clients=()
    before=$(cpu_ticks "$pid")
    for ((k = 1; k <= FULL_CLIENTS; k++)); do
        taskset -c "$CLIENT_CPU" timeout $((DURATION + 20)) openssl s_time -connect "127.0.0.1:${PORT[$server]}" -new -time "$DURATION" \
            -www /plaintext >"$WORK/logs/s_time-$cert-$server-$round-$k.txt" 2>&1 &
        clients+=($!)
    done
    wait "${clients[@]}" || true
    after=$(cpu_ticks "$pid")
    # "N connections in T real seconds, B bytes read per connection"
    local handshakes; handshakes=$(cat "$WORK/logs/s_time-$cert-$server-$round-"*.txt | awk '/connections in [0-9.]+ real seconds/ { n += $1 } END { print n + 0 }')
    # Each client's count over its own real seconds, summed.
    local rate us="nan"
    rate=$(cat "$WORK/logs/s_time-$cert-$server-$round-"*.txt | awk '/connections in [0-9.]+ real seconds/ { r += $1 / $4 } END { printf "%.1f", r }')
    (( handshakes > 0 )) && us=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$handshakes" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' full "$cert" "$server" "$round" "$rate" "$us" nan 0 >>"$RESULTS"
    log "  full/$cert $server: $rate handshakes/s, $us µs CPU/handshake"
}

rotate() { # round -> the servers, rotated by round
    local -a list=($SERVERS); local n=${#list[@]} i
    for ((i = 0; i < n; i++)); do printf '%s ' "${list[$(((i + $1) % n))]}"; done
}

run_idle() { # server
    local server=$1 pid before after open per heap_before="" heap_after="" heap_per=nan
    start_server "$server" ecdsa
    pid=${SERVER_PID[$server]}
    taskset -c "$CLIENT_CPU" wrk -t1 -c16 -d2s "https://127.0.0.1:${PORT[$server]}/plaintext" >/dev/null 2>&1 || true
    sleep 1
    [[ $server == parley* ]] && heap_before=$(curl -sk --max-time 30 "https://127.0.0.1:${PORT[$server]}/heap")
    before=$(rss_kib "$pid")
    coproc IDLE { taskset -c "$CLIENT_CPU" python3 "$HERE/load/idle_connections.py" --tls --port "${PORT[$server]}" --count "$IDLE_CONNECTIONS" \
        --in-flight "$IDLE_IN_FLIGHT" --hold 120 2>"$WORK/logs/idle-$server.err"; }
    local line=""
    # Bounded: at most $IDLE_IN_FLIGHT connects in flight, each with the tool's 20 s timeout.
    read -r -t 600 line <&"${IDLE[0]}" || true
    if [[ $line != READY* ]]; then
        kill "$IDLE_PID" 2>/dev/null || true
        log "  idle $server: the idle tool did not report ('$line')"
        stop_server "$server"
        return
    fi
    open=${line#READY }
    sleep 2
    after=$(rss_kib "$pid")
    # After the RSS: GET /heap forces a full collection (one more connection, a moment, no lasting memory).
    if [[ -n $heap_before ]]; then
        heap_after=$(curl -sk --max-time 30 "https://127.0.0.1:${PORT[$server]}/heap")
        heap_per=$(awk -v a="$heap_after" -v b="$heap_before" -v n="$open" 'BEGIN { printf "%.0f", (a - b) / n }')
    fi
    kill "$IDLE_PID" 2>/dev/null || true
    wait "$IDLE_PID" 2>/dev/null || true
    per=$(awk -v a="$after" -v b="$before" -v n="$open" 'BEGIN { printf "%.2f", (a - b) / n }')
    local failures timeouts=0
    failures=$(cat "$WORK/logs/idle-$server.err" 2>/dev/null | tr '\n' ' ')
    [[ $server == parley* ]] && timeouts=$(grep -c 'did not finish within' "$WORK/logs/$server-ecdsa.log" || true)
    printf 'idle\tecdsa\t%s\t1\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$open" "$per" "$before" "$after" "$heap_per" "$timeouts" >>"$RESULTS"
    log "  idle $server: $open of $IDLE_CONNECTIONS TLS connections open, RSS $before -> $after KiB, $per KiB each; managed heap $heap_per B each; handshake timeouts $timeouts ${failures:+; tool: $failures}"
    stop_server "$server"
}

run_alloc() { # server (a parley one, started with ecdsa)
    local server=$1 port=${PORT[$1]} before after out
    before=$(curl -sk "https://127.0.0.1:$port/alloc")
    out="$WORK/logs/wrk-alloc-$server.txt"
    # -c64 keep-alive connections, a fixed count of requests: wrk stops at the duration, so count what it sent.
    taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d"${DURATION}s" "https://127.0.0.1:$port/plaintext" >"$out" 2>&1 || true
    after=$(curl -sk "https://127.0.0.1:$port/alloc")
    local requests; requests=$(awk -f "$HERE/load/parse_wrk.awk" "$out" | cut -d' ' -f1)
    # Two /alloc requests and the 64 handshakes are in the difference too: an upper bound per request.
    local per; per=$(awk -v a="$after" -v b="$before" -v n="$requests" 'BEGIN { printf "%.4f", (a - b) / n }')
    printf 'alloc\tecdsa\t%s\t1\t%s\t%s\t%s\t%s\n' "$server" "$requests" "$per" "$before" "$after" >>"$RESULTS"
    log "  alloc $server: $((after - before)) bytes over $requests keep-alive TLS requests (64 handshakes included): $per B/request"
}

main() {
    for tool in wrk taskset curl openssl python3 dotnet "$NGINX"; do command -v "$tool" >/dev/null || die "$tool not found"; done
    log "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r), $(openssl version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    log "work: $WORK"
    : >"$RESULTS"
    make_certificates
    build_apps
    for cert in $CERTS; do
        for server in $SERVERS; do start_server "$server" "$cert"; done
        log "warm-up ($cert)"
        for server in $SERVERS; do
            taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d"${WARMUP}s" "https://127.0.0.1:${PORT[$server]}/plaintext" >/dev/null 2>&1 || true
            taskset -c "$CLIENT_CPU" wrk -t1 -c16 -d"${WARMUP}s" -H 'Connection: close' "https://127.0.0.1:${PORT[$server]}/plaintext" >/dev/null 2>&1 || true
        done
        for ((round = 1; round <= ROUNDS; round++)); do
            log "round $round ($cert)"
            for server in $(rotate "$round"); do
                [[ $cert == ecdsa ]] && measure "$round" "$server" "$cert" keepalive 64
                measure "$round" "$server" "$cert" resumed 16 -H 'Connection: close'
                measure_full "$round" "$server" "$cert"
            done
        done
        if [[ $cert == ecdsa ]]; then
            for server in parley parley-epoll parley-nospin; do [[ " $SERVERS " == *" $server "* ]] && run_alloc "$server"; done
        fi
        for server in $SERVERS; do stop_server "$server"; done
    done
    if [[ " $CERTS " == *" ecdsa "* && "$IDLE_CONNECTIONS" -gt 0 ]]; then
        log "idle connections (fresh processes)"
        for server in $SERVERS; do [[ $server == *-nospin ]] || run_idle "$server"; done
    fi
    log "done; load average $(cut -d' ' -f1-3 /proc/loadavg)"
    python3 - "$RESULTS" <<'EOF'
import statistics, sys
from collections import defaultdict
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs = defaultdict(list)
for r in rows:
    if r[0] in ("keepalive", "resumed", "full"):
        runs[(r[0], r[1], r[2])].append((float(r[4]), float(r[5]) if r[5] != "nan" else float("nan"), int(r[7])))
servers = {r[2] for r in rows}
def peer(server, base):
    # Like with like: a -nospin row against the -nospin Kestrel when the run has one.
    return base + "-nospin" if server.endswith("-nospin") and base + "-nospin" in servers else base
def ratio(scenario, cert, server, base, index):
    base = peer(server, base)
    mine = {int(r[3]): r for r in rows if r[:3] == [scenario, cert, server]}
    theirs = {int(r[3]): r for r in rows if r[:3] == [scenario, cert, base]}
    values = [float(mine[k][index]) / float(theirs[k][index]) for k in mine if k in theirs and float(theirs[k][index]) > 0]
    return f"{statistics.median(values):.2f}x" if values else "—"
print("| scenario | cert | server | rounds | req/s | vs Kestrel | vs nginx | server CPU µs/req | vs Kestrel | vs nginx | errors |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for (scenario, cert, server), values in runs.items():
    print(f"| {scenario} | {cert} | {server} | {len(values)} | {statistics.median(v[0] for v in values):,.0f} | "
          f"{ratio(scenario, cert, server, 'kestrel', 4)} | {ratio(scenario, cert, server, 'nginx', 4)} | "
          f"{statistics.median(v[1] for v in values):.1f} | {ratio(scenario, cert, server, 'kestrel', 5)} | "
          f"{ratio(scenario, cert, server, 'nginx', 5)} | {sum(v[2] for v in values)} |")
print()
print("| measure | server | value | detail |")
print("|---|---|---|---|")
for r in rows:
    if r[0] == "idle":
        managed = f"; live managed heap {r[8]} B each" if len(r) > 8 and r[8] != "nan" else ""
        timeouts = f"; {r[9]} handshakes timed out" if len(r) > 9 and r[9] not in ("", "0") else ""
        print(f"| RSS per idle TLS connection (KiB) | {r[2]} | {float(r[5]):.2f} | {int(r[4]):,} open; RSS {int(r[6]):,} -> {int(r[7]):,} KiB{managed}{timeouts} |")
    if r[0] == "alloc":
        print(f"| bytes allocated per keep-alive TLS request | {r[2]} | {float(r[5]):.4f} | {int(r[7]) - int(r[6]):,} B over {int(r[4]):,} requests, 64 handshakes and 2 /alloc requests included |")
EOF
}

main "$@"
