#!/bin/sh
# Jobs across replicas: two replicas share the database PINHOLE_PG_URI names (run under
# tests/pg/cluster.sh run) with 2-second job leases.
# 1. A cancel reaches the replica holding the job: a 30-second job starts on one replica, DELETE
#    /v1/jobs/{id} is sent to the other; the job ends canceled within 5 s, its lease released, run
#    once.
# 2. A job outlives the replica running it: a 6-second job starts on one of them, which is killed
#    with SIGKILL mid-job; the lease runs out, the other replica takes the job over and finishes it
#    (second attempt), and answers for it.
# usage: job_lease.sh PINHOLE-SERVER
set -eu
server=$1
# shellcheck source=tests/support/server_lib.sh
. "$(dirname "$0")/../support/server_lib.sh"
: "${PINHOLE_PG_URI:?run under tests/pg/cluster.sh run}"
server_tmp job-lease
fail() {
    {
        echo "FAIL: $*"
        psql "$PINHOLE_PG_URI" -c "SELECT id, status, attempts, lease_owner, error FROM jobs" || true
        tail -n 5 "$tmp"/log.* 2>/dev/null || true
    } >&2
    exit 1
}
export PINHOLE_ADMIN_TOKEN=adm PINHOLE_ANALYST_TOKEN=ana PINHOLE_PG_JOB_LEASE=2
for r in a b; do start_server $r "$server" --database "$PINHOLE_PG_URI"; done
curl -sf -H 'Authorization: Bearer adm' -H 'Content-Type: application/json' \
    -d '{"name": "j", "epsilon": 2, "k": 10}' "$url_a/v1/collections" >/dev/null ||
    fail "create the collection"

# holder JOB: the pid of the replica holding job JOB's lease (part of the lease owner's name), once
# the job made progress
holder() {
    i=0
    while :; do
        row=$(psql "$PINHOLE_PG_URI" -Atc "SELECT lease_owner, progress FROM jobs WHERE id = $1 AND
            status = 'running' AND progress > 0")
        [ -n "$row" ] && break
        i=$((i + 1)); [ $i -lt 500 ] || fail "job $1 did not start"; sleep 0.02
    done
    h=$(echo "$row" | cut -d: -f2)
    case " $pids " in *" $h "*) ;; *) fail "the lease holder $h is not a replica" ;; esac
    echo "$h"
}
# other PID: the URL of the replica that is not PID
other() {
    set -- "$1" $pids
    if [ "$1" = "$2" ]; then echo "$url_b"; else echo "$url_a"; fi
}

# 1. cancel job 1 through the replica that does not run it
curl -sf -H 'Authorization: Bearer ana' -H 'Content-Type: application/json' \
    -d '{"type": "sleep", "params": {"seconds": 30}}' "$url_a/v1/collections/1/jobs" >/dev/null ||
    fail "post job 1"
holder=$(holder 1)
elsewhere=$(other "$holder")
t0=$(date +%s.%N)
curl -sf -X DELETE -H 'Authorization: Bearer ana' "$elsewhere/v1/jobs/1" >/dev/null ||
    fail "DELETE job 1 through the other replica"
while :; do
    st=$(psql "$PINHOLE_PG_URI" -Atc "SELECT status FROM jobs WHERE id = 1")
    [ "$st" = canceled ] && break
    [ "$st" = running ] || fail "job 1 ended $st, not canceled"
    elapsed=$(awk "BEGIN { print $(date +%s.%N) - $t0 }")
    awk "BEGIN { exit !($elapsed < 5) }" || fail "job 1 still $st $elapsed s after the cancel"
    sleep 0.02
done
elapsed=$(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $t0 }")
row=$(psql "$PINHOLE_PG_URI" -Atc "SELECT coalesce(lease_owner, 'released'), attempts,
    coalesce(error, '') FROM jobs WHERE id = 1")
[ "$row" = "released|1|" ] || fail "job 1 after its cancel (lease_owner|attempts|error): $row"
job=$(curl -sf -H 'Authorization: Bearer ana' "$elsewhere/v1/jobs/1") || fail "GET job 1"
case "$job" in *'"status":"canceled"'*) ;; *) fail "job 1 through the other replica: $job" ;; esac
echo "ok: job 1, held by replica $holder, canceled through the other one in $elapsed s"

# 2. job 2 survives the SIGKILL of the replica holding it
curl -sf -H 'Authorization: Bearer ana' -H 'Content-Type: application/json' \
    -d '{"type": "sleep", "params": {"seconds": 6}}' "$url_a/v1/collections/1/jobs" >/dev/null ||
    fail "post job 2"
holder=$(holder 2)
kill -9 "$holder"
survivor=$(other "$holder")

# the survivor takes the job over once the lease ran out, and finishes it (within 40 s)
deadline=$(($(date +%s) + 40))
while :; do
    job=$(curl -sf -H 'Authorization: Bearer ana' "$survivor/v1/jobs/2") || fail "GET job 2"
    case "$job" in *'"status":"done"'*) break ;; esac
    case "$job" in *'"status":"failed"'* | *'"status":"canceled"'*) fail "job ended: $job" ;; esac
    [ "$(date +%s)" -lt "$deadline" ] || fail "the job did not finish: $job"; sleep 0.1
done
[ "$(psql "$PINHOLE_PG_URI" -Atc "SELECT attempts FROM jobs WHERE id = 2")" = 2 ] ||
    fail "the job was not run exactly twice"
echo "ok: job 2 survived the SIGKILL of replica $holder and finished on the other one"
