#!/usr/bin/env bash
# Soak: runs CONNECTIONS short connections (default 100,000) against `parley serve` on 127.0.0.1, in
# batches, and samples the server's open descriptors (/proc/PID/fd) and RSS before, during and after.
# Verdict "flat" when, after a settle, descriptors are back to their starting count (+2) and RSS is
# within 15% (+8 MiB) of its value after the first (warm-up) batch. Bounded: aborts after 180 s.
#
#   ./scripts/soak.sh [CONNECTIONS] [THREADS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONNECTIONS="${1:-100000}"
THREADS="${2:-8}"
BATCHES=10
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

dotnet build "$ROOT/src/Parley.Cli/Parley.Cli.csproj" -c Release -v q --nologo >/dev/null
DLL="$ROOT/src/Parley.Cli/bin/Release/net10.0/Parley.Cli.dll"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

dotnet "$DLL" serve --port "$PORT" --quiet >/dev/null 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null; then break; fi
  sleep 0.2
done

sample() { # label
  local fds rss
  fds=$(ls /proc/$PID/fd | wc -l)
  rss=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
  echo "$1 fds=$fds rss_kib=$rss"
}

echo "soak: $CONNECTIONS connections in $BATCHES batches, $THREADS client threads, server pid $PID port $PORT"
BEFORE=$(sample "before"); echo "$BEFORE"
INITIAL_FDS=$(echo "$BEFORE" | sed 's/.*fds=\([0-9]*\) .*/\1/')
START=$(date +%s)
PER_BATCH=$((CONNECTIONS / BATCHES))
for b in $(seq 1 $BATCHES); do
  timeout 180 python3 - "$PORT" "$PER_BATCH" "$THREADS" <<'PY'
import socket, sys, threading
port, total, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
request = b"GET / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n"
failures = [0]
def worker(n):
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(request)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk: break
                data += chunk
            s.close()
            if not data.startswith(b"HTTP/1.1 200 "): failures[0] += 1
        except OSError:
            failures[0] += 1
ts = [threading.Thread(target=worker, args=(total // threads,)) for _ in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
if failures[0]: print(f"  failures: {failures[0]}")
PY
  sample "batch $b/$BATCHES ($((b * PER_BATCH)) connections, $(( $(date +%s) - START )) s)"
  if [ "$b" -eq 1 ]; then WARM_RSS=$(awk '/VmRSS/ {print $2}' /proc/$PID/status); fi
  if [ $(( $(date +%s) - START )) -gt 180 ]; then echo "soak: time budget exceeded"; break; fi
done
sleep 5
AFTER=$(sample "after 5 s settle")
echo "$AFTER"
END_RSS=$(echo "$AFTER" | sed 's/.*rss_kib=\([0-9]*\).*/\1/')
END_FDS=$(echo "$AFTER" | sed 's/.*fds=\([0-9]*\) .*/\1/')
kill -TERM $PID; wait $PID || true; trap - EXIT
echo "elapsed $(( $(date +%s) - START )) s"
python3 - "$INITIAL_FDS" "$END_FDS" "$WARM_RSS" "$END_RSS" <<'PY'
import sys
fd0, fd1, rss_warm, rss_end = map(int, sys.argv[1:])
flat = fd1 <= fd0 + 2 and rss_end <= rss_warm * 1.15 + 8192
print(f"verdict: {'flat' if flat else 'GROWING'} (fds {fd0} -> {fd1}; rss after warm-up {rss_warm} KiB -> {rss_end} KiB)")
sys.exit(0 if flat else 1)
PY
