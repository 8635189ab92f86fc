# Parses `wrk --latency` output; prints "requests seconds rps p99_ms errors" (0 0 0 nan 0 when wrk failed).
function ms(value, unit) {
    if (unit == "us") return value / 1000
    if (unit == "ms") return value
    if (unit == "s") return value * 1000
    if (unit == "m") return value * 60000
    return "nan"
}
function split_unit(text, parts) {
    match(text, /^[0-9.]+/)
    parts[1] = substr(text, 1, RLENGTH) + 0
    parts[2] = substr(text, RLENGTH + 1)
}
BEGIN { requests = 0; seconds = 0; rps = 0; p99 = "nan"; errors = 0 }
$1 == "99%" { split_unit($2, p); p99 = ms(p[1], p[2]) }
$2 == "requests" && $3 == "in" { requests = $1; t = $4; sub(/,$/, "", t); split_unit(t, q); seconds = ms(q[1], q[2]) / 1000 }
$1 == "Requests/sec:" { rps = $2 }
/Socket errors:/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
/Non-2xx or 3xx responses:/ { errors += $NF }
END { printf "%d %.3f %.1f %s %d\n", requests, seconds, rps, (p99 == "nan" ? "nan" : sprintf("%.3f", p99)), errors }
