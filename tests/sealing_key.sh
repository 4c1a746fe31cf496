#!/bin/sh
# Sealing-key rotation end to end: reports sealed to the key of the time (pinhole encode
# --seal-key) and by pinhole submit --seal (which seals to the key GET /v1/keys publishes).
# prepare: the next key already opens reports (a device that met a replica with the new key);
# activate: the server publishes the new key, and reports sealed to the old one still open (the
# overlap); retire: they are refused, reason `seal`, and nothing of them is stored.
# usage: sealing_key.sh PINHOLE-SERVER PINHOLE [postgresql]
# With `postgresql` two replicas share the database PINHOLE_PG_URI names (tests/pg/cluster.sh run
# sets it): the rotation is made on the database and the replicas restart one at a time; half-way
# through the restart after activate, the replica not yet restarted opens reports sealed to the key
# the restarted one publishes. Steps are checked on the replica that did not serve the last one.
set -eu
server=$1 cli=$2
# shellcheck source=tests/support/server_lib.sh
. "$(dirname "$0")/support/server_lib.sh"
server_tmp sealing-key
db="$tmp/d.db"
replicas="a"
if [ "${3:-}" = postgresql ]; then
    db="$PINHOLE_PG_URI"
    replicas="a b"
fi
fail() { echo "FAIL: $*"; cat "$tmp/out" 2>/dev/null; cat "$tmp"/log.* 2>/dev/null | tail -5; exit 1; }
echo adm >"$tmp/adm"
echo ana >"$tmp/ana"
echo up >"$tmp/up"

start_one() { # start replica $1 on the database; url_$1
    start_server "$1" "$server" --db "$db" --admin-token-file "$tmp/adm" \
        --analyst-token-file "$tmp/ana" --uploader-token-file "$tmp/up"
    [ "$replicas" = a ] && url_b=$url_a
    return 0
}
restart() { for r in $replicas; do stop_server $r; start_one $r; done; } # rolling
seal_key() { curl -sf "$1/v1/keys" | sed 's/.*"seal_key": *"\([0-9a-f]*\)".*/\1/'; }
key() { "$server" sealing-key "$1" --db "$db" | sed -n "s/^$2 *//p"; }
encode() { # encode OUT KEY: 50 reports of collection 1 sealed to KEY
    "$cli" encode --config "$tmp/cfg" --verify-key "$sign" --seal-key "$2" --out "$1" \
        "$tmp/values" 2>/dev/null || fail "encode"
}
submit() { # submit URL FILE: exit status of pinhole submit, its output in $tmp/out
    PINHOLE_TOKEN=up "$cli" submit --url "$1" --collection 1 --reports "$2" --retries 0 \
        >"$tmp/out" 2>&1
}
stored() {
    curl -sf -H 'Authorization: Bearer ana' "$url_a/v1/collections/1" |
        sed 's/.*"reports": *\([0-9]*\).*/\1/'
}

for r in $replicas; do start_one $r; done
curl -sf -H 'Authorization: Bearer adm' -H 'Content-Type: application/json' \
    -d '{"name": "sealed", "epsilon": 3, "k": 50, "min_reports": 0}' \
    "$url_a/v1/collections" >/dev/null || fail "cannot create the collection"
curl -sf "$url_a/v1/collections/1/config" -o "$tmp/cfg"
sign=$(curl -sf "$url_a/v1/keys" | sed 's/.*"config_signing_key": *"\([0-9a-f]*\)".*/\1/')
seq 0 49 >"$tmp/values"
seq 0 49 | awk '{ printf "w%d\t%d\n", $1, $1 + 1 }' >"$tmp/counts" # simulated devices' items
old=$(seal_key "$url_a")
[ "$(key show current)" = "$old" ] && [ "$(key show next)" = - ] || fail "show: $(key show current)"
encode "$tmp/old1" "$old"
encode "$tmp/old2" "$old"

# prepare: not yet published, but it opens (on every replica once restarted)
next=$(key prepare next)
[ ${#next} -eq 64 ] && [ "$next" != "$old" ] || fail "prepare: next $next"
restart
[ "$(seal_key "$url_b")" = "$old" ] || fail "a prepared key is published already"
encode "$tmp/next" "$next"
submit "$url_b" "$tmp/next" || fail "a report sealed to the prepared key was refused"
grep -q "50 accepted" "$tmp/out" || fail "prepared key"

# activate: the new key is the one published; reports sealed to the old one still open
[ "$(key activate previous)" = "$old" ] || fail "activate did not keep the old key as previous"
if [ "$replicas" = "a b" ]; then # mid-way through the rolling restart: a restarted, b not yet
    stop_server a
    start_one a
    [ "$(seal_key "$url_a")" = "$next" ] && [ "$(seal_key "$url_b")" = "$old" ] ||
        fail "mid-restart: a publishes $(seal_key "$url_a"), b $(seal_key "$url_b")"
    encode "$tmp/next2" "$(seal_key "$url_a")"
    submit "$url_b" "$tmp/next2" ||
        fail "a replica not yet restarted refused a report sealed to the key another publishes"
    stop_server b
    start_one b
    expect=190
else
    restart
    expect=140
fi
for u in $url_a $url_b; do
    [ "$(seal_key "$u")" = "$next" ] || fail "$u publishes $(seal_key "$u"), not $next"
done
submit "$url_b" "$tmp/old1" || fail "a report sealed to the previous key was refused"
grep -q "50 accepted" "$tmp/out" || fail "previous key"
PINHOLE_TOKEN=up "$cli" submit --url "$url_a" --collection 1 --users 40 --seed 3 --seal \
    --counts "$tmp/counts" >"$tmp/out" 2>&1 || fail "submit --seal"
grep -q "40 accepted" "$tmp/out" || fail "submit --seal after activate"
[ "$(stored)" -eq $expect ] || fail "$(stored) reports stored, not $expect"

# retire: reports sealed to the old key are refused (reason seal) and nothing of them is stored
[ "$(key retire previous)" = - ] || fail "retire kept the previous key"
restart
submit "$url_b" "$tmp/old2" && fail "reports sealed to a retired key were accepted"
grep -q "50 rejected" "$tmp/out" || fail "the refusal was not reported"
code=$(curl -s -o "$tmp/answer" -w '%{http_code}' -H 'Authorization: Bearer up' \
    -H 'Content-Type: application/octet-stream' --data-binary "@$tmp/old2" \
    "$url_a/v1/collections/1/reports")
[ "$code" = 422 ] || fail "a batch sealed to a retired key answered $code"
python3 - "$tmp/answer" <<'EOF' || fail "the answer: $(cat "$tmp/answer")"
import json, sys
a = json.load(open(sys.argv[1]))
assert a["accepted"] == 0 and a["rejected"] == 50, a
assert all(e["status"] == "rejected" and e["reason"] == "seal" for e in a["errors"]), a["errors"]
EOF
seals=50 # refused on url_a: this batch, and the one before when url_b is url_a
[ "$url_a" = "$url_b" ] && seals=100
curl -sf "$url_a/metrics" | grep -q "pinhole_reports_rejected_total{reason=\"seal\"} $seals\$" ||
    fail "the refusals are not counted under reason seal"
PINHOLE_TOKEN=up "$cli" submit --url "$url_b" --collection 1 --users 30 --seed 4 --seal \
    --counts "$tmp/counts" >"$tmp/out" 2>&1 || fail "submit --seal after retire"
grep -q "30 accepted" "$tmp/out" || fail "submit --seal after retire"
[ "$(stored)" -eq $((expect + 30)) ] || fail "$(stored) reports stored, not $((expect + 30))"
for r in $replicas; do stop_server $r; done
echo "ok: sealing key prepared, activated (old reports open), retired (refused, reason seal)" \
    "on $(echo $replicas | wc -w) replica(s)"
