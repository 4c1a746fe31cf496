#!/bin/sh
# Server ingest benchmarks (docs/BENCHMARKS.md "Server ingest"), with wrk as the load tool:
#  1. single-report POSTs, durable (synchronous=FULL), each report new to the replay check;
#  2. batches of 1,000 reports per POST, durable and replay-checked;
#  3. histogram query latency (k = 74,286) once the collection holds TOTAL reports.
# usage: tests/bench/bench_ingest.sh BUILD_DIR [SECONDS] [TOTAL]   (e.g. build 10 10000000)
# SERVER_ARGS: more server options (e.g. SERVER_ARGS='--check-every-request 1')
set -eu
build=$1 secs=${2:-10} total=${3:-10000000}
here=$(cd "$(dirname "$0")" && pwd)
server=$build/server/pinhole-server cli=$build/server/pinhole
tmp=$(mktemp -d /tmp/pinhole-bench.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -TERM $pid; wait; rm -rf "$tmp"' EXIT
PINHOLE_ADMIN_TOKEN=adm PINHOLE_ANALYST_TOKEN=ana "$server" --db "$tmp/bench.db" --port 0 \
    --port-file "$tmp/port" --threads 2 --connection-limit 4096 --connections-per-address 4096 \
    --cache-mib 1024 ${SERVER_ARGS:-} 2>"$tmp/log" &
pid=$!
while [ ! -s "$tmp/port" ]; do sleep 0.01; done
url=http://127.0.0.1:$(cat "$tmp/port")
curl -sf -H 'Authorization: Bearer adm' -H 'Content-Type: application/json' \
    -d '{"name": "bench", "epsilon": 4, "k": 74286, "min_reports": 0}' "$url/v1/collections" >/dev/null
curl -sf "$url/v1/collections/1/config" -o "$tmp/cfg"
key=$(curl -sf "$url/v1/keys" | sed 's/.*"config_signing_key":"\([0-9a-f]*\)".*/\1/')
echo 12345 | "$cli" encode --config "$tmp/cfg" --verify-key "$key" --out "$tmp/one" 2>/dev/null
# the report without the 8-byte batch header and its 4-byte length
REPORT_HEX=$(od -An -tx1 -v -j12 "$tmp/one" | tr -d ' \n')
export REPORT_HEX
accepted() { curl -sf "$url/metrics" | sed -n 's/^pinhole_reports_accepted_total //p'; }
# CPU seconds the server has used (user + system), a figure the machine's other load moves less
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$pid/stat"; }
per_report() { awk -v c0="$1" -v c1="$(cpu)" -v n="$2" \
    'BEGIN { printf "server CPU: %.1f us per report (%.2f s for %d)\n", (c1 - c0) / n * 1e6, c1 - c0, n }'; }

echo "== 1. single-report POSTs, durable: wrk -t2 -c256 -d${secs}s"
a0=$(accepted) c0=$(cpu)
BATCH=1 wrk -t2 -c256 -d"${secs}s" --timeout 10s -s "$here/ingest.lua" "$url/v1/collections/1/reports"
echo "stored by the server: $(( $(accepted) - a0 )) reports"
per_report "$c0" $(( $(accepted) - a0 ))

echo "== 2. batches of 1000 reports, durable, replay-checked: wrk -t2 -c16 -d${secs}s"
a0=$(accepted) c0=$(cpu)
BATCH=1000 wrk -t2 -c16 -d"${secs}s" --timeout 30s -s "$here/ingest.lua" "$url/v1/collections/1/reports"
echo "stored by the server: $(( $(accepted) - a0 )) reports"
per_report "$c0" $(( $(accepted) - a0 ))

n=$(accepted)
if [ "$n" -lt "$total" ]; then
    echo "== filling up to $total reports (batches of 1000)"
    BATCH=1000 wrk -t2 -c16 -d3600s --timeout 30s -s "$here/ingest.lua" \
        "$url/v1/collections/1/reports" >/dev/null &
    wpid=$!
    while [ "$(accepted)" -lt "$total" ]; do sleep 1; done
    kill $wpid; wait $wpid 2>/dev/null || true
fi
echo "== 3. histogram query latency, $(accepted) reports, k = 74,286: wrk -t1 -c1 -d${secs}s"
sleep 2
for q in "top=20" "top=0"; do
    echo "-- histogram?$q"
    wrk -t1 -c1 -d"${secs}s" --timeout 30s --latency -H 'Authorization: Bearer ana' \
        "$url/v1/collections/1/histogram?$q" | sed -n '/Latency Distribution/,/requests in/p'
done
echo "== 4. restart with $(accepted) reports stored (SIGTERM, start, first answer)"
kill -TERM $pid; wait $pid; pid=
ls -la "$tmp"
t0=$(date +%s.%N)
PINHOLE_ADMIN_TOKEN=adm PINHOLE_ANALYST_TOKEN=ana "$server" --db "$tmp/bench.db" --port 0 \
    --port-file "$tmp/port2" --threads 2 2>>"$tmp/log" &
pid=$!
while [ ! -s "$tmp/port2" ]; do sleep 0.01; done
url=http://127.0.0.1:$(cat "$tmp/port2")
curl -sf "$url/healthz" >/dev/null
echo "restart to first answer: $(awk "BEGIN { print $(date +%s.%N) - $t0 }") s (the replay index is rebuilt)"
