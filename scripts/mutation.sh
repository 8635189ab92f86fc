#!/usr/bin/env bash
# Mutation testing with Stryker.NET (a local tool pinned in .config/dotnet-tools.json), outside CI.
# Each folder of src/Parley is mutated on its own against the tests that exercise it, in a private
# copy of the tree (Stryker replaces the built Parley.dll under the test project, which would break
# builds and test runs in the working tree meanwhile). Reports land in TestResults/mutation/FOLDER.
#
#   ./scripts/mutation.sh                 Http1, Server and Client, one after the other
#   ./scripts/mutation.sh Http1 [Client]  only those folders
#   PARLEY_MUTATION_FILES='RequestHeadParser.cs FieldTable.cs' ./scripts/mutation.sh Http1
#                                         only those files of the folder (a quick check while killing
#                                         survivors; a folder's score comes from a whole-folder run,
#                                         or from runs over disjoint file sets of one commit that
#                                         together cover the folder)
#   PARLEY_MUTATION_TAG=routing           names such a run's report folder (FOLDER-routing; default
#                                         FOLDER-files), so that several file sets keep their reports
#   PARLEY_MUTATION_TESTS='FullyQualifiedName~TelemetryTests'
#                                         runs the mutants against that test filter instead of the
#                                         folder's: a cheap list of what those tests miss, while writing
#                                         tests for some files. Never a score: the folder's filter decides.
#   PARLEY_MUTATION_MIX=0                 tests each mutant in a session of its own (see below)
#
# Bounded: each folder gets at most $PARLEY_MUTATION_MINUTES minutes (default 150); a run cut off
# by the bound reports nothing, so raise it rather than trust a partial score. Besides Stryker's reports,
# the folder gets summary.md (scripts/mutation/summarize.py): per-file counts and every undetected mutant.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
# On a busy machine vstest.console can take longer than its default 90 s to answer Stryker, which then
# aborts the whole run (seen here after 55 minutes).
export VSTEST_CONNECTION_TIMEOUT="${VSTEST_CONNECTION_TIMEOUT:-900}"

minutes="${PARLEY_MUTATION_MINUTES:-150}"
concurrency="${PARLEY_MUTATION_CONCURRENCY:-2}"
# Stryker runs a session's tests one at a time. scripts/mutation/OneMutantParallelFramework.cs, built
# into the copy's tests, runs test classes side by side (this many threads) in a session that tests one
# mutant, and ends such a session that runs past the deadline (seconds): a whole Server pass side by side
# takes under a minute, one by one about four.
export PARLEY_MUTATION_TEST_THREADS="${PARLEY_MUTATION_TEST_THREADS:-8}"
export PARLEY_MUTATION_SESSION_SECONDS="${PARLEY_MUTATION_SESSION_SECONDS:-150}"
# After a one-mutant session's first failed test (the mutant is killed), the seconds its result gets to reach
# Stryker before the test host ends the session instead of waiting for the tests still running.
export PARLEY_MUTATION_GRACE_SECONDS="${PARLEY_MUTATION_GRACE_SECONDS:-5}"
# Stryker tests mutants whose covering tests do not overlap together, in one session. Such a session runs its
# tests one at a time and has no deadline (each test's mutant is only known as it starts), so mutants that make
# servers hang sit out every test's own timeouts there: HttpServer.cs's, covered by different start-up paths,
# left the machine idle for minutes at a time. PARLEY_MUTATION_MIX=0 gives each mutant a session of its own.
mix="${PARLEY_MUTATION_MIX:-1}"
folders=("$@")
files="${PARLEY_MUTATION_FILES:-}"
[ "${#folders[@]}" -gt 0 ] || folders=(Http1 Server Client)

# The tests each folder's mutants are run against. Http1 takes its fast unit tests only (the
# conformance table and the fuzz properties run live servers or seconds-long loops for every mutant).
# Left out of Http1's as well: the allocation and vector-width checks (they measure the run, not the
# code's answers) and the arrival-independence tests, which parse each input at every split. The
# long-head vector tests (VectorPathTests, under a second) are in: an earlier hour-long coverage
# capture blamed on them came from a 14 s HeadLimitsTests case, since fixed.
# Server takes the TLS server tests (not the interop ones that start nginx, Python or testssl.sh) and the
# server's telemetry tests, but not the four thousand-connection slowloris tests: they are a third of a
# whole pass's processor time (about 17 of 52 s), and a mutant in code every request runs that survives
# costs a whole pass. A mutant only they would catch counts as survived, so the score can only be lower. Client takes the telemetry tests too (Parley.Tests.Observability), which check the client's metrics and spans.
tests_for() {
  case "$1" in
    Http1)  echo "FullyQualifiedName~Parley.Tests.Http1&FullyQualifiedName!~AllocationTests&FullyQualifiedName!~VectorWidthTests&FullyQualifiedName!~ArrivalIndependenceTests" ;;
    Server) echo "(FullyQualifiedName~Parley.Tests.Server|FullyQualifiedName~Parley.Tests.Hardening|FullyQualifiedName~Parley.Tests.Conformance|FullyQualifiedName~Parley.Tests.Tls.ServerTlsTests|FullyQualifiedName~Parley.Tests.Tls.EpollServerTlsTests|FullyQualifiedName~Parley.Tests.Tls.IdleTlsConnectionTests|FullyQualifiedName~Parley.Tests.Observability.TelemetryTests|FullyQualifiedName~Parley.Tests.Observability.ConnectionTelemetryTests)&FullyQualifiedName!~A_thousand_slowloris_connections" ;;
    Client) echo "(FullyQualifiedName~Parley.Tests.Client&FullyQualifiedName!~Parley.Tests.Client.CliTests)|FullyQualifiedName~Parley.Tests.Observability" ;;
    *) echo "unknown folder '$1' (Http1, Server or Client)" >&2; return 1 ;;
  esac
}

dotnet tool restore >/dev/null

for folder in "${folders[@]}"; do
  filter="${PARLEY_MUTATION_TESTS:-$(tests_for "$folder")}"
  mutate="\"**/$folder/**/*.cs\""
  out="$ROOT/TestResults/mutation/$folder"
  if [ -n "$files" ]; then
    mutate="$(for f in $files; do printf '"**/%s/**/%s",' "$folder" "$f"; done)"; mutate="${mutate%,}"
    out="$out-${PARLEY_MUTATION_TAG:-files}"
  fi
  [ -z "${PARLEY_MUTATION_TESTS:-}" ] || out="$out-own-tests"
  work="$(mktemp -d "${TMPDIR:-/tmp}/parley-mutation-$folder.XXXXXX")"
  rm -rf "$out"; mkdir -p "$out"
  # A clean copy of the tracked tree (with uncommitted edits), without build output.
  git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$work"
  cp "$ROOT/scripts/mutation/OneMutantParallelFramework.cs" "$work/tests/Parley.Tests/"
  cat >"$work/tests/Parley.Tests/stryker-config.json" <<JSON
{
  "stryker-config": {
    "project": "Parley.csproj",
    "configuration": "Release",
    "mutate": [$mutate],
    "test-case-filter": "$filter",
    "coverage-analysis": "perTest",
    "concurrency": $concurrency,
    "additional-timeout": 5000,
    "disable-mix-mutants": $([ "$mix" = 0 ] && echo true || echo false),
    "reporters": ["dots", "json", "html", "markdown", "cleartext"],
    "thresholds": { "high": 85, "low": 70, "break": 0 }
  }
}
JSON
  echo "mutation.sh: $folder in $work (filter: $filter, at most $minutes min)" >&2
  # Stryker's project analysis asks `dotnet --info` with a short timeout, which a busy machine misses
  # ("Could not find build environment"): that failure alone is tried again, twice.
  for attempt in 1 2 3; do
    rc=0
    ( cd "$work/tests/Parley.Tests" && timeout --signal=INT --kill-after=60 "${minutes}m" \
        dotnet stryker --config-file stryker-config.json --output "$work/StrykerOutput" --skip-version-check ) \
      >"$out/stryker.log" 2>&1 || rc=$?
    grep -q "Could not find build environment" "$out/stryker.log" || break
    echo "mutation.sh: $folder: Stryker could not analyse the projects (attempt $attempt)" >&2
  done
  cp -r "$work/StrykerOutput/reports/." "$out/" 2>/dev/null || true
  # A short record (per-file counts, every undetected mutant) that can be kept with the docs.
  if [ -f "$out/mutation-report.json" ]; then
    python3 "$ROOT/scripts/mutation/summarize.py" "$out/mutation-report.json" \
      "$(basename "$out") at $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (with uncommitted changes)')" \
      >"$out/summary.md" || true
  fi
  if [ "$rc" -ne 0 ]; then
    echo "mutation.sh: $folder: stryker exited $rc (124/130 = cut off by the ${minutes} min bound); log: $out/stryker.log" >&2
  else
    grep -E "mutation score|Killed|Survived|Timeout|No coverage" "$out/stryker.log" | tail -n 8 >&2 || true
    rm -rf "$work"
  fi
  echo "mutation.sh: $folder report: $out" >&2
done
