#!/bin/sh
# The report window over HTTP: a collection made with max_report_age = 1 day and
# max_clock_skew = 1 hour accepts reports of now, refuses those 3 days old and those a day ahead
# one by one with the reason, counts them under reason="window" in /metrics, and shows its
# window in its JSON.
# usage: window.sh PINHOLE-SERVER PINHOLE [postgresql]
set -eu
server=$1 cli=$2
tmp=$(mktemp -d /tmp/pinhole-window.XXXXXX)
db="$tmp/d.db"
[ "${3:-}" = postgresql ] && db="$PINHOLE_PG_URI"
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; cat "$tmp/out" 2>/dev/null; exit 1; }

PINHOLE_ADMIN_TOKEN=adm PINHOLE_ANALYST_TOKEN=ana PINHOLE_UPLOADER_TOKEN=up "$server" \
    --database "$db" --port 0 --port-file "$tmp/port" 2>"$tmp/log" &
pid=$!
i=0
while [ ! -s "$tmp/port" ]; do i=$((i + 1)); [ $i -lt 1000 ] || fail "no server"; sleep 0.01; done
url=http://127.0.0.1:$(cat "$tmp/port")
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
kill -TERM $pid; wait $pid; pid=
echo "ok: 100 reports of now accepted; 100 three days old and 100 a day ahead refused (window)"
