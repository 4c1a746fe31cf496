#!/bin/sh
# Durable batched ingest, same reports, same machine, one run: a single pinhole-server on SQLite
# (synchronous=FULL), one replica on PostgreSQL, three replicas on PostgreSQL (fsync on, a
# throwaway server from tests/pg/cluster.sh). The reports are encoded beforehand (PGR,
# k = 74,286, epsilon = 4) and posted in batches of 1,000 by `pinhole submit` (4 connections per
# server). Prints, per setup: reports/s (wall) and its ratio to SQLite's, CPU microseconds of the
# servers and of PostgreSQL per report, reports per CPU-second of both together (what one core
# ingests), disk bytes per stored report, and the replicas' RSS.
# usage: bench_cluster.sh BUILD_DIR [REPORTS]   (default 300,000)
# PINHOLE_BENCH_PG_FLAGS: more flags for the PostgreSQL replicas, e.g. "--flush-reports 4000
# --flush-ms 50" (the writer's flush policy).
set -eu
build=$1 total=${2:-300000}
here="$(cd "$(dirname "$0")" && pwd)"
tmp=$(mktemp -d /tmp/pinhole-bench-cluster.XXXXXX)
uri= pids=
cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
    [ -n "$uri" ] && "$here/../pg/cluster.sh" stop "$uri"
    rm -rf "$tmp"
}
trap cleanup EXIT
export PINHOLE_ADMIN_TOKEN=adm PINHOLE_ANALYST_TOKEN=ana PINHOLE_UPLOADER_TOKEN=up
cli="$build/server/pinhole"
ticks=$(getconf CLK_TCK)

cpu_of() { # CPU seconds (user + system) of process $1, children included
    awk -v t="$ticks" '{ printf "%.2f", ($14 + $15 + $16 + $17) / t }' "/proc/$1/stat"
}
pg_cpu() { # CPU seconds of the PostgreSQL server in directory $1: postmaster, live children, reaped ones
    pm=$(head -n 1 "$1/data/postmaster.pid")
    {
        awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
        for p in $(pgrep -P "$pm"); do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true; done
    } | awk -v t="$ticks" '{ s += $1 } END { printf "%.2f", s / t }'
}

# the reports: 3 files, one per replica (the single servers get all three one after another)
per=$((total / 3))
for f in 1 2 3; do
    seq 1 "$per" | awk -v f="$f" '{ print ($1 * 7919 + f * 104729) % 74286 }' >"$tmp/values"
    "$cli" encode --k 74286 --epsilon 4 --collection 1 --precision 86400 --min-reports 1 --time "$(date +%s)" \
        --out "$tmp/r.$f" "$tmp/values" 2>/dev/null
done
n=$((per * 3))

start_server() { # start_server NAME DATABASE [FLAGS...]: sets pid_NAME, url_NAME
    name=$1 database=$2
    shift 2
    "$build/server/pinhole-server" --database "$database" --port 0 --port-file "$tmp/port.$name" \
        --threads 2 "$@" 2>>"$tmp/log.$name" &
    eval "pid_$name=$!"
    pids="$pids $!"
    while [ ! -s "$tmp/port.$name" ]; do sleep 0.01; done
    eval "url_$name=http://127.0.0.1:$(cat "$tmp/port.$name")"
}
collection() {
    curl -sf -H 'Authorization: Bearer adm' -H 'Content-Type: application/json' \
        -d '{"name": "bench", "epsilon": 4, "k": 74286, "min_reports": 1}' "$1/v1/collections" \
        >/dev/null
}
submit() { # submit URL FILE...
    u=$1; shift
    for f in "$@"; do
        PINHOLE_TOKEN=up "$cli" submit --url "$u" --collection 1 --reports "$f" --batch 1000 \
            --connections 4 >>"$tmp/submit.log" 2>&1 || { cat "$tmp/submit.log"; exit 1; }
    done
}
rss() { awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$1/status"; }
now() { date +%s.%N; }
sqlite_rate=
report() { # report NAME SECONDS SERVER_CPU PG_CPU BYTES RSS
    awk -v name="$1" -v s="$2" -v c="$3" -v p="$4" -v b="$5" -v n="$n" -v rss="$6" \
        -v base="${sqlite_rate:-0}" 'BEGIN {
        printf "%-24s %8.0f reports/s (%.2fx SQLite)  server CPU %5.2f us/report  PostgreSQL CPU" \
               " %5.2f us/report  %7.0f reports per CPU-second  %6.1f disk bytes/report  RSS %s\n",
               name, n / s, (base > 0 ? n / s / base : 1), c * 1e6 / n, p * 1e6 / n, n / (c + p),
               b / n, rss }'
}

echo "load before: $(uptime)"
# 1. SQLite, one server
start_server s "$tmp/single.db"
collection "$url_s"
c0=$(cpu_of "$pid_s"); t0=$(now)
submit "$url_s" "$tmp/r.1" "$tmp/r.2" "$tmp/r.3"
t1=$(now); c1=$(cpu_of "$pid_s")
kill -TERM "$pid_s"; wait "$pid_s" || true
bytes=$(stat -c %s "$tmp/single.db")
report "SQLite, 1 server" "$(echo "$t1 - $t0" | bc)" "$(echo "$c1 - $c0" | bc)" 0 "$bytes" "-"
sqlite_rate=$(echo "$n / ($t1 - $t0)" | bc -l)

uri=$(PINHOLE_PG_DURABLE=1 "$here/../pg/cluster.sh" start)
pgdir=$(echo "$uri" | sed 's/.*host=\([^&]*\).*/\1/')
db() { echo "$uri" | sed "s|///pinhole?|///$1?|"; }
size() { psql "$1" -Atc "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
    JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND c.relkind = 'r'"; }

# 2. PostgreSQL, one replica
psql "$uri" -qc "CREATE DATABASE one"
start_server p "$(db one)" ${PINHOLE_BENCH_PG_FLAGS:-}
collection "$url_p"
c0=$(cpu_of "$pid_p"); g0=$(pg_cpu "$pgdir"); t0=$(now)
submit "$url_p" "$tmp/r.1" "$tmp/r.2" "$tmp/r.3"
t1=$(now); c1=$(cpu_of "$pid_p"); g1=$(pg_cpu "$pgdir")
r=$(rss "$pid_p")
kill -TERM "$pid_p"; wait "$pid_p" || true
report "PostgreSQL, 1 replica" "$(echo "$t1 - $t0" | bc)" "$(echo "$c1 - $c0" | bc)" \
    "$(echo "$g1 - $g0" | bc)" "$(size "$(db one)")" "$r"

# 3. PostgreSQL, three replicas, each posting a third at the same time
psql "$uri" -qc "CREATE DATABASE three"
for r in a b c; do start_server $r "$(db three)" ${PINHOLE_BENCH_PG_FLAGS:-}; done
collection "$url_a"
curl -sf "$url_b/v1/collections/1/config" >/dev/null; curl -sf "$url_c/v1/collections/1/config" >/dev/null
c0=0; for r in a b c; do eval "p=\$pid_$r"; c0=$(echo "$c0 + $(cpu_of "$p")" | bc); done
g0=$(pg_cpu "$pgdir"); t0=$(now)
submit "$url_a" "$tmp/r.1" & s1=$!
submit "$url_b" "$tmp/r.2" & s2=$!
submit "$url_c" "$tmp/r.3" & s3=$!
wait $s1 $s2 $s3
t1=$(now); g1=$(pg_cpu "$pgdir")
c1=0; for r in a b c; do eval "p=\$pid_$r"; c1=$(echo "$c1 + $(cpu_of "$p")" | bc); done
r="$(rss "$pid_a") / $(rss "$pid_b") / $(rss "$pid_c")"
report "PostgreSQL, 3 replicas" "$(echo "$t1 - $t0" | bc)" "$(echo "$c1 - $c0" | bc)" \
    "$(echo "$g1 - $g0" | bc)" "$(size "$(db three)")" "$r"
psql "$(db three)" -Atc "SELECT 'reports (heap + primary key) ' ||
    round(sum(pg_total_relation_size(i.inhrelid))::numeric / (SELECT count(*) FROM reports), 1) ||
    ' bytes/report; counts ' || pg_size_pretty(pg_total_relation_size('counts')) ||
    ', WAL written since start ' || pg_size_pretty(pg_current_wal_lsn() - '0/0'::pg_lsn)
    FROM pg_inherits i WHERE i.inhparent = 'reports'::regclass"
stored=$(psql "$(db three)" -Atc "SELECT count(*) FROM reports")
[ "$stored" -eq "$n" ] || echo "WARNING: $stored reports stored, $n sent"
echo "load after: $(uptime)"
