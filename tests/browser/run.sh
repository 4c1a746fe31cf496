#!/usr/bin/env bash
# The dashboard in a real browser: start pinhole-server on a free loopback port with a temporary
# database, create a SUBTLEX-US collection, post simulated reports on two days, close the first
# day's time bucket, then drive headless
# Chromium (tests/browser/dashboard.mjs) and stop the server. usage: run.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

command -v node >/dev/null || { echo "browser test: node is missing (Debian package nodejs)"; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "browser test: chromium is missing (Debian package chromium)"; exit 1; }
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null)
fi

export PINHOLE_ADMIN_TOKEN=admin-$RANDOM$RANDOM PINHOLE_ANALYST_TOKEN=analyst-$RANDOM$RANDOM
"$build/server/pinhole-server" --port 0 --port_file "$tmp/port" --db "$tmp/pinhole.db" \
  > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "browser test: the server did not start"; cat "$tmp/server.log"; exit 1; }
url=http://127.0.0.1:$(cat "$tmp/port")

python3 - "$root/data/subtlex-us.tsv" > "$tmp/collection.json" <<'PY'
import json, sys
labels = [line.split('\t')[0] for line in open(sys.argv[1], encoding='utf-8').read().splitlines()[1:]]
print(json.dumps({'name': 'subtlex-words', 'mechanism': 'pgr', 'epsilon': 4, 'labels': labels,
                  'time_precision': 86400, 'min_reports': 100}))
PY
curl -sf -X POST -H "Authorization: Bearer $PINHOLE_ADMIN_TOKEN" -H "Content-Type: application/json" \
  --data-binary @"$tmp/collection.json" "$url/v1/collections" > /dev/null
day1=$((($(date +%s) / 86400 - 2) * 86400)) # the day before yesterday, 00:00 UTC: inside the
# collections' default report window (7 days back)
day2=$((day1 + 86400))
"$build/server/pinhole" submit --url "$url" --collection 1 --users 60000 --seed 11 --time $((day1 + 3600)) > /dev/null
"$build/server/pinhole" submit --url "$url" --collection 1 --users 40000 --seed 12 --time $((day2 + 3600)) > /dev/null
# the first day's time bucket closed (final), the second's open
PINHOLE_TOKEN=$PINHOLE_ADMIN_TOKEN "$build/server/pinhole" close --url "$url" --collection 1 --before "$day2" > /dev/null
# a discovery collection with its round 0 open (its collection is collection 2)
curl -sf -X POST -H "Authorization: Bearer $PINHOLE_ADMIN_TOKEN" -H "Content-Type: application/json" \
  --data '{"name": "new-words", "epsilon": 4, "devices": 100000}' "$url/v1/discoveries" > /dev/null

# A multi-attribute collection (6) of attributes with 2, 2 and 3 categories, made in one request: its
# pair collections 3, 4, 5 (k = 4, 6, 6; collection 2 is the discovery's round 0), devices drawn from small count files; the dashboard runs
# its analysis.
curl -sf -X POST -H "Authorization: Bearer $PINHOLE_ADMIN_TOKEN" -H "Content-Type: application/json" \
  --data '{"name": "survey", "epsilon": 2, "min_reports": 0, "attributes": [{"name": "a", "k": 2}, {"name": "b", "k": 2, "labels": ["no", "yes"]}, {"name": "c", "k": 3}]}' \
  "$url/v1/collections" > /dev/null
for k in 4 6; do
  python3 -c "import sys; k=int(sys.argv[1]); print('label\tcount'); [print('c%d\t%d' % (i, 10 + 7 * i)) for i in range(k)]" "$k" > "$tmp/k$k.tsv"
done
for c in 3 4 5; do
  k=$([ $c = 3 ] && echo 4 || echo 6)
  "$build/server/pinhole" submit --url "$url" --collection $c --users 4000 --seed $((20 + c)) --counts "$tmp/k$k.tsv" \
    --time $((day1 + 3600)) > /dev/null
done

node "$here/dashboard.mjs" "$url" "$PINHOLE_ANALYST_TOKEN" 1 "$day1" "$day2" "$build/dashboard.png" 6
