#!/usr/bin/env bash
# Bounded AFL++ run of one fuzz target through SharpFuzz:  ./scripts/fuzz.sh TARGET SECONDS [EXECUTIONS]
# With EXECUTIONS it stops after that many executions (afl-fuzz -E), SECONDS still capping the time.
# TARGET: request | chunked | response | form | multipart | range | route | query | proxy | forwarded. Findings land in fuzz/findings/TARGET;
# every crash or hang found must become a regression seed in fuzz/corpus/TARGET and a test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${1:?usage: fuzz.sh TARGET SECONDS}"
SECONDS_TO_RUN="${2:?usage: fuzz.sh TARGET SECONDS [EXECUTIONS]}"
EXECUTIONS="${3:-}"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

if ! command -v afl-fuzz >/dev/null; then
  sudo -n apt-get install -y -q afl++ >/dev/null || apt-get install -y -q afl++ >/dev/null
fi
export PATH="$PATH:$HOME/.dotnet/tools"
command -v sharpfuzz >/dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 >/dev/null

OUT="$ROOT/fuzz/bin"
dotnet publish "$ROOT/fuzz/Parley.Fuzz/Parley.Fuzz.csproj" -c Release -o "$OUT" -v q --nologo >/dev/null
# Instrument the library under test (once per build: sharpfuzz refuses an already instrumented file).
if [ ! -f "$OUT/.instrumented" ] || [ "$OUT/Parley.dll" -nt "$OUT/.instrumented" ]; then
  sharpfuzz "$OUT/Parley.dll"
  touch "$OUT/.instrumented"
fi

FINDINGS="$ROOT/fuzz/findings/$TARGET"
mkdir -p "$FINDINGS"
# AFL_NO_AFFINITY: several fuzzers (or other work) may hold the cores; AFL would refuse to start.
export AFL_NO_AFFINITY=1 AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
timeout --preserve-status $((SECONDS_TO_RUN + 30)) afl-fuzz -V "$SECONDS_TO_RUN" ${EXECUTIONS:+-E "$EXECUTIONS"} -t 5000 -m none \
  -i "$ROOT/fuzz/corpus/$TARGET" -o "$FINDINGS" -- "$OUT/Parley.Fuzz" "$TARGET" || true
STATS="$FINDINGS/default/fuzzer_stats"
if [ -f "$STATS" ]; then
  grep -E "^(execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|run_time)" "$STATS"
fi
