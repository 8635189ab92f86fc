#!/usr/bin/env bash
# Parley's test command: installs what the tests need when it is missing, runs the whole
# solution's tests and ends with one summary line: "N passed, N failed, N skipped".
#
#   ./scripts/test.sh              prerequisites + build + all tests
#   ./scripts/test.sh --deps-only  prerequisites only
#   ./scripts/test.sh [dotnet test args...]   e.g. --filter FullyQualifiedName~Interop
#
# A whole run is several runs, each printed with what it counted before the summary line adds them up:
#   main        every test of the solution, once
#   epoll       again on the epoll transport: exactly the tests that started a TestServer whose transport
#               the environment chooses (recorded by the main run; TransportTests classes run both already)
#   vector-256, vector-128, vector-0
#               the Http1, conformance and fuzz tests again with the runtime's AVX-512, AVX2, then all
#               hardware intrinsics off, so each width of the vectorised head parser is tested (widths the
#               CPU lacks are left out, and said so); VectorWidthTests checks each run took its path
# A test that hangs fails the run after $PARLEY_TEST_HANG_TIMEOUT (default 5m) with a dump (--blame-hang).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export DEBIAN_FRONTEND=noninteractive
export DOTNET_NOLOGO=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_GENERATE_ASPNET_CERTIFICATE=false
export PARLEY_BROWSER_DIR="$ROOT/tests/browser"

log() { echo "test.sh: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else log "need root to run: $*"; return 1
  fi
}

# ---------------------------------------------------------------- system packages
# package name -> how we tell it is present
declare -A PROBE=(
  [curl]="command -v curl"
  [wget]="command -v wget"
  [python3]="command -v python3"
  [nginx]="test -x /usr/sbin/nginx"
  [haproxy]="test -x /usr/sbin/haproxy"
  [chromium]="test -x /usr/bin/chromium"
  [openssl]="command -v openssl"
  [testssl.sh]="command -v testssl"
  [systemd]="command -v systemd-socket-activate"
)

ensure_apt_packages() {
  local missing=() pkg
  for pkg in curl nginx haproxy chromium wget python3 openssl testssl.sh systemd; do
    eval "${PROBE[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
  if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
  [ "${#missing[@]}" -eq 0 ] && return 0

  log "installing ${missing[*]}"
  local nginx_was_present=1
  test -x /usr/sbin/nginx || nginx_was_present=0
  local haproxy_was_present=1
  test -x /usr/sbin/haproxy || haproxy_was_present=0

  # Keep apt from starting services (nginx) while installing: policy-rc.d exit 101 = "don't".
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    added_policy=1
  fi
  local rc=0 aptlog
  aptlog="$(mktemp "${TMPDIR:-/tmp}/parley-apt.XXXXXX.log")"
  { as_root apt-get update -q &&
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$aptlog" 2>&1 || rc=$?
  if [ "$added_policy" -eq 1 ]; then as_root rm -f "$policy"; fi
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$aptlog" >&2
    log "apt-get failed ($rc); full log: $aptlog"
    return "$rc"
  fi
  rm -f "$aptlog"

  # If the install still started nginx as a service anyway, stop and disable it:
  # tests start their own nginx with their own configuration.
  if [ "$nginx_was_present" -eq 0 ] && [ -x /usr/sbin/nginx ]; then
    if command -v systemctl >/dev/null 2>&1; then
      if [ -d /run/systemd/system ]; then as_root systemctl stop nginx >/dev/null 2>&1 || true; fi
      as_root systemctl disable nginx >/dev/null 2>&1 || true
    fi
    if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
      as_root /usr/sbin/nginx -s stop >/dev/null 2>&1 || true
    fi
    command -v update-rc.d >/dev/null 2>&1 && as_root update-rc.d nginx disable >/dev/null 2>&1 || true
  fi
  # Likewise HAProxy: the tests run their own, in the foreground, with their own configuration.
  if [ "$haproxy_was_present" -eq 0 ] && [ -x /usr/sbin/haproxy ]; then
    if command -v systemctl >/dev/null 2>&1; then
      if [ -d /run/systemd/system ]; then as_root systemctl stop haproxy >/dev/null 2>&1 || true; fi
      as_root systemctl disable haproxy >/dev/null 2>&1 || true
    fi
    command -v update-rc.d >/dev/null 2>&1 && as_root update-rc.d haproxy disable >/dev/null 2>&1 || true
  fi
}

# ---------------------------------------------------------------- npm packages
ensure_browser_driver() {
  if [ -f "$PARLEY_BROWSER_DIR/node_modules/playwright-core/package.json" ]; then return 0; fi
  log "installing playwright-core into tests/browser"
  ( cd "$PARLEY_BROWSER_DIR"
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error
    else npm install --no-audit --no-fund --loglevel=error; fi ) >&2
}

# playwright-core states the Node.js it needs ("engines"); Debian 12's own nodejs (18) is older than
# the one it pins here. Say so plainly rather than let the browser tests fail obscurely.
check_node_version() {
  local need have
  need="$(python3 - "$PARLEY_BROWSER_DIR/package-lock.json" <<'PY'
import json, re, sys
lock = json.load(open(sys.argv[1]))
spec = lock["packages"]["node_modules/playwright-core"].get("engines", {}).get("node", "")
m = re.search(r"(\d+)", spec)
print(m.group(1) if m else 0)
PY
)"
  have="$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')"
  if [ -z "$have" ] || [ "$have" -lt "$need" ]; then
    log "Node.js ${have:+v$have }is too old or missing: playwright-core (tests/browser) needs Node.js >= $need."
    log "Debian 12's nodejs package is 18; install Node.js $need or later (node on PATH) and rerun."
    return 1
  fi
}

ensure_apt_packages
check_node_version
ensure_browser_driver
# .NET tools the tests run (dotnet-counters), pinned in .config/dotnet-tools.json.
( cd "$ROOT" && dotnet tool restore >/dev/null ) || { log "dotnet tool restore failed"; exit 1; }
if [ "${1:-}" = "--deps-only" ]; then exit 0; fi

# ---------------------------------------------------------------- tests
mkdir -p "$ROOT/TestResults"
RESULTS="$(mktemp -d "$ROOT/TestResults/run.XXXXXX")"
HANG="${PARLEY_TEST_HANG_TIMEOUT:-5m}"
TESTS="$ROOT/tests/Parley.Tests/Parley.Tests.csproj"
VECTOR_TESTS="FullyQualifiedName~Parley.Tests.Http1|FullyQualifiedName~Parley.Tests.Conformance|FullyQualifiedName~Parley.Tests.Fuzz"
runs=()
status=0

# run NAME [env VAR=value ...] -- dotnet test arguments: one run, its TRX files under $RESULTS/NAME.
run() {
  local name="$1"; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  local rc=0
  env "${envs[@]}" dotnet test "$@" -c Release --nologo -v quiet \
    --results-directory "$RESULTS/$name" \
    --blame-hang-timeout "$HANG" --blame-hang-dump-type mini \
    --logger "trx" \
    --logger "console;verbosity=minimal" || rc=$?
  runs+=("$name")
  [ "$rc" -eq 0 ] || { log "run '$name' exited $rc"; status=$rc; }
}

# The widest vectors the CPU has, as the runtime would use them for WellFormedHead.
cpu_vector_width() {
  case "$(uname -m)" in
    x86_64)
      local flags
      flags="$(grep -m1 '^flags' /proc/cpuinfo || true)"
      local f all=1
      for f in avx512f avx512bw avx512cd avx512dq avx512vl avx512vbmi; do
        case " $flags " in *" $f "*) ;; *) all=0 ;; esac
      done
      if [ "$all" -eq 1 ]; then echo 512
      elif case " $flags " in *" avx2 "*) true ;; *) false ;; esac; then echo 256
      else echo 128; fi ;;
    *) echo 128 ;;
  esac
}

set +e
run main PARLEY_TEST_SERVER_LOG="$RESULTS/testserver-users.txt" -- "$ROOT/Parley.slnx" "$@"
if [ "$#" -eq 0 ]; then
  # Epoll: the tests the main run saw start an environment-chosen TestServer, by name.
  if [ -s "$RESULTS/testserver-users.txt" ]; then
    if grep -qx unattributed "$RESULTS/testserver-users.txt"; then
      log "a TestServer was started outside any test class's frames: it cannot be rerun on epoll"
      status=1
    fi
    epoll_filter="$(grep -vx unattributed "$RESULTS/testserver-users.txt" | sort -u | sed -E 's/^(.*)\.$/FullyQualifiedName~\1./; t; s/^/FullyQualifiedName=/' | paste -sd'|')"
    run epoll PARLEY_TEST_TRANSPORT=epoll -- "$TESTS" --no-build --filter "$epoll_filter"
  else
    log "no test started an environment-chosen TestServer: nothing to rerun on epoll"
    status=1
  fi
  # One run per vector width below the CPU's own (the main run had that one).
  widest="$(cpu_vector_width)"
  log "this CPU's widest vector path: $widest bits (the main run tested it)"
  if [ "$widest" -gt 256 ]; then
    run vector-256 DOTNET_EnableAVX512=0 PARLEY_EXPECT_VECTOR_WIDTH=256 -- "$TESTS" --no-build --filter "$VECTOR_TESTS"
  fi
  if [ "$widest" -gt 128 ]; then
    run vector-128 DOTNET_EnableAVX512=0 DOTNET_EnableAVX2=0 PARLEY_EXPECT_VECTOR_WIDTH=128 -- "$TESTS" --no-build --filter "$VECTOR_TESTS"
  fi
  run vector-0 DOTNET_EnableHWIntrinsic=0 PARLEY_EXPECT_VECTOR_WIDTH=0 -- "$TESTS" --no-build --filter "$VECTOR_TESTS"
fi
set -e

# What one directory's TRX files counted: "passed failed skipped files".
count() {
  python3 - "$1" <<'PY'
import glob, os, sys
import xml.etree.ElementTree as ET
p = f = s = n = 0
for path in glob.glob(os.path.join(sys.argv[1], "**", "*.trx"), recursive=True):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        f += 1; n += 1; continue
    for c in root.iter():
        if c.tag.rsplit("}", 1)[-1] == "Counters":
            a = lambda k: int(c.get(k, "0") or 0)
            p += a("passed")
            f += a("failed") + a("error") + a("timeout") + a("aborted")
            s += max(a("total") - a("executed"), a("notExecuted"))
            n += 1
            break
print(p, f, s, n)
PY
}

passed=0; failed=0; skipped=0; ntrx=0
for name in "${runs[@]}"; do
  read -r p f s n < <(count "$RESULTS/$name") || { p=0; f=0; s=0; n=0; }
  if [ "$n" -eq 0 ]; then
    log "run '$name': no results (build error or crashed test host?)"
    f=$((f + 1))
  fi
  # Not in the "N passed, N failed" form: only the last line is the run's summary.
  echo "run $name: passed=$p failed=$f skipped=$s"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s)); ntrx=$((ntrx + n))
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # Crashed or aborted test host: not a pass, whatever the counters said.
  log "dotnet test exited $status with no failed test counted"
  failed=1
fi
if [ "$status" -eq 0 ] && [ "$((passed + failed))" -eq 0 ]; then
  log "no test ran"
  failed=1
  status=1
fi
[ "$status" -ne 0 ] || [ "$failed" -eq 0 ] || status=1
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
