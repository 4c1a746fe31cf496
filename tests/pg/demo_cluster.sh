#!/bin/sh
# `make demo-cluster`: the demo on a PostgreSQL cluster of three pinhole-server replicas.
# Starts a throwaway PostgreSQL (tests/pg/cluster.sh) and three replicas on loopback sharing it,
# creates a collection of the SUBTLEX-US words (with a 7-day report window) on the first, lets
# simulated devices upload through all three at once, prints the top words as the third replica
# estimates them, and stops everything (also on failure or Ctrl-C).
# usage: demo_cluster.sh BUILD_DIR [USERS]   (default 300,000 devices: 100,000 per replica)
set -eu
build=$1 users=${2:-300000}
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/../.."
tmp=$(mktemp -d /tmp/pinhole-demo-cluster.XXXXXX)
uri= pids=
cleanup() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    [ -n "$uri" ] && "$here/cluster.sh" stop "$uri"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export PINHOLE_ADMIN_TOKEN="demo-admin-$$" PINHOLE_ANALYST_TOKEN="demo-analyst-$$"
export PINHOLE_UPLOADER_TOKEN="demo-uploader-$$"

echo "== PostgreSQL: a throwaway server on a unix socket (tests/pg/cluster.sh)"
uri=$(PINHOLE_PG_DURABLE=1 "$here/cluster.sh" start)
echo "   $uri"
echo "== three pinhole-server replicas on that database"
for r in 1 2 3; do
    "$build/server/pinhole-server" --database "$uri" --port 0 --port-file "$tmp/port.$r" \
        --threads 2 2>"$tmp/log.$r" &
    pids="$pids $!"
done
for r in 1 2 3; do
    i=0
    while [ ! -s "$tmp/port.$r" ]; do
        i=$((i + 1))
        [ $i -lt 3000 ] || { cat "$tmp/log.$r"; echo "replica $r did not start"; exit 1; }
        sleep 0.01
    done
    echo "   replica $r: http://127.0.0.1:$(cat "$tmp/port.$r")/"
done
url1=http://127.0.0.1:$(cat "$tmp/port.1")
echo "== a collection of the 74,286 SUBTLEX-US words, epsilon = 4, 7-day report window"
python3 - "$src/data/subtlex-us.tsv" >"$tmp/collection.json" <<'EOF'
import json, sys
words = [line.split('\t')[0] for line in open(sys.argv[1], encoding='utf-8').read().splitlines()[1:]]
print(json.dumps({"name": "words", "epsilon": 4, "labels": words, "min_reports": 1000,
                  "max_report_age": 7 * 86400, "max_clock_skew": 3600}))
EOF
curl -sf -H "Authorization: Bearer $PINHOLE_ADMIN_TOKEN" -H 'Content-Type: application/json' \
    --data-binary "@$tmp/collection.json" "$url1/v1/collections" >/dev/null
echo "== $users simulated devices uploading through the three replicas at once"
start=$(date +%s)
per=$((users / 3))
for r in 1 2 3; do
    PINHOLE_TOKEN=$PINHOLE_UPLOADER_TOKEN "$build/server/pinhole" submit \
        --url "http://127.0.0.1:$(cat "$tmp/port.$r")" --collection 1 --users "$per" \
        --counts "$src/data/subtlex-us.tsv" --seed $((2026 + r)) >"$tmp/submit.$r" 2>&1 &
    eval "up_$r=$!"
done
for r in 1 2 3; do
    eval "p=\$up_$r"
    wait "$p" || { cat "$tmp/submit.$r"; exit 1; }
    echo "   replica $r: $(tail -n 1 "$tmp/submit.$r")"
done
echo "   $((per * 3)) reports in $(($(date +%s) - start)) s"
echo "== the top 20 words, estimated by replica 3 from the counts of all three"
PINHOLE_TOKEN=$PINHOLE_ANALYST_TOKEN "$build/server/pinhole" query \
    --url "http://127.0.0.1:$(cat "$tmp/port.3")" --collection 1 --top 20
