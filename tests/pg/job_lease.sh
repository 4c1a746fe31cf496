#!/bin/sh
# A job outlives the replica running it: two replicas share the database PINHOLE_PG_URI names (run
# under tests/pg/cluster.sh run) with 2-second job leases; a 6-second job starts on one of them,
# which is killed with SIGKILL mid-job; the lease runs out, the other replica takes the job over
# and finishes it (second attempt), and answers for it.
# usage: job_lease.sh PINHOLE-SERVER
set -eu
server=$1
: "${PINHOLE_PG_URI:?run under tests/pg/cluster.sh run}"
tmp=$(mktemp -d /tmp/pinhole-job-lease.XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    psql "$PINHOLE_PG_URI" -c "SELECT id, status, attempts, lease_owner, error FROM jobs" || true
    tail -n 5 "$tmp"/log.* 2>/dev/null || true
    exit 1
}
export PINHOLE_ADMIN_TOKEN=adm PINHOLE_ANALYST_TOKEN=ana PINHOLE_PG_JOB_LEASE=2
for r in a b; do
    "$server" --database "$PINHOLE_PG_URI" --port 0 --port-file "$tmp/port.$r" 2>"$tmp/log.$r" &
    pids="$pids $!"
    i=0
    while [ ! -s "$tmp/port.$r" ]; do
        i=$((i + 1)); [ $i -lt 3000 ] || fail "replica $r did not start"; sleep 0.01
    done
    eval "url_$r=http://127.0.0.1:$(cat "$tmp/port.$r")"
done
curl -sf -H 'Authorization: Bearer adm' -H 'Content-Type: application/json' \
    -d '{"name": "j", "epsilon": 2, "k": 10}' "$url_a/v1/collections" >/dev/null ||
    fail "create the collection"
curl -sf -H 'Authorization: Bearer ana' -H 'Content-Type: application/json' \
    -d '{"type": "sleep", "params": {"seconds": 6}}' "$url_a/v1/collections/1/jobs" >/dev/null ||
    fail "post the job"

# the replica holding the lease (its pid is part of the lease owner's name), once it made progress
i=0
while :; do
    row=$(psql "$PINHOLE_PG_URI" -Atc "SELECT lease_owner, progress FROM jobs WHERE id = 1 AND
        status = 'running' AND progress > 0")
    [ -n "$row" ] && break
    i=$((i + 1)); [ $i -lt 500 ] || fail "the job did not start"; sleep 0.02
done
holder=$(echo "$row" | cut -d: -f2)
case " $pids " in *" $holder "*) ;; *) fail "the lease holder $holder is not a replica" ;; esac
kill -9 "$holder"
set -- $pids
if [ "$holder" = "$1" ]; then survivor=$url_b; else survivor=$url_a; fi

# the survivor takes the job over once the lease ran out, and finishes it (within 40 s)
deadline=$(($(date +%s) + 40))
while :; do
    job=$(curl -sf -H 'Authorization: Bearer ana' "$survivor/v1/jobs/1") || fail "GET the job"
    case "$job" in *'"status":"done"'*) break ;; esac
    case "$job" in *'"status":"failed"'* | *'"status":"canceled"'*) fail "job ended: $job" ;; esac
    [ "$(date +%s)" -lt "$deadline" ] || fail "the job did not finish: $job"; sleep 0.1
done
[ "$(psql "$PINHOLE_PG_URI" -Atc "SELECT attempts FROM jobs WHERE id = 1")" = 2 ] ||
    fail "the job was not run exactly twice"
echo "ok: the job survived the SIGKILL of replica $holder and finished on the other one"
