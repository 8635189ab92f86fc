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
#
# Bounded: each folder gets at most $PARLEY_MUTATION_MINUTES minutes (default 150); a run cut off
# by the bound reports nothing, so raise it rather than trust a partial score.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
# On a busy machine vstest.console can take longer than its default 90 s to answer Stryker, which then
# aborts the whole run (seen here after 55 minutes).
export VSTEST_CONNECTION_TIMEOUT="${VSTEST_CONNECTION_TIMEOUT:-900}"

minutes="${PARLEY_MUTATION_MINUTES:-150}"
concurrency="${PARLEY_MUTATION_CONCURRENCY:-2}"
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
# server's telemetry tests. Client takes the telemetry tests too (Parley.Tests.Observability), which check the client's metrics and spans.
# Stryker runs a session's tests one at a time (its run settings disable xunit's parallel classes), so a
# Server mutant that survives in code every request runs costs the sum of every test's time. 62 test
# cases (27 methods over the four transports) wait seconds each for a server's timeouts: 189 of the
# filter's 202 test-seconds. By default the Server filter leaves them out (a survivor then costs about
# 15 s, not about 4 minutes); what they alone check (timeouts, rates, the drain's deadline, a thousand
# slowloris connections) is listed with the score in docs/testing.md. PARLEY_MUTATION_SLOW_TESTS=1 keeps them.
slow_server_tests=(
  A_thousand_slowloris_connections_do_not_stop_a_normal_client_and_get_408_at_the_header_timeout
  A_body_that_stalls_is_cut_off_after_the_data_timeout
  A_pipelining_client_that_never_reads_cannot_make_the_server_buffer_without_bound
  A_body_sent_slowly_but_steadily_within_the_data_timeout_is_read
  Handshakes_that_stall_or_dribble_cannot_keep_a_normal_client_out_and_end_at_the_handshake_timeout
  Slowloris_during_the_handshake_does_not_keep_others_from_being_served
  An_idle_keep_alive_connection_is_closed_after_its_timeout
  A_client_that_stops_reading_shows_its_connection_writing_until_the_data_timeout_closes_it_and_counts_it
  A_handler_that_hangs_is_cut_off_at_the_end_of_the_drain_and_the_stop_returns
  A_body_trickled_below_the_minimum_data_rate_is_cut_off
  During_the_drain_delay_readiness_is_off_new_connections_are_served_and_every_response_closes_its_connection
  A_connection_waiting_for_the_rest_of_its_body_is_reading_body_with_the_bytes_so_far_and_a_stop_shows_draining
  A_head_that_arrived_while_the_loop_was_busy_gets_408_when_the_idle_wait_expires
  A_body_sent_at_a_steady_rate_is_read_in_full
  A_client_that_goes_silent_mid_head_is_closed_at_the_header_timeout
  A_header_that_does_not_arrive_in_time_closes_the_connection_without_a_response
  After_a_burst_of_requests_the_request_rate_is_above_zero
  A_slow_client_gets_408_when_the_header_timeout_expires
  A_graceful_stop_finishes_the_request_in_flight_and_closes_idle_connections
  A_server_serves_a_given_socket_and_a_stop_leaves_it_listening_for_the_next
  A_handler_that_writes_less_than_its_Content_Length_gets_500_and_a_close_instead
  Parley_serve_exits_0_on_SIGTERM_under_load_answering_every_request_sent_before_it
  Changed_certificate_files_are_used_by_new_handshakes_and_open_connections_go_on
  A_half_written_certificate_keeps_the_previous_one_and_is_reported
  A_stalled_handshake_is_closed_at_the_handshake_timeout_with_one_error_line
  A_short_Content_Length_does_not_lose_the_responses_pipelined_before_it
  A_quiesced_listener_completes_no_new_handshake_and_keeps_the_queued_connection_with_its_request
)
without_slow_server_tests() {
  [ "${PARLEY_MUTATION_SLOW_TESTS:-0}" = 1 ] && return 0
  local name
  for name in "${slow_server_tests[@]}"; do printf '&FullyQualifiedName!~%s' "$name"; done
}

tests_for() {
  case "$1" in
    Http1)  echo "FullyQualifiedName~Parley.Tests.Http1&FullyQualifiedName!~AllocationTests&FullyQualifiedName!~VectorWidthTests&FullyQualifiedName!~ArrivalIndependenceTests" ;;
    Server) echo "(FullyQualifiedName~Parley.Tests.Server|FullyQualifiedName~Parley.Tests.Hardening|FullyQualifiedName~Parley.Tests.Conformance|FullyQualifiedName~Parley.Tests.Tls.ServerTlsTests|FullyQualifiedName~Parley.Tests.Tls.EpollServerTlsTests|FullyQualifiedName~Parley.Tests.Tls.IdleTlsConnectionTests|FullyQualifiedName~Parley.Tests.Observability.TelemetryTests|FullyQualifiedName~Parley.Tests.Observability.ConnectionTelemetryTests)$(without_slow_server_tests)" ;;
    Client) echo "(FullyQualifiedName~Parley.Tests.Client&FullyQualifiedName!~Parley.Tests.Client.CliTests)|FullyQualifiedName~Parley.Tests.Observability" ;;
    *) echo "unknown folder '$1' (Http1, Server or Client)" >&2; return 1 ;;
  esac
}

dotnet tool restore >/dev/null

for folder in "${folders[@]}"; do
  filter="$(tests_for "$folder")"
  mutate="\"**/$folder/**/*.cs\""
  out="$ROOT/TestResults/mutation/$folder"
  if [ -n "$files" ]; then
    mutate="$(for f in $files; do printf '"**/%s/**/%s",' "$folder" "$f"; done)"; mutate="${mutate%,}"
    out="$out-${PARLEY_MUTATION_TAG:-files}"
  fi
  work="$(mktemp -d "${TMPDIR:-/tmp}/parley-mutation-$folder.XXXXXX")"
  rm -rf "$out"; mkdir -p "$out"
  # A clean copy of the tracked tree (with uncommitted edits), without build output.
  git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$work"
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
  if [ "$rc" -ne 0 ]; then
    echo "mutation.sh: $folder: stryker exited $rc (124/130 = cut off by the ${minutes} min bound); log: $out/stryker.log" >&2
  else
    grep -E "mutation score|Killed|Survived|Timeout|No coverage" "$out/stryker.log" | tail -n 8 >&2 || true
    rm -rf "$work"
  fi
  echo "mutation.sh: $folder report: $out" >&2
done
