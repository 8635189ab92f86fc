#!/usr/bin/env bash
# Load benchmark: Parley against raw Kestrel and nginx, side by side, on one machine.
#
# Each server runs pinned to CPU $SERVER_CPU (default 0); wrk and the idle-connection tool run pinned to
# CPU $CLIENT_CPU (default 1). All servers are started once and each is warmed with mixed load; then, for
# $ROUNDS rounds, every scenario is measured on each server in turn (the order rotates each round), so
# the servers of one scenario are measured seconds apart and drift hits them alike. The table shows
# medians over rounds and each server's ratio to raw Kestrel, the median of the ratios within a round.
# Idle connections are measured last, on a fresh process of each server. All traffic goes to 127.0.0.1.
#
#   bench/load.sh                     full run (3 rounds, 30 s warm-up, 15 s per scenario: ~22 min)
#   QUICK=1 bench/load.sh             smoke run (1 round, 5 s warm-up, 5 s per scenario: ~4 min)
#
# Environment (defaults in brackets; QUICK=1 changes the first three):
#   ROUNDS [3]  WARMUP seconds [30]  DURATION seconds per scenario [15]
#   SERVERS ["kestrel parley parley-epoll nginx ceiling"] (parley-epoll: the same app on TransportKind.Epoll;
#   ceiling: bench/load/ceiling.c, a C epoll responder that does no HTTP work, plaintext and pipelined only)
#   SCENARIOS ["plaintext pipelined json close file idle alloc"]
#   IDLE_CONNECTIONS [10000]  IDLE_WARMUP seconds of plaintext on the fresh process first [2]
#   IDLE_PREOPEN [1000]: then that many connections opened and closed, twice, 2 s apart, so the runtime
#   has compiled the connection paths at their last tier before the RSS is read (0 skips it)
#   ALLOC_REQUESTS [1000000]  PIPELINE_DEPTH [16]
#   GC [server] (server|workstation, for both .NET apps; pinned to one CPU the runtime falls back to
#   workstation GC either way, and each app logs which GC it runs)  BUILD [1] (0 reuses $WORK/bin)
#   SERVER_CPU [0]  CLIENT_CPU [1]  WORK [a new /tmp/parley-load.XXXXXX]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

if [[ "${QUICK:-0}" == 1 ]]; then
    : "${ROUNDS:=1}" "${WARMUP:=5}" "${DURATION:=5}"
fi
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-30}
DURATION=${DURATION:-15}
SERVERS=${SERVERS:-"kestrel parley parley-epoll nginx ceiling"}
SCENARIOS=${SCENARIOS:-"plaintext pipelined json close file idle alloc"}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
ALLOC_REQUESTS=${ALLOC_REQUESTS:-1000000}
PIPELINE_DEPTH=${PIPELINE_DEPTH:-16}
IDLE_WARMUP=${IDLE_WARMUP:-2}
IDLE_PREOPEN=${IDLE_PREOPEN:-1000}
GC=${GC:-server}
BUILD=${BUILD:-1}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
WORK=${WORK:-$(mktemp -d /tmp/parley-load.XXXXXX)}
RESULTS="$WORK/results.tsv"
CLK_TCK=$(getconf CLK_TCK)
NGINX=${NGINX:-/usr/sbin/nginx}

declare -A PORT=([parley]=18081 [kestrel]=18082 [nginx]=18083 [parley-epoll]=18084 [ceiling]=18085)

STARTED_PIDS=()
declare -A SERVER_PID=()   # per server: the process whose CPU and memory are measured (nginx: the worker)
declare -A LAUNCH_PID=()   # per server: the process we started and stop (nginx: the master)

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for pid in "${STARTED_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
    local keep=() pid
    for pid in "${STARTED_PIDS[@]}"; do [[ "$pid" == "$1" ]] || keep+=("$pid"); done
    STARTED_PIDS=("${keep[@]}")
}

# ---------------------------------------------------------------------------------------------- setup

check_tools() {
    local tool missing=()
    # wrk and nginx come from Debian; install them when missing and we may (the machines are set up anew).
    command -v wrk >/dev/null || missing+=(wrk)
    if [[ " $SERVERS " == *" nginx "* && ! -x "$NGINX" ]]; then missing+=(nginx); fi
    command -v curl >/dev/null || missing+=(curl)
    if [[ " $SERVERS " == *" ceiling "* ]]; then command -v gcc >/dev/null || missing+=(gcc); fi
    if (( ${#missing[@]} )) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing ${missing[*]} with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$WORK/apt.log" 2>&1 \
            || { apt-get update -q >>"$WORK/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$WORK/apt.log" 2>&1; } \
            || log "warning: apt-get install ${missing[*]} failed (see $WORK/apt.log)"
    fi
    for tool in wrk taskset curl python3 dotnet; do
        command -v "$tool" >/dev/null || die "$tool not found (apt-get install wrk curl python3; .NET 10 SDK)"
    done
    if [[ " $SERVERS " == *" nginx "* ]]; then [[ -x "$NGINX" ]] || die "nginx not found at $NGINX (apt-get install nginx)"; fi
    if [[ " $SERVERS " == *" ceiling "* ]]; then command -v gcc >/dev/null || die "gcc not found (apt-get install gcc), needed for the ceiling server"; fi
    # 10,000 idle connections need more than 10,000 descriptors on each side.
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    (( $(ulimit -n) > IDLE_CONNECTIONS + 100 )) || log "warning: ulimit -n is $(ulimit -n); the idle test needs more than $IDLE_CONNECTIONS"
}

build_apps() {
    mkdir -p "$WORK/bin"
    if [[ "$BUILD" != 1 ]]; then return; fi
    if [[ " $SERVERS " == *" ceiling "* ]]; then
        gcc -O2 -o "$WORK/bin/ceiling" "$HERE/load/ceiling.c" || die "build of the ceiling server failed"
    fi
    local app
    for app in parley kestrel; do
        [[ " $SERVERS " == *" $app "* || ( $app == parley && " $SERVERS " == *" parley-epoll "* ) ]] || continue
        local project; project="$ROOT/bench/apps/$([[ $app == parley ]] && echo ParleyBench || echo KestrelBench)"
        log "building $app (Release) from $project"
        dotnet publish -c Release "$project" -o "$WORK/bin/$app" --nologo -v quiet >"$WORK/build-$app.log" 2>&1 \
            || { cat "$WORK/build-$app.log" >&2; die "build of $app failed"; }
    done
}

prepare_content() {
    mkdir -p "$WORK/www" "$WORK/nginx-tmp" "$WORK/logs"
    # The same bytes for every server: the .NET apps reuse this file (BENCH_DATA_DIR) instead of writing their own.
    [[ -f "$WORK/www/file.bin" ]] || head -c 1048576 /dev/urandom >"$WORK/www/file.bin"
    printf '%s' '{"message":"Hello, World!"}' >"$WORK/www/message.json"
    chmod -R a+rX "$WORK/www"
    sed -e "s|@WORK@|$WORK|g" -e "s|@WWW@|$WORK/www|g" -e "s|@PORT@|${PORT[nginx]}|g" \
        "$HERE/load/nginx.conf.template" >"$WORK/nginx.conf"
}

# ------------------------------------------------------------------------------------ server control

wait_ready() { # url
    local i
    for i in $(seq 150); do
        if curl -s -o /dev/null --max-time 1 "$1"; then return 0; fi
        sleep 0.2
    done
    return 1
}

start_server() { # name
    local name=$1 port=${PORT[$1]} gc_flag=1
    [[ "$GC" == workstation ]] && gc_flag=0
    case "$name" in
        parley|parley-epoll|kestrel)
            local exe="$WORK/bin/$([[ $name == kestrel ]] && echo kestrel/KestrelBench || echo parley/ParleyBench)"
            local transport=sockets; [[ $name == parley-epoll ]] && transport=epoll
            PARLEY_TRANSPORT=$transport BENCH_DATA_DIR="$WORK/www" DOTNET_gcServer=$gc_flag \
                taskset -c "$SERVER_CPU" "$exe" "$port" >"$WORK/logs/$name.log" 2>&1 &
            LAUNCH_PID[$name]=$!
            SERVER_PID[$name]=$!
            STARTED_PIDS+=("$!")
            ;;
        ceiling)
            taskset -c "$SERVER_CPU" "$WORK/bin/ceiling" "$port" >"$WORK/logs/$name.log" 2>&1 &
            LAUNCH_PID[$name]=$!
            SERVER_PID[$name]=$!
            STARTED_PIDS+=("$!")
            ;;
        nginx)
            rm -f "$WORK/nginx.pid"
            taskset -c "$SERVER_CPU" "$NGINX" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" >"$WORK/logs/nginx.log" 2>&1 &
            LAUNCH_PID[$name]=$!
            STARTED_PIDS+=("$!")
            local i worker=""
            for i in $(seq 100); do
                worker=$(pgrep -P "${LAUNCH_PID[$name]}" | head -n 1 || true)
                [[ -n "$worker" ]] && break
                sleep 0.1
            done
            [[ -n "$worker" ]] || die "nginx worker did not start (see $WORK/nginx-error.log)"
            SERVER_PID[$name]=$worker
            ;;
        *) die "unknown server $name" ;;
    esac
    wait_ready "http://127.0.0.1:$port/plaintext" || { cat "$WORK/logs/$name.log" >&2; die "$name did not answer on port $port"; }
    # The .NET apps print which GC they really run: pinned to one CPU, the runtime uses workstation GC
    # even when server GC is asked for.
    [[ "$name" == nginx || "$name" == ceiling ]] || log " $(head -n 1 "$WORK/logs/$name.log")"
}

stop_server() { # name
    local pid=${LAUNCH_PID[$1]}
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
    unset "LAUNCH_PID[$1]" "SERVER_PID[$1]"
}

cpu_ticks() { # pid -> utime + stime of the whole process, in clock ticks (/proc/PID/stat fields 14, 15)
    local stat
    stat=$(<"/proc/$1/stat")
    stat=${stat##*) }
    awk '{ print $12 + $13 }' <<<"$stat"
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------------------------------------- load

# Runs wrk (arguments as given) pinned to the client CPU, measuring the server's CPU time around it.
# Prints "requests seconds rps p99_ms errors cpu_us_per_request".
measure_wrk() { # server output-file duration wrk-args...
    local pid=${SERVER_PID[$1]} out=$2 duration=$3
    shift 3
    local before after
    before=$(cpu_ticks "$pid")
    timeout $((duration + 60)) taskset -c "$CLIENT_CPU" wrk -t1 -d"${duration}s" --latency "$@" >"$out" 2>&1 || true
    after=$(cpu_ticks "$pid")
    local parsed; parsed=$(awk -f "$HERE/load/parse_wrk.awk" "$out")
    local requests=${parsed%% *}
    local cpu_us=nan
    if (( requests > 0 )); then
        cpu_us=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.3f", t / hz * 1e6 / n }')
    fi
    echo "$parsed $cpu_us"
}

run_wrk_scenario() { # round server scenario duration [record]
    local round=$1 server=$2 scenario=$3 duration=$4 record=${5:-1}
    # The ceiling answers every request with the plaintext response: it stands for nothing else.
    [[ "$server" != ceiling || "$scenario" == plaintext || "$scenario" == pipelined ]] || return 0
    local base="http://127.0.0.1:${PORT[$server]}"
    local args
    case "$scenario" in
        plaintext) args=(-c64 "$base/plaintext") ;;
        pipelined) args=(-c64 -s "$HERE/load/pipeline.lua" "$base/plaintext" -- "$PIPELINE_DEPTH") ;;
        json) args=(-c64 "$base/json") ;;
        close) args=(-c16 -H "Connection: close" "$base/plaintext") ;;
        file) args=(-c16 "$base/file") ;;
        *) die "unknown wrk scenario $scenario" ;;
    esac
    local out="$WORK/logs/wrk-r$round-$server-$scenario$([[ $record == 1 ]] || echo -warmup).txt"
    local result; result=$(measure_wrk "$server" "$out" "$duration" "${args[@]}")
    [[ "$record" == 1 ]] || return 0
    local requests seconds rps p99 errors cpu_us mib=nan
    read -r requests seconds rps p99 errors cpu_us <<<"$result"
    if [[ "$scenario" == file ]]; then
        mib=$(awk -v n="$requests" -v s="$seconds" 'BEGIN { if (s > 0) printf "%.1f", n / s; else print "nan" }')
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\tnan\tnan\t%s\t%s\n' "$round" "$server" "$scenario" "$rps" "$p99" "$cpu_us" "$mib" "$requests" "$errors" >>"$RESULTS"
    log "  $server $scenario: $rps req/s, p99 $p99 ms, $cpu_us µs CPU/req, errors $errors$([[ $scenario == file ]] && echo ", $mib MiB/s")"
}

warm_up() { # round server
    (( WARMUP > 0 )) || return 0
    local each=$(( WARMUP / 5 )) scenario
    (( each >= 1 )) || each=1
    log " warming $2 for ~$((each * 5)) s (plaintext, pipelined, json, close, file)"
    for scenario in plaintext pipelined json close file; do
        run_wrk_scenario "$1" "$2" "$scenario" "$each" 0
    done
}

# Opens and closes IDLE_PREOPEN connections twice, 2 s apart, then waits 2 s. A burst of new connections
# runs code the plaintext warm-up's 64 connections ran a few dozen times only; the .NET runtime compiles
# it again at its last tier in the background (its tiering delay is longer on one CPU), and the compiler's
# memory (a malloc arena of ~4 MB, code pages) then landed in the idle test's RSS in some rounds and not in
# others (0.9 or 1.4-1.6 KiB per connection; none of that with DOTNET_TieredCompilation=0).
idle_preopen() { # server
    local port=${PORT[$1]} pass
    (( IDLE_PREOPEN > 0 )) || return 0
    for pass in 1 2; do
        timeout 60 taskset -c "$CLIENT_CPU" python3 "$HERE/load/idle_connections.py" --port "$port" --count "$IDLE_PREOPEN" --hold 0 >/dev/null 2>&1 || true
        sleep 2
    done
}

run_idle() { # round server
    local round=$1 server=$2 port=${PORT[$2]}
    local out="$WORK/logs/idle-r$round-$server.txt"
    local before after open=0 tool i
    before=$(rss_kib "${SERVER_PID[$server]}")
    taskset -c "$CLIENT_CPU" python3 "$HERE/load/idle_connections.py" --port "$port" --count "$IDLE_CONNECTIONS" --hold 120 >"$out" 2>&1 &
    tool=$!
    STARTED_PIDS+=("$tool")
    for i in $(seq 600); do
        if grep -q '^READY' "$out"; then break; fi
        kill -0 "$tool" 2>/dev/null || break
        sleep 0.1
    done
    if grep -q '^READY' "$out"; then
        open=$(awk '/^READY/ { print $2 }' "$out")
        sleep 1  # let the server settle after the last response
        after=$(rss_kib "${SERVER_PID[$server]}")
    fi
    kill -TERM "$tool" 2>/dev/null || true
    wait "$tool" 2>/dev/null || true
    forget_pid "$tool"
    if (( open == 0 )); then
        log "  $server idle: the tool did not get its connections open (see $out)"
        printf '%s\t%s\tidle\tnan\tnan\tnan\tnan\tnan\tnan\t0\t%s\n' "$round" "$server" "$IDLE_CONNECTIONS" >>"$RESULTS"
        return
    fi
    local per; per=$(awk -v a="$after" -v b="$before" -v n="$open" 'BEGIN { printf "%.3f", (a - b) / n }')
    printf '%s\t%s\tidle\tnan\tnan\tnan\tnan\t%s\tnan\t%s\t%s\n' "$round" "$server" "$per" "$open" $((IDLE_CONNECTIONS - open)) >>"$RESULTS"
    log "  $server idle: $open connections, RSS $before -> $after KiB, $per KiB each"
    sleep 2  # the server closes the 10,000 sockets
}

# Bytes the server allocated per request over one wrk run of at least ALLOC_REQUESTS plaintext requests.
run_alloc() { # round server
    local round=$1 server=$2 port=${PORT[$2]}
    [[ "$server" != nginx && "$server" != ceiling ]] || return 0
    # Size one run from the plaintext rate measured this round (or a guess), bounded to 5..180 s.
    local rate duration
    rate=$(awk -F'\t' -v r="$round" -v s="$server" '$1 == r && $2 == s && $3 == "plaintext" { print int($4) }' "$RESULTS" | tail -n 1)
    [[ -n "$rate" && "$rate" -gt 0 ]] || rate=50000
    duration=$(( (ALLOC_REQUESTS * 13 / 10) / rate + 2 ))
    (( duration < 5 )) && duration=5
    (( duration > 180 )) && duration=180
    local a0 a1 out="$WORK/logs/wrk-r$round-$server-alloc.txt"
    a0=$(curl -s --max-time 5 "http://127.0.0.1:$port/alloc")
    timeout $((duration + 60)) taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d"${duration}s" "http://127.0.0.1:$port/plaintext" >"$out" 2>&1 || true
    a1=$(curl -s --max-time 5 "http://127.0.0.1:$port/alloc")
    local parsed requests errors
    parsed=$(awk -f "$HERE/load/parse_wrk.awk" "$out")
    read -r requests _ _ _ errors <<<"$parsed"
    local per=nan
    if [[ "$a0" =~ ^[0-9]+$ && "$a1" =~ ^[0-9]+$ ]] && (( requests > 0 )); then
        per=$(awk -v a="$a1" -v b="$a0" -v n="$requests" 'BEGIN { printf "%.3f", (a - b) / n }')
    fi
    printf '%s\t%s\talloc\tnan\tnan\tnan\tnan\tnan\t%s\t%s\t%s\n' "$round" "$server" "$per" "$requests" "$errors" >>"$RESULTS"
    log "  $server alloc: $requests requests, $per bytes allocated per request$( (( requests < ALLOC_REQUESTS )) && echo " (fewer than $ALLOC_REQUESTS)")"
}

# ---------------------------------------------------------------------------------------------- main

main() {
    check_tools
    log "work folder: $WORK"
    log "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r), .NET $(dotnet --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    log "rounds $ROUNDS, warm-up $WARMUP s, $DURATION s per scenario, servers: $SERVERS, scenarios: $SCENARIOS, GC: $GC"
    build_apps
    prepare_content
    printf 'round\tserver\tscenario\trps\tp99_ms\tcpu_us\tmib_s\tkib_conn\tbytes_req\trequests\terrors\n' >"$RESULTS"

    local servers=($SERVERS) round i n=${#servers[@]} server scenario
    local load_scenarios=() want_idle=0
    for scenario in $SCENARIOS; do
        case "$scenario" in
            plaintext|pipelined|json|close|file|alloc) load_scenarios+=("$scenario") ;;
            idle) want_idle=1 ;;
            *) die "unknown scenario $scenario" ;;
        esac
    done

    # Every server runs for the whole load phase (an idle one costs the others nothing: no timers worth
    # measuring, no threads spinning), so each scenario measures the servers back to back, seconds apart,
    # round after round, and drift on this shared machine hits them alike.
    if (( ${#load_scenarios[@]} )); then
        for server in "${servers[@]}"; do
            log "starting $server"
            start_server "$server"
            warm_up 0 "$server"
        done
        for round in $(seq "$ROUNDS"); do
            for scenario in "${load_scenarios[@]}"; do
                log "round $round/$ROUNDS: $scenario"
                for i in $(seq 0 $((n - 1))); do
                    server=${servers[$(( (i + round - 1) % n ))]}
                    case "$scenario" in
                        alloc) run_alloc "$round" "$server" ;;
                        *) run_wrk_scenario "$round" "$server" "$scenario" "$DURATION" ;;
                    esac
                done
            done
        done
        for server in "${servers[@]}"; do stop_server "$server"; done
    fi

    # Idle connections on a fresh process each time: after minutes of load every server's heap and pools
    # are resident, and new connections then fit in pages already counted, which hides their cost.
    if (( want_idle )); then
        for round in $(seq "$ROUNDS"); do
            for i in $(seq 0 $((n - 1))); do
                server=${servers[$(( (i + round - 1) % n ))]}
                [[ "$server" != ceiling ]] || continue
                log "round $round/$ROUNDS: idle, $server on a fresh process"
                start_server "$server"
                run_wrk_scenario "$round" "$server" plaintext "$IDLE_WARMUP" 0
                idle_preopen "$server"
                sleep 1
                run_idle "$round" "$server"
                stop_server "$server"
            done
        done
    fi

    echo
    echo "Load benchmark, $(date -u +%Y-%m-%dT%H:%MZ): medians of $ROUNDS round(s); server on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU;"
    echo "warm-up $WARMUP s per start, $DURATION s per scenario, GC $GC; load average at end $(cut -d' ' -f1-3 /proc/loadavg). Raw data: $RESULTS"
    echo
    python3 "$HERE/load/report.py" table "$RESULTS"
}

main "$@"
