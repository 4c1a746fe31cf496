#!/bin/sh
# Durability under SIGKILL: clients (retries on) post reports concurrently while the server is
# killed without warning at several moments: early and late in a load, and idle after every
# acknowledgement. After each kill the server restarts on the same database. Every report
# acknowledged before a kill must be stored with its id, time and payload; nothing unsent may be
# stored; the clients' retries of everything they sent must all be acknowledged (duplicates,
# never replays); PRAGMA integrity_check must say ok and the count vectors must equal a recount.
# (Power loss, which SIGKILL does not simulate, is tests/server/store/test_crash.c's.)
# usage: durability.sh PINHOLE-SERVER PINHOLE COUNTS-FILE
set -eu
server=$1 cli=$2 counts=$3
# shellcheck source=tests/support/server_lib.sh
. "$(dirname "$0")/support/server_lib.sh"
tmp=$(mktemp -d /tmp/pinhole-durability.XXXXXX)
cleanup() {
    kill_servers
    [ -n "$cpids" ] && kill $cpids 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
cpids=
fail() { echo "FAIL: $*"; exit 1; }
t0=$(($(date +%s) - 86400)) # report times: the past day, inside the default report window

start() { # start the server on the database, wait for its port
    start_server s "$server" --db "$tmp/d.db" --admin-token-file "$tmp/adm" \
        --analyst-token-file "$tmp/ana" --threads 2
    # shellcheck disable=SC2154 # set by start_server
    url=$url_s
}
acks() { cat "$tmp"/ack.* 2>/dev/null | wc -l; }
clients() { # clients ROUND USERS: four clients, two connections each, seeds ROUND1..ROUND4
    cpids=
    for c in 1 2 3 4; do
        "$cli" submit --url "$url" --collection 1 --users "$2" --counts "$counts" --seed "$1$c" \
            --time $((t0 + 3600 * c)) --batch 200 --connections 2 --retries 3 \
            --ack-log "$tmp/ack.$1$c" >"$tmp/client.$1$c" 2>&1 &
        cpids="$cpids $!"
    done
}
kill_after() { # kill -9 once N more reports are acknowledged (mid-load)
    want=$(($(acks) + $1)) i=0
    while [ "$(acks)" -lt "$want" ]; do
        i=$((i + 1)); [ $i -lt 3000 ] || fail "clients made no progress"; sleep 0.01
    done
    kill_server s
    kill $cpids 2>/dev/null || true # their retries would go on for every remaining batch
    wait $cpids 2>/dev/null || true
}
echo adm >"$tmp/adm"
echo ana >"$tmp/ana"

start
curl -sf -H 'Authorization: Bearer adm' -H 'Content-Type: application/json' \
    -d '{"name": "durability", "epsilon": 4, "k": 74286, "min_reports": 0}' \
    "$url/v1/collections" >/dev/null || fail "cannot create the collection"

clients 1 100000
kill_after 2000 # early in the load
start
clients 2 100000
kill_after 24000 # later, with more in flight
start
clients 3 4000
for c in $cpids; do wait "$c" || fail "a client of round 3 failed"; done
sleep 0.2
kill_server s # idle, right after every acknowledgement
acked=$(sort -u "$tmp"/ack.* | wc -l)

start # recovery: the server reopens the database (WAL replay) and serves it
curl -sf "$url/healthz" >/dev/null || fail "restarted server does not answer"
stored=$(curl -sf -H 'Authorization: Bearer ana' "$url/v1/collections/1" | sed 's/.*"reports":\([0-9]*\).*/\1/')

# every acknowledged report stored as sent: id, time (the bucket) and payload
sqlite3 "$tmp/d.db" "SELECT lower(hex(report_id)) || ' ' || bucket || ' ' || lower(hex(payload))
    FROM reports" | sort >"$tmp/stored"
sort -u "$tmp"/ack.* >"$tmp/acked"
missing=$(comm -23 "$tmp/acked" "$tmp/stored" | wc -l)
[ "$missing" -eq 0 ] || fail "$missing acknowledged reports are missing or changed after the kills"
[ "$(wc -l <"$tmp/stored")" -eq "$stored" ] || fail "the server counts $stored reports"

# the clients retry the first 10,000 reports of each load: all acknowledged, none a replay
rm -f "$tmp"/ack.*
for r in 1 2; do
    clients $r 10000
    for c in $cpids; do wait "$c" || fail "a retry of round $r was refused: $(cat "$tmp"/client.$r*)"; done
done
sqlite3 "$tmp/d.db" "SELECT lower(hex(report_id)) || ' ' || bucket || ' ' || lower(hex(payload))
    FROM reports" | sort >"$tmp/stored"
sort -u "$tmp"/ack.* >"$tmp/acked"
[ "$(wc -l <"$tmp/acked")" -eq 80000 ] || fail "$(wc -l <"$tmp/acked") of 80000 retries acknowledged"
[ "$(comm -23 "$tmp/acked" "$tmp/stored" | wc -l)" -eq 0 ] || fail "retries differ from the stored"
stop_server s
[ ! -s "$tmp/d.db-wal" ] || fail "a WAL is left after a clean stop"
[ "$(sqlite3 "$tmp/d.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
"$server" check --db "$tmp/d.db" || fail "counts differ from a recount of the stored reports"
echo "ok: $acked reports acknowledged across 3 SIGKILLs, all stored as sent among the $stored;" \
    "80000 retries acknowledged; integrity ok"
