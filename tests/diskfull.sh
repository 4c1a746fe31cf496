#!/bin/sh
# A full disk, on a small tmpfs: while running, batches are refused with 503 disk-full and reads
# go on; killed with SIGKILL while the disk is full (its WAL not checkpointed), the server starts
# again on the still full disk, read-only: every read route answers what it answered before the
# kill, every write gets 503 disk-full with Retry-After, /healthz and /metrics say so; once space
# is freed it takes writes again without a restart, and every acknowledged report is stored
# exactly once. Then SIGTERM on a full disk: the log says the WAL was not checkpointed, and the
# backup that docs/operations.md gives is complete and 0600. Last, with no token configured, the
# tokens the server generates cannot be written on a full disk: it starts all the same, the roles
# without a written token have none (401), and tokens an earlier run wrote stay in force.
# Needs root (mount); skipped otherwise, except under CI=true, where it fails.
# usage: diskfull.sh PINHOLE-SERVER PINHOLE
set -eu
server=$1 cli=$2
tmp=$(mktemp -d /tmp/pinhole-diskfull.XXXXXX)
disk=$tmp/disk
pid=
cleanup() { # the server reaped before the unmount (a process still exiting keeps the mount busy)
    if [ -n "$pid" ]; then
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        mountpoint -q "$disk" || break
        umount "$disk" 2>/dev/null || sleep 0.2
    done
    if mountpoint -q "$disk"; then umount -l "$disk" 2>/dev/null || true; fi
    rm -rf "$tmp" || true
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    grep -v '"event":"request"' "$tmp/server.log" 2>/dev/null | tail -n 20
    exit 1
}
mkdir "$disk"
if ! mount -t tmpfs -o size=8m,mode=0700 tmpfs "$disk" 2>/dev/null; then
    [ "${CI:-}" != true ] || fail "cannot mount a tmpfs: the test needs root"
    echo "SKIP: cannot mount a tmpfs (not root)"
    exit 77
fi

toks="--admin-token-file $tmp/adm --analyst-token-file $tmp/ana" # none: generated tokens
start() { # start the server on the database, wait for its port
    rm -f "$tmp/port"
    # shellcheck disable=SC2086 # $toks is a list of flags
    "$server" --db "$disk/d.db" --port 0 --port-file "$tmp/port" --threads 2 $toks \
        --checkpoint-interval 3600 --retry-after 7 2>>"$tmp/server.log" &
    pid=$!
    i=0
    while [ ! -s "$tmp/port" ]; do
        kill -0 "$pid" 2>/dev/null || { pid=; fail "the server did not start"; }
        i=$((i + 1)); [ $i -lt 1000 ] || fail "the server did not start"; sleep 0.01
    done
    url=http://127.0.0.1:$(cat "$tmp/port")
}
fill() { dd if=/dev/zero of="$disk/fill.$1" bs=4k 2>/dev/null || true; }
# GET a route as the analyst: status code to stdout, body to $tmp/body
get() { getas ana "$1"; }
getas() { curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" "$url$2"; }
# a write: METHOD PATH TOKEN CONTENT-TYPE DATA-FILE; status, then the headers and body in $tmp/w
write() { # (TOKEN "-": none, as devices post reports when no uploader token is set)
    auth="Authorization: Bearer $3"
    [ "$3" != - ] || auth="X-Token: none"
    curl -s -D "$tmp/w.head" -o "$tmp/w" -w '%{http_code}' -X "$1" -H "$auth" \
        -H "Content-Type: $4" --data-binary "@$5" "$url$2"
}
refused() { # a write must be answered 503 disk-full with Retry-After: 7
    code=$(write "$@")
    [ "$code" = 503 ] && grep -q '"type":"urn:pinhole:problem:disk-full"' "$tmp/w" &&
        grep -qi '^retry-after: 7' "$tmp/w.head" || fail "$1 $2 answered $code $(cat "$tmp/w")"
}
submit() { # ROUND USERS: simulated devices (seed ROUND), acknowledged reports to ack.ROUND
    PINHOLE_TOKEN= "$cli" submit --url "$url" --collection 1 --users "$2" --counts "$tmp/counts" \
        --seed "$1" --time "$now" --batch 250 --connections 1 --retries 0 \
        --ack-log "$tmp/ack.$1" >"$tmp/submit.$1" 2>&1
}
reads="/v1/collections /v1/collections/1 /v1/collections/1/config /v1/collections/1/labels
/v1/keys /v1/collections/1/histogram /v1/collections/1/timeline /v1/jobs /v1/collections/1/jobs"
snapshot() { # the body of every read route into $tmp/$1.N
    n=0
    for r in $reads; do
        n=$((n + 1))
        [ "$(get "$r")" = 200 ] || fail "GET $r answered $(cat "$tmp/body")"
        mv "$tmp/body" "$tmp/$1.$n"
    done
}

now=$(date +%s) # one report time for every round: a retry is the same report
echo adm >"$tmp/adm"
echo ana >"$tmp/ana"
chmod 600 "$tmp/adm" "$tmp/ana"
printf 'item\tcount\n' >"$tmp/counts"
for i in $(seq 1 16); do printf 'w%d\t%d\n' "$i" $((i * i)) >>"$tmp/counts"; done
printf '{"name": "full", "epsilon": 2, "k": 16, "min_reports": 0, "labels": [%s]}' \
    "$(seq -s, -f '"w%g"' 1 16)" >"$tmp/coll.json"
printf '{"type": "sleep", "params": {"seconds": 0.01}}' >"$tmp/job.json"
printf 'not a batch' >"$tmp/batch"

start
[ "$(write POST /v1/collections adm application/json "$tmp/coll.json")" = 201 ] ||
    fail "cannot create the collection: $(cat "$tmp/w")"
[ "$(write POST /v1/jobs ana application/json "$tmp/job.json")" = 202 ] ||
    fail "cannot queue a job: $(cat "$tmp/w")"
submit 1 3000 || fail "round 1 (free disk) was refused: $(cat "$tmp/submit.1")"
# a batch of ten reports, posted by hand below to read the server's answer
get /v1/collections/1/config >/dev/null && mv "$tmp/body" "$tmp/cfg"
get /v1/keys >/dev/null
seq 0 9 >"$tmp/values"
"$cli" encode --config "$tmp/cfg" --verify-key "$(sed 's/.*"config_signing_key":"\([0-9a-f]*\)".*/\1/' \
    "$tmp/body")" --out "$tmp/ten" "$tmp/values" 2>/dev/null || fail "pinhole encode"
[ "$(wc -l <"$tmp/ack.1")" -eq 3000 ] || fail "round 1: $(wc -l <"$tmp/ack.1") of 3000 acknowledged"

# 1. The disk fills while the server runs: batches refused (503 disk-full), reads served.
fill 1
if submit 2 2000; then fail "round 2 was acknowledged on a full disk"; fi
[ ! -s "$tmp/ack.2" ] || fail "reports acknowledged on a full disk"
refused POST /v1/collections/1/reports - application/octet-stream "$tmp/ten"
[ "$(get /healthz)" = 503 ] && grep -q '"status":"disk-full"' "$tmp/body" ||
    fail "/healthz on a full disk: $(cat "$tmp/body")"
[ "$(get /v1/collections/1)" = 200 ] && grep -q '"reports":3000' "$tmp/body" ||
    fail "reads on a full disk: $(cat "$tmp/body")"
# space freed for a moment: the refused reports are taken now (new, not duplicates)
rm -f "$disk/fill.1"
submit 2 2000 || fail "round 2 once space was freed: $(cat "$tmp/submit.2")"
fill 1
if submit 3 500; then fail "round 3 was acknowledged on a full disk"; fi
[ ! -s "$tmp/ack.3" ] || fail "reports acknowledged on a full disk"
snapshot before
grep -q '"reports":5000' "$tmp/before.2" || fail "collection 1: $(cat "$tmp/before.2")"

# 2. SIGKILL with the disk still full; the WAL holds the commits. The server starts read-only.
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
[ -s "$disk/d.db-wal" ] || fail "no WAL left by the kill: the test would not test its recovery"
fill 2
start
grep -q '"event":"store_read_only"' "$tmp/server.log" || fail "the log does not say read-only"
[ "$(get /healthz)" = 503 ] && grep -q '"status":"read-only","writable":false' "$tmp/body" ||
    fail "/healthz read-only: $(cat "$tmp/body")"
get /metrics >/dev/null
grep -q '^pinhole_store_writable 0$' "$tmp/body" || fail "/metrics does not say read-only"
snapshot after
n=0
for r in $reads; do
    n=$((n + 1))
    cmp -s "$tmp/before.$n" "$tmp/after.$n" ||
        fail "GET $r read-only: $(cat "$tmp/after.$n"), before the kill: $(cat "$tmp/before.$n")"
done
refused POST /v1/collections adm application/json "$tmp/coll.json"
refused POST /v1/collections/1/reports - application/octet-stream "$tmp/ten"
refused POST /v1/collections/1/reports - application/octet-stream "$tmp/batch"
refused POST /v1/jobs ana application/json "$tmp/job.json"
refused DELETE /v1/collections/1 adm application/json "$tmp/job.json"
if submit 6 500; then fail "round 6 was acknowledged read-only"; fi
[ ! -s "$tmp/ack.6" ] || fail "reports acknowledged read-only"

# 3. Space is freed: writable again without a restart (the server retries every 5 s).
rm -f "$disk"/fill.*
i=0
until [ "$(get /healthz)" = 200 ]; do
    i=$((i + 1)); [ $i -lt 150 ] || fail "still read-only 15 s after space was freed"; sleep 0.1
done
grep -q '"event":"store_writable"' "$tmp/server.log" || fail "the log does not say writable"
submit 4 2000 || fail "round 4 (space freed) was refused: $(cat "$tmp/submit.4")"
submit 1 3000 || fail "the retry of round 1 was refused: $(cat "$tmp/submit.1")"
[ "$(write POST /v1/jobs ana application/json "$tmp/job.json")" = 202 ] ||
    fail "no job queued after space was freed: $(cat "$tmp/w")"
[ "$(get /v1/collections/1)" = 200 ] && grep -q '"reports":7000' "$tmp/body" ||
    fail "after the retries: $(cat "$tmp/body") (7000 reports acknowledged)"

# 4. SIGTERM on a full disk (the commits of round 5 only in the WAL): the log says the WAL was not
# checkpointed; the documented backup is complete and 0600.
submit 5 2000 || fail "round 5 was refused: $(cat "$tmp/submit.5")"
fill 3
kill -TERM "$pid"
wait "$pid" || fail "the server did not stop cleanly"
pid=
tail -n 1 "$tmp/server.log" | grep '"event":"stopped","clean":false' |
    grep -q 'not a complete copy' || fail "the stop on a full disk: $(tail -n 1 "$tmp/server.log")"
[ -s "$disk/d.db-wal" ] || fail "no WAL left"
"$server" check --db "$disk/d.db" >/dev/null || fail "check of the database left on the full disk"
(umask 077; sqlite3 "$disk/d.db" ".backup '$tmp/backup.db'") || fail "the documented backup failed"
[ "$(stat -c %a "$tmp/backup.db")" = 600 ] || fail "backup mode $(stat -c %a "$tmp/backup.db")"
sort -u "$tmp"/ack.* >"$tmp/acked"
sqlite3 "$tmp/backup.db" "SELECT lower(hex(report_id)) || ' ' || bucket || ' ' ||
    lower(hex(payload)) FROM reports" | sort >"$tmp/stored"
[ "$(wc -l <"$tmp/acked")" -eq 9000 ] || fail "$(wc -l <"$tmp/acked") distinct reports acknowledged"
cmp -s "$tmp/acked" "$tmp/stored" ||
    fail "the backup holds $(wc -l <"$tmp/stored") reports, not the 9000 acknowledged as sent"
"$server" check --db "$tmp/backup.db" >/dev/null || fail "the backup's counts differ from a recount"

# 5. No token configured, disk full, no token file from an earlier run: the generated tokens
# cannot be written; the server starts, says so (never printing a token), and has no admin or
# analyst token for the run: those routes answer 401, writes are refused anyway.
toks=
: >"$tmp/server.log"
start
grep '"event":"generated_tokens"' "$tmp/server.log" | grep '"level":"error"' |
    grep '"error":"No space left on device"' | grep -q '"no_token":"admin,analyst"' ||
    fail "the log does not say the generated tokens could not be written"
! grep -Eq '[^0-9a-f][0-9a-f]{48}[^0-9a-f]' "$tmp/server.log" || fail "a token in the log"
[ ! -e "$disk/d.db.tokens" ] && [ ! -e "$disk/d.db.tokens.tmp" ] || fail "a token file left"
[ "$(getas ana /v1/collections)" = 401 ] || fail "analyst route without a token: $(cat "$tmp/body")"
[ "$(getas '' /v1/collections)" = 401 ] || fail "analyst route, no Authorization: $(cat "$tmp/body")"
[ "$(write POST /v1/collections adm application/json "$tmp/coll.json")" = 401 ] ||
    fail "admin route without a token: $(cat "$tmp/w")"
[ "$(curl -s -o "$tmp/body" -w '%{http_code}' "$url/v1/collections/1/config")" = 200 ] ||
    fail "the device's config: $(cat "$tmp/body")"
kill -TERM "$pid"; wait "$pid" || true; pid=
# Space free: the tokens are written (0600); the disk full again, a restart keeps them.
rm -f "$disk"/fill.*
start
[ "$(stat -c %a "$disk/d.db.tokens")" = 600 ] || fail "token file mode $(stat -c %a "$disk/d.db.tokens")"
cp "$disk/d.db.tokens" "$tmp/tokens"
ana=$(sed -n 's/^analyst //p' "$tmp/tokens")
adm=$(sed -n 's/^admin //p' "$tmp/tokens")
[ ${#ana} -eq 48 ] && [ ${#adm} -eq 48 ] || fail "the token file: $(wc -l <"$tmp/tokens") lines"
[ "$(getas "$ana" /v1/collections/1)" = 200 ] && grep -q '"reports":9000' "$tmp/body" ||
    fail "with the generated analyst token: $(cat "$tmp/body")"
kill -TERM "$pid"; wait "$pid" || fail "the server did not stop cleanly"; pid=
fill 4
: >"$tmp/server.log"
start
grep '"event":"generated_tokens"' "$tmp/server.log" | grep '"level":"warn"' |
    grep -q '"reused":2,"no_token":null' || fail "the log does not say the earlier tokens stay"
cmp -s "$disk/d.db.tokens" "$tmp/tokens" || fail "the token file changed on a full disk"
[ ! -e "$disk/d.db.tokens.tmp" ] || fail "a partial token file left"
[ "$(getas "$ana" /v1/collections/1)" = 200 ] && grep -q '"reports":9000' "$tmp/body" ||
    fail "with the earlier analyst token: $(cat "$tmp/body")"
refused POST /v1/collections "$adm" application/json "$tmp/coll.json"
! grep -Fq -e "$ana" -e "$adm" "$tmp/server.log" || fail "a token in the log"
echo "ok: read-only start on a full disk, reads as before the kill, writes 503 disk-full;" \
    "writable again once space was freed; 9000 acknowledged reports stored once; backup complete;" \
    "generated tokens unwritable on a full disk: started, no token (401), earlier tokens kept"
