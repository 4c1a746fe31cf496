#!/bin/sh
# The report window over HTTP: a collection made with max_report_age = 1 day and
# max_clock_skew = 1 hour accepts reports of now, refuses those 3 days old and those a day ahead
# one by one with the reason, counts them under reason="window" in /metrics, and shows its
# window in its JSON. Collections made without a window get the server's default (7 days back,
# 1 hour ahead, or what max_report_age and max_clock_skew set), on every route that makes them.
# usage: window.sh PINHOLE-SERVER PINHOLE [postgresql]
set -eu
server=$1 cli=$2
# shellcheck source=tests/support/server_lib.sh
. "$(dirname "$0")/support/server_lib.sh"
server_tmp window
db="$tmp/d.db"
[ "${3:-}" = postgresql ] && db="$PINHOLE_PG_URI"
fail() { echo "FAIL: $*"; cat "$tmp/out" 2>/dev/null; exit 1; }

# start ARG...: the server on $db with the test's tokens and ARG...; sets url
start() {
    start_server s env PINHOLE_ADMIN_TOKEN=adm PINHOLE_ANALYST_TOKEN=ana \
        PINHOLE_UPLOADER_TOKEN=up "$server" --database "$db" "$@"
    # shellcheck disable=SC2154 # set by start_server
    url=$url_s
}
start
curl -sf -H 'Authorization: Bearer adm' -H 'Content-Type: application/json' \
    -d '{"name": "w", "epsilon": 3, "k": 50, "min_reports": 1, "time_precision": 3600,
         "max_report_age": 86400, "max_clock_skew": 3600}' "$url/v1/collections" >"$tmp/coll" ||
    fail "create the collection"
grep -q '"max_report_age":86400,"max_clock_skew":3600,"keep_reports":false' "$tmp/coll" ||
    fail "the collection does not show its window: $(cat "$tmp/coll")"
curl -sf "$url/v1/collections/1/config" -o "$tmp/cfg"
sign=$(curl -sf "$url/v1/keys" | sed 's/.*"config_signing_key":"\([0-9a-f]*\)".*/\1/')
seq 0 99 | awk '{ print $1 % 50 }' >"$tmp/values"
now=$(date +%s)
for t in now:$now old:$((now - 3 * 86400)) ahead:$((now + 86400)); do
    "$cli" encode --config "$tmp/cfg" --verify-key "$sign" --time "${t#*:}" \
        --out "$tmp/${t%%:*}" "$tmp/values" 2>/dev/null || fail "encode ${t%%:*}"
done
export PINHOLE_TOKEN=up
"$cli" submit --url "$url" --collection 1 --reports "$tmp/now" >"$tmp/out" 2>&1 || fail "submit now"
grep -q "100 accepted" "$tmp/out" || fail "reports of now not accepted"
for f in old ahead; do
    if "$cli" submit --url "$url" --collection 1 --reports "$tmp/$f" --retries 0 >"$tmp/out" 2>&1
    then fail "$f reports were accepted"; fi
    grep -q "report time outside the collection's report window" "$tmp/out" ||
        fail "no window reason for the $f reports"
done
curl -sf "$url/metrics" | grep -q 'pinhole_reports_rejected_total{reason="window"} 200' ||
    fail "the window refusals are not counted"
[ "$(curl -sf -H "Authorization: Bearer ana" "$url/v1/collections/1" | sed 's/.*"reports":\([0-9]*\).*/\1/')" = 100 ] ||
    fail "refused reports were stored"
stop_server s

# Without window members a collection gets the defaults, 7 days back and 1 hour ahead, whatever
# route makes it: POST /v1/collections, the pairs of a multi-attribute collection (which may also
# set their own), the round collections of a discovery collection. A server of its own (SQLite: a
# new file): the days the 1-day window above retired stay retired for every collection.
[ "${3:-}" = postgresql ] || db="$tmp/defaults.db"
start
window_of() { # the "max_report_age max_clock_skew" of collection $1
    curl -sf -H 'Authorization: Bearer ana' "$url/v1/collections/$1" |
        python3 -c 'import json, sys; c = json.load(sys.stdin); print(c["max_report_age"], c["max_clock_skew"])'
}
create() { curl -sf -H 'Authorization: Bearer adm' -H 'Content-Type: application/json' -d "$1" "$url/$2"; }
create '{"name": "d", "epsilon": 3, "k": 50, "min_reports": 1}' v1/collections >"$tmp/d" ||
    fail "create a collection without a window"
d=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' <"$tmp/d")
[ "$(window_of "$d")" = "604800 3600" ] || fail "default window: $(window_of "$d")"
curl -sf "$url/v1/collections/$d/config" -o "$tmp/cfgd"
sign=$(curl -sf "$url/v1/keys" | sed 's/.*"config_signing_key":"\([0-9a-f]*\)".*/\1/')
for t in six:$((now - 6 * 86400)) eight:$((now - 8 * 86400)) hour:$((now + 1800)) two:$((now + 2 * 86400)); do
    "$cli" encode --config "$tmp/cfgd" --verify-key "$sign" --time "${t#*:}" \
        --out "$tmp/d.${t%%:*}" "$tmp/values" 2>/dev/null || fail "encode ${t%%:*}"
done
for f in six hour; do
    "$cli" submit --url "$url" --collection "$d" --reports "$tmp/d.$f" >"$tmp/out" 2>&1 ||
        fail "submit $f (inside the default window)"
done
for f in eight two; do
    if "$cli" submit --url "$url" --collection "$d" --reports "$tmp/d.$f" --retries 0 >"$tmp/out" 2>&1
    then fail "$f reports were accepted outside the default window"; fi
done
create '{"name": "m", "epsilon": 2, "attributes": [{"k": 2}, {"k": 3}, {"k": 4}]}' v1/collections \
    >"$tmp/m" || fail "create a multi-attribute collection"
create '{"name": "m2", "epsilon": 2, "max_report_age": 86400, "keep_reports": true,
         "attributes": [{"k": 2}, {"k": 3}]}' v1/collections >"$tmp/m2" ||
    fail "create a multi-attribute collection with a window"
create '{"name": "disc", "epsilon": 4, "devices": 1000}' v1/discoveries >"$tmp/disc" ||
    fail "create a discovery collection"
pairs() { python3 -c 'import json, sys; print(" ".join(str(p["collection"]) for p in json.load(sys.stdin)["pairs"]))' <"$1"; }
n=0
for c in $(pairs "$tmp/m"); do
    [ "$(window_of "$c")" = "604800 3600" ] || fail "pair $c: $(window_of "$c")"; n=$((n + 1))
done
[ $n = 3 ] || fail "$n pairs"
for c in $(pairs "$tmp/m2"); do
    [ "$(window_of "$c")" = "86400 3600" ] || fail "pair $c of m2: $(window_of "$c")"
done
r=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["round_collections"][0])' <"$tmp/disc")
[ "$(window_of "$r")" = "604800 3600" ] || fail "discovery round collection: $(window_of "$r")"

# Closing time buckets: {"before": now} closes every bucket that started before now (today's
# too); then a new report of today is refused (closed), a retry of a stored one is a duplicate,
# and the histogram of the closed buckets is final. A close past the current bucket is a 422, a
# malformed body a 400, closing backwards changes nothing.
close() { curl -s -o "$tmp/close" -w '%{http_code}' -H 'Authorization: Bearer adm' \
    -H 'Content-Type: application/json' -d "$1" "$url/v1/collections/$d/close"; }
now=$(date +%s)
[ "$(close "{\"before\": $((now + 3 * 86400))}")" = 422 ] || fail "a close of future buckets: $(cat "$tmp/close")"
[ "$(close '{"after": 1}')" = 400 ] && grep -q 'unknown member \\"after\\"' "$tmp/close" ||
    fail "a close with an unknown member: $(cat "$tmp/close")"
[ "$(close '{"before": "1"}')" = 400 ] && grep -q 'before: Unix seconds, an integer' "$tmp/close" ||
    fail "a close with a string: $(cat "$tmp/close")"
[ "$(close "{\"before\": $now}")" = 200 ] || fail "close: $(cat "$tmp/close")"
closed=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["closed_before"])' <"$tmp/close")
[ "$closed" = $(((now + 86399) / 86400 * 86400)) ] || fail "closed_before $closed"
[ "$(close '{"before": 0}')" = 200 ] && grep -q "\"closed_before\":$closed" "$tmp/close" ||
    fail "closing backwards moved the mark: $(cat "$tmp/close")"
"$cli" encode --config "$tmp/cfgd" --verify-key "$sign" --time "$now" --out "$tmp/d.today" \
    "$tmp/values" 2>/dev/null || fail "encode today"
if "$cli" submit --url "$url" --collection "$d" --reports "$tmp/d.today" --retries 0 >"$tmp/out" 2>&1
then fail "reports of a closed bucket were accepted"; fi
grep -q "closed time bucket" "$tmp/out" || fail "no closed reason"
"$cli" submit --url "$url" --collection "$d" --reports "$tmp/d.six" >"$tmp/out" 2>&1 &&
    grep -q "0 accepted, 100 duplicates" "$tmp/out" || fail "a retry into a closed bucket: $(cat "$tmp/out")"
curl -sf "$url/metrics" | grep -q 'pinhole_reports_rejected_total{reason="closed"} 100' ||
    fail "the closed refusals are not counted"
curl -sf -H 'Authorization: Bearer ana' "$url/v1/collections/$d/histogram?closed=true&format=json" |
    python3 -c 'import json, sys; h = json.load(sys.stdin); assert h["final"] and h["closed_only"] and h["n"] >= 100, h["n"]' ||
    fail "the closed histogram is not final"
curl -sf -H 'Authorization: Bearer ana' "$url/v1/collections/$d/histogram?format=json" |
    python3 -c 'import json, sys; h = json.load(sys.stdin); assert not h["final"], h' ||
    fail "a histogram over open buckets said final"
stop_server s

# The server-wide default: --max-report-age and --max-clock-skew (also config keys).
printf 'max_report_age = 172800\n' >"$tmp/conf"
start --config "$tmp/conf" --max-clock-skew 0
create '{"name": "e", "epsilon": 3, "k": 50}' v1/collections >"$tmp/e" || fail "create e"
e=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' <"$tmp/e")
[ "$(window_of "$e")" = "172800 0" ] || fail "server-wide default: $(window_of "$e")"
[ "$(window_of "$d")" = "604800 3600" ] || fail "a stored collection's window changed"
stop_server s
echo "ok: 100 reports of now accepted; 100 three days old and 100 a day ahead refused (window);"
echo "ok: default window 7 days / 1 hour on every route (collections, multi-attribute pairs,"
echo "    discovery rounds), and the server-wide default from the config file and flags;"
echo "ok: closed time buckets refuse new reports, keep duplicates, answer final histograms"
