#!/bin/sh
# Durability: several clients post reports concurrently, the server is killed with SIGKILL mid-load
# and restarted; every report acknowledged before the kill must be stored, PRAGMA integrity_check
# must say ok, and the count vectors must equal a recount from the stored reports.
# usage: durability.sh PINHOLE-SERVER PINHOLE COUNTS-FILE [postgresql]
# With `postgresql` the server stores into the database PINHOLE_PG_URI names (tests/pg/cluster.sh
# run sets it), else into a temporary SQLite file.
set -eu
server=$1 cli=$2 counts=$3
# shellcheck source=tests/support/server_lib.sh
. "$(dirname "$0")/support/server_lib.sh"
server_tmp durability
db="$tmp/d.db"
[ "${4:-}" = postgresql ] && db="$PINHOLE_PG_URI"
fail() { echo "FAIL: $*"; exit 1; }

start() { # start the server on the database, wait for its port
    start_server s env PINHOLE_ADMIN_TOKEN=adm PINHOLE_ANALYST_TOKEN=ana "$server" \
        --database "$db" --threads 2
    # shellcheck disable=SC2154 # set by start_server
    url=$url_s
}

start
curl -sf -H 'Authorization: Bearer adm' -H 'Content-Type: application/json' \
    -d '{"name": "durability", "epsilon": 4, "k": 74286, "min_reports": 0}' \
    "$url/v1/collections" >/dev/null || fail "cannot create the collection"

# Four clients, two connections each, small batches; no retries, so each stops at the kill.
for c in 1 2 3 4; do
    "$cli" submit --url "$url" --collection 1 --users 400000 --counts "$counts" --seed $c \
        --batch 200 --connections 2 --retries 0 --ack-log "$tmp/ack.$c" >"$tmp/client.$c" 2>&1 &
done
# Kill once enough reports are acknowledged (mid-load), without warning.
i=0
while [ "$(cat "$tmp"/ack.* 2>/dev/null | wc -l)" -lt 30000 ]; do
    i=$((i + 1)); [ $i -lt 3000 ] || fail "clients made no progress"; sleep 0.01
done
kill_server s
wait || true # the clients fail once the server is gone
acked=$(cut -d" " -f1 "$tmp"/ack.* | sort -u | wc -l)

start # recovery: the server reopens the database (WAL replay) and serves it
curl -sf "$url/healthz" >/dev/null || fail "restarted server does not answer"
stored=$(curl -sf -H "Authorization: Bearer ana" "$url/v1/collections/1" | sed 's/.*"reports":\([0-9]*\).*/\1/')
stop_server s

if [ "$db" = "$tmp/d.db" ]; then
    sqlite3 "$db" "SELECT lower(hex(report_id)) FROM reports" | sort >"$tmp/stored"
else
    psql "$db" -Atc "SELECT replace(report_id::text, '-', '') FROM reports" | sort >"$tmp/stored"
fi
cut -d" " -f1 "$tmp"/ack.* | sort -u >"$tmp/acked"
missing=$(comm -23 "$tmp/acked" "$tmp/stored" | wc -l)
[ "$missing" -eq 0 ] || fail "$missing acknowledged reports are missing after the kill"
[ "$(wc -l <"$tmp/stored")" -eq "$stored" ] || fail "the server counts $stored reports"
[ "$db" != "$tmp/d.db" ] || [ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] ||
    fail "integrity_check"
"$server" check --database "$db" || fail "counts differ from a recount of the stored reports"
echo "ok: $acked reports acknowledged before SIGKILL, all among the $stored stored; integrity ok"
