#!/usr/bin/env bash
# Parley's test command: installs what the tests need when it is missing, runs the whole
# solution's tests and ends with one summary line: "N passed, N failed, N skipped".
#
#   ./scripts/test.sh              prerequisites + build + all tests
#   ./scripts/test.sh --deps-only  prerequisites only
#   ./scripts/test.sh [dotnet test args...]   e.g. --filter FullyQualifiedName~Interop
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
  [chromium]="test -x /usr/bin/chromium"
  [openssl]="command -v openssl"
  [testssl.sh]="command -v testssl"
  [systemd]="command -v systemd-socket-activate"
)

ensure_apt_packages() {
  local missing=() pkg
  for pkg in curl nginx chromium wget python3 openssl testssl.sh systemd; do
    eval "${PROBE[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
  if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
  [ "${#missing[@]}" -eq 0 ] && return 0

  log "installing ${missing[*]}"
  local nginx_was_present=1
  test -x /usr/sbin/nginx || nginx_was_present=0

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
}

# ---------------------------------------------------------------- npm packages
ensure_browser_driver() {
  if [ -f "$PARLEY_BROWSER_DIR/node_modules/playwright-core/package.json" ]; then return 0; fi
  log "installing playwright-core into tests/browser"
  ( cd "$PARLEY_BROWSER_DIR"
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error
    else npm install --no-audit --no-fund --loglevel=error; fi ) >&2
}

ensure_apt_packages
ensure_browser_driver
if [ "${1:-}" = "--deps-only" ]; then exit 0; fi

# ---------------------------------------------------------------- tests
mkdir -p "$ROOT/TestResults"
RESULTS="$(mktemp -d "$ROOT/TestResults/run.XXXXXX")"

set +e
dotnet test "$ROOT/Parley.slnx" -c Release --nologo -v quiet \
  --results-directory "$RESULTS" \
  --logger "trx" \
  --logger "console;verbosity=minimal" \
  "$@"
status=$?
# Again on the epoll transport, for the suites whose servers run through TestServer (the Server
# suites already run on both transports by themselves). Skipped when arguments narrow the run.
if [ "$#" -eq 0 ]; then
  PARLEY_TEST_TRANSPORT=epoll dotnet test "$ROOT/tests/Parley.Tests/Parley.Tests.csproj" -c Release --nologo -v quiet \
    --no-build --results-directory "$RESULTS/epoll" \
    --filter "FullyQualifiedName~Parley.Tests.Demo|FullyQualifiedName~StaticFiles|FullyQualifiedName~Parley.Tests.Client" \
    --logger "trx" \
    --logger "console;verbosity=minimal"
  epoll_status=$?
  [ "$status" -ne 0 ] || status=$epoll_status
fi
set -e

# Totals over every TRX file this run wrote (one per test project).
read -r passed failed skipped ntrx < <(python3 - "$RESULTS" <<'PY'
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
) || { passed=0; failed=0; skipped=0; ntrx=0; }

if [ "$status" -ne 0 ] && [ "$ntrx" -eq 0 ]; then
  log "dotnet test failed (exit $status) before producing results: build error?"
  echo "0 passed, 1 failed"
  exit "$status"
fi
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
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
