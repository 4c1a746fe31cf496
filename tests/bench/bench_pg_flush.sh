#!/bin/sh
# Where a PostgreSQL flush spends its time: the store alone (tests/bench/bench_store, one handle,
# transactions of TXN random-id reports, no HTTP) against a throwaway durable PostgreSQL
# (tests/pg/cluster.sh, fsync on, pg_stat_statements loaded). Prints the store process's CPU per
# report, PostgreSQL's CPU per report (every server process, exited backends included), WAL bytes
# per report and the statements by total execution time (per flush and per report).
# usage: tests/bench/bench_pg_flush.sh BUILD_DIR [REPORTS] [TXN]   (default 300,000 and 1,000)
# PINHOLE_PG_OPTS as for tests/pg/cluster.sh (e.g. "wal_compression=on").
set -eu
build=$1 total=${2:-300000} txn=${3:-1000}
here="$(cd "$(dirname "$0")" && pwd)"
ticks=$(getconf CLK_TCK)
PINHOLE_PG_OPTS="shared_preload_libraries=pg_stat_statements pg_stat_statements.track=all ${PINHOLE_PG_OPTS:-}"
export PINHOLE_PG_OPTS
uri=$(PINHOLE_PG_DURABLE=1 "$here/../pg/cluster.sh" start)
trap '"$here/../pg/cluster.sh" stop "$uri"' EXIT
dir=$(echo "$uri" | sed 's/.*host=\([^&]*\).*/\1/')
pg_cpu() { # CPU seconds of the PostgreSQL server: postmaster, its live children, the reaped ones
    pm=$(head -n 1 "$dir/data/postmaster.pid")
    {
        awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
        for p in $(pgrep -P "$pm"); do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true; done
    } | awk -v t="$ticks" '{ s += $1 } END { printf "%.2f", s / t }'
}
psql "$uri" -qc "CREATE EXTENSION pg_stat_statements"
w0=$(psql "$uri" -Atc "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
psql "$uri" -qAtc "SELECT pg_stat_statements_reset()" >/dev/null
g0=$(pg_cpu)
echo "load before: $(uptime)"
"$build/tests/bench/bench_store" "$uri" "$total" "$txn"
sleep 1 # the backend of bench_store exits and is reaped by the postmaster
g1=$(pg_cpu)
w1=$(psql "$uri" -Atc "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
echo "load after: $(uptime)"
awk -v g="$(echo "$g1 - $g0" | bc)" -v w="$(echo "$w1 - $w0" | bc)" -v n="$total" 'BEGIN {
    printf "PostgreSQL CPU %.2f us/report, WAL %.0f bytes/report\n", g * 1e6 / n, w / n }'
psql "$uri" -Atc "SELECT 'reports (heap + primary key) ' ||
    round(sum(pg_total_relation_size(i.inhrelid))::numeric / (SELECT count(*) FROM reports), 1) ||
    ' bytes/report' FROM pg_inherits i WHERE i.inhparent = 'reports'::regclass"
echo "statements (ms per flush of $txn, us per report, calls):"
psql "$uri" -AtF '  ' -c "SELECT round((total_exec_time / $total * $txn)::numeric, 2),
    round((total_exec_time * 1000 / $total)::numeric, 2), calls,
    regexp_replace(left(query, 110), '\s+', ' ', 'g')
    FROM pg_stat_statements WHERE calls > 0 ORDER BY total_exec_time DESC LIMIT 12"
