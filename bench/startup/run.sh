#!/usr/bin/env bash
# Time to first response: `parley serve` published with NativeAOT, next to raw Kestrel (JIT, and NativeAOT
# when it publishes), each started fresh RUNS times. All traffic on 127.0.0.1.
#   bench/startup/run.sh            (RUNS=10 by default)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUNS=${RUNS:-10}
WORK=${WORK:-$(mktemp -d /tmp/parley-startup.XXXXXX)}
echo "publishing into $WORK (NativeAOT takes about a minute per app)" >&2
dotnet publish "$ROOT/src/Parley.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$WORK/parley-aot" --nologo -v quiet >&2
dotnet publish "$ROOT/bench/apps/KestrelBench" -c Release -o "$WORK/kestrel-jit" --nologo -v quiet >&2
kestrel_aot=1
dotnet publish "$ROOT/bench/apps/KestrelBench" -c Release -r linux-x64 -p:PublishAot=true -o "$WORK/kestrel-aot" --nologo -v quiet >&2 || kestrel_aot=0
python3 "$ROOT/bench/startup/first_response.py" 19300 "$RUNS" -- "$WORK/parley-aot/parley" serve --port 19300 --quiet
python3 "$ROOT/bench/startup/first_response.py" 19301 "$RUNS" -- "$WORK/kestrel-jit/KestrelBench" 19301
if [ "$kestrel_aot" = 1 ]; then
  python3 "$ROOT/bench/startup/first_response.py" 19302 "$RUNS" -- "$WORK/kestrel-aot/KestrelBench" 19302
else
  echo "Kestrel did not publish with NativeAOT here; JIT figure only" >&2
fi
