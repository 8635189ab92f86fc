#!/usr/bin/env bash
# Static files over keep-alive: Parley (`parley serve DIR`) against nginx (sendfile on, one worker,
# access log off) and Kestrel (UseStaticFiles), on a 1 MiB and a 4 KiB file. Each server is pinned to
# CPU 0 and wrk to CPU 1. Prints req/s and MiB/s per case, and Parley's ratio to each peer.
#
#   bench/static/run.sh                 # 3 interleaved rounds of 10 s per case; medians
#   ROUNDS=1 DURATION=5 CONNECTIONS=64 bench/static/run.sh
set -euo pipefail

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d /tmp/parley-bench-static.XXXXXX)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1 || { echo "run.sh: $1 is missing (apt-get install $2)" >&2; exit 1; }; }
need wrk wrk; need nginx nginx; need taskset util-linux; need curl curl

mkdir -p "$WORK/www"
head -c $((1024 * 1024)) /dev/urandom > "$WORK/www/1m.bin"
head -c 4096 /dev/urandom > "$WORK/www/4k.bin"
chmod 755 "$WORK" "$WORK/www" && chmod 644 "$WORK"/www/*  # nginx workers may run as an unprivileged user

echo "building Parley and the Kestrel peer (Release)..." >&2
dotnet build -c Release "$REPO/src/Parley.Cli" -v q -nologo >/dev/null
dotnet build -c Release "$HERE/KestrelStatic" -o "$WORK/kestrel" -v q -nologo >/dev/null

PARLEY_PORT=18081 NGINX_PORT=18082 KESTREL_PORT=18083 EPOLL_PORT=18084

cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  default_type application/octet-stream;
  client_body_temp_path $WORK/nginx-body;
  proxy_temp_path $WORK/nginx-proxy;
  fastcgi_temp_path $WORK/nginx-fastcgi;
  uwsgi_temp_path $WORK/nginx-uwsgi;
  scgi_temp_path $WORK/nginx-scgi;
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; }
}
CONF

wait_port() {
  for _ in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$1/4k.bin" && return 0; sleep 0.2; done
  echo "run.sh: nothing answers on port $1" >&2; exit 1
}

taskset -c "$SERVER_CPU" dotnet "$REPO/src/Parley.Cli/bin/Release/net10.0/Parley.Cli.dll" serve "$WORK/www" \
  --port $PARLEY_PORT --quiet --no-security-headers --transport Sockets > "$WORK/parley.log" 2>&1 & PIDS+=($!)
taskset -c "$SERVER_CPU" dotnet "$REPO/src/Parley.Cli/bin/Release/net10.0/Parley.Cli.dll" serve "$WORK/www" \
  --port $EPOLL_PORT --quiet --no-security-headers --transport Epoll > "$WORK/parley-epoll.log" 2>&1 & PIDS+=($!)
taskset -c "$SERVER_CPU" nginx -c "$WORK/nginx.conf" -p "$WORK" > "$WORK/nginx.log" 2>&1 & PIDS+=($!)
DOTNET_gcServer=0 taskset -c "$SERVER_CPU" dotnet "$WORK/kestrel/KestrelStatic.dll" "$WORK/www" $KESTREL_PORT > "$WORK/kestrel.log" 2>&1 & PIDS+=($!)
wait_port $PARLEY_PORT; wait_port $EPOLL_PORT; wait_port $NGINX_PORT; wait_port $KESTREL_PORT

# Every server must send the same bytes before it is timed.
for port in $PARLEY_PORT $EPOLL_PORT $NGINX_PORT $KESTREL_PORT; do
  for f in 1m.bin 4k.bin; do
    curl -s "http://127.0.0.1:$port/$f" | cmp -s - "$WORK/www/$f" || { echo "run.sh: port $port sent a different $f" >&2; exit 1; }
  done
done

# wrk prints "Transfer/sec: 1.23GB" with binary units; convert to MiB/s.
to_mib() { awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
  f = (u == "GB") ? 1024 : (u == "MB") ? 1 : (u == "KB") ? 1 / 1024 : 1 / 1048576; printf "%.1f", n * f }'; }

declare -A RPS MIBS
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
run_case() { # name port file
  local url="http://127.0.0.1:$2/$3"
  local out; out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$url")
  local errors; errors=$(echo "$out" | grep -E "Non-2xx|Socket errors" || true)
  [ -n "$errors" ] && echo "  $1 $3: $errors" >&2
  RPS[$1,$3]+=" $(echo "$out" | awk '/^Requests\/sec:/ { printf "%.0f", $2 }')"
  MIBS[$1,$3]+=" $(to_mib "$(echo "$out" | awk '/^Transfer\/sec:/ { print $2 }')")"
}

SERVERS=(parley:$PARLEY_PORT parley-epoll:$EPOLL_PORT nginx:$NGINX_PORT kestrel:$KESTREL_PORT)
echo "keep-alive, $CONNECTIONS connections, $ROUNDS interleaved rounds of ${DURATION}s per case (after ${WARMUP}s warm-up per server and file); servers on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU"
for file in 1m.bin 4k.bin; do
  for server in "${SERVERS[@]}"; do
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:${server##*:}/$file" > /dev/null
  done
done
for round in $(seq 1 "$ROUNDS"); do
  # The order rotates every round, so drift on the machine hits every server alike.
  n=${#SERVERS[@]}
  for file in 1m.bin 4k.bin; do
    for i in $(seq 0 $((n - 1))); do
      server=${SERVERS[$(((i + round - 1) % n))]}
      run_case "${server%%:*}" "${server##*:}" "$file"
    done
  done
  echo "round $round done" >&2
done
for key in "${!RPS[@]}"; do
  echo "$key req/s:${RPS[$key]}  MiB/s:${MIBS[$key]}" >&2
  RPS[$key]=$(echo "${RPS[$key]}" | median)
  MIBS[$key]=$(echo "${MIBS[$key]}" | median)
done

printf "\n%-8s %-12s %12s %10s\n" file server "req/s" "MiB/s"
for file in 1m.bin 4k.bin; do
  for server in parley parley-epoll nginx kestrel; do
    printf "%-8s %-12s %12s %10s\n" "$file" "$server" "${RPS[$server,$file]}" "${MIBS[$server,$file]}"
  done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "1m.bin  parley/nginx   $(ratio "${MIBS[parley,1m.bin]}" "${MIBS[nginx,1m.bin]}")  (target >= 1.00, MiB/s)"
echo "1m.bin  parley/kestrel $(ratio "${MIBS[parley,1m.bin]}" "${MIBS[kestrel,1m.bin]}")"
echo "4k.bin  parley/nginx   $(ratio "${RPS[parley,4k.bin]}" "${RPS[nginx,4k.bin]}")"
echo "4k.bin  parley/kestrel $(ratio "${RPS[parley,4k.bin]}" "${RPS[kestrel,4k.bin]}")  (target >= 1.20, req/s)"
echo "1m.bin  parley-epoll/nginx   $(ratio "${MIBS[parley-epoll,1m.bin]}" "${MIBS[nginx,1m.bin]}")  (target >= 1.00, MiB/s)"
echo "4k.bin  parley-epoll/kestrel $(ratio "${RPS[parley-epoll,4k.bin]}" "${RPS[kestrel,4k.bin]}")  (target >= 1.20, req/s)"
