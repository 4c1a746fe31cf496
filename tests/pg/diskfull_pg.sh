#!/bin/sh
# PostgreSQL's disk full, as two replicas see it: PostgreSQL refusing writes with SQLSTATE 53100
# (disk_full; raised here by a trigger on the reports table, as PostgreSQL raises it when it cannot
# extend a file). Every replica answers report batches 503 disk-full with Retry-After and stores
# nothing of them, and keeps serving reads; once PostgreSQL writes again, batches are taken and
# every acknowledged report is counted once.
# usage: diskfull_pg.sh PINHOLE-SERVER PINHOLE (under tests/pg/cluster.sh run)
set -eu
server=$1 cli=$2
# shellcheck source=tests/support/server_lib.sh
. "$(dirname "$0")/../support/server_lib.sh"
: "${PINHOLE_PG_URI:?run under tests/pg/cluster.sh run}"
server_tmp diskfull-pg
fail() {
    echo "FAIL: $*"
    tail -n 5 "$tmp"/log.* 2>/dev/null || true
    exit 1
}
export PINHOLE_ADMIN_TOKEN=adm PINHOLE_ANALYST_TOKEN=ana
for r in a b; do start_server $r "$server" --database "$PINHOLE_PG_URI" --retry-after 7; done
printf 'item\tcount\n' >"$tmp/counts"
for i in $(seq 1 10); do printf 'w%d\t%d\n' "$i" "$i" >>"$tmp/counts"; done
curl -sf -H 'Authorization: Bearer adm' -H 'Content-Type: application/json' \
    -d '{"name": "full", "epsilon": 2, "k": 10}' "$url_a/v1/collections" >/dev/null ||
    fail "create the collection"
now=$(date +%s)
submit() { # URL SEED USERS
    "$cli" submit --url "$1" --collection 1 --users "$3" --counts "$tmp/counts" --seed "$2" \
        --time "$now" --batch 100 --connections 1 --retries 0 --ack-log "$tmp/ack.$2" \
        >"$tmp/submit.$2" 2>&1
}
reports() { # URL: the collection's report count
    curl -sf -H 'Authorization: Bearer ana' "$1/v1/collections/1" |
        sed 's/.*"reports":\([0-9]*\).*/\1/'
}
submit "$url_a" 1 500 || fail "the first batches were refused: $(cat "$tmp/submit.1")"
curl -sf "$url_a/v1/collections/1/config" -o "$tmp/cfg" || fail "config"
sign=$(curl -sf "$url_a/v1/keys" | sed 's/.*"config_signing_key":"\([0-9a-f]*\)".*/\1/')
seq 0 9 >"$tmp/values"
"$cli" encode --config "$tmp/cfg" --verify-key "$sign" --out "$tmp/ten" "$tmp/values" \
    2>/dev/null || fail "pinhole encode"

psql -q "$PINHOLE_PG_URI" -c "CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS
    \$\$BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'
    USING ERRCODE = 'disk_full'; END\$\$;
    CREATE TRIGGER disk_full BEFORE INSERT ON reports FOR EACH ROW EXECUTE FUNCTION disk_full();" ||
    fail "cannot install the trigger"
for r in a b; do
    eval "url=\$url_$r"
    if submit "$url" "2$r" 300; then fail "replica $r acknowledged reports on a full disk"; fi
    [ ! -s "$tmp/ack.2$r" ] || fail "replica $r acknowledged reports on a full disk"
    code=$(curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' \
        -H 'Content-Type: application/octet-stream' --data-binary @"$tmp/ten" \
        "$url/v1/collections/1/reports")
    [ "$code" = 503 ] && grep -q '"type":"urn:pinhole:problem:disk-full"' "$tmp/body" &&
        grep -qi '^retry-after: 7' "$tmp/head" ||
        fail "replica $r answered a batch $code $(cat "$tmp/body")"
    [ "$(reports "$url")" = 500 ] || fail "replica $r reads $(reports "$url") reports"
    code=$(curl -s -o "$tmp/body" -w '%{http_code}' "$url/healthz")
    [ "$code" = 503 ] && grep -q '"status":"disk-full"' "$tmp/body" ||
        fail "replica $r /healthz: $code $(cat "$tmp/body")"
done
psql -q "$PINHOLE_PG_URI" -c "DROP TRIGGER disk_full ON reports" || fail "cannot drop the trigger"
submit "$url_b" 3 400 || fail "batches refused once PostgreSQL writes again: $(cat "$tmp/submit.3")"
submit "$url_a" 1 500 || fail "the retry of the first batches was refused"
acked=$(sort -u "$tmp"/ack.* | wc -l)
[ "$acked" -eq 900 ] || fail "$acked distinct reports acknowledged, not 900"
[ "$(reports "$url_a")" = 900 ] && [ "$(reports "$url_b")" = 900 ] ||
    fail "the replicas count $(reports "$url_a") and $(reports "$url_b") reports, not 900"
echo "ok: PostgreSQL disk_full answered 503 disk-full by both replicas, reads served, 900 reports"
