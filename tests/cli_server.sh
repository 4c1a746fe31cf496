#!/bin/sh
# The CLI against a running server: pinhole encode -> pinhole submit --reports (plain and sealed),
# pinhole submit --users (simulated devices), retries acknowledged as duplicates, pinhole query's
# table, the server's refusals reaching the CLI as errors, closing time buckets (pinhole close,
# query --closed, the final flag in the table and CSV), labels (encode --labels), and the tables
# of a multi-attribute collection's analysis.
# usage: cli_server.sh PINHOLE-SERVER PINHOLE COUNTS-FILE [postgresql]
# With `postgresql` the server stores into the database PINHOLE_PG_URI names (tests/pg/cluster.sh
# run sets it), else into a temporary SQLite file.
set -eu
server=$1 cli=$2 counts=$3
# shellcheck source=tests/support/server_lib.sh
. "$(dirname "$0")/support/server_lib.sh"
server_tmp cli-server
db="$tmp/d.db"
[ "${4:-}" = postgresql ] && db="$PINHOLE_PG_URI"
fail() { echo "FAIL: $*"; cat "$tmp/out" 2>/dev/null; exit 1; }

start_server s env PINHOLE_ADMIN_TOKEN=adm PINHOLE_ANALYST_TOKEN=ana PINHOLE_UPLOADER_TOKEN=up \
    "$server" --database "$db"
# shellcheck disable=SC2154 # set by start_server
url=$url_s
post() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' -d "$2" "$url/v1/collections"; }
[ "$(post adm '{"name": "small", "epsilon": 3, "k": 50, "min_reports": 100}')" = 201 ] ||
    fail "create collection 1"
[ "$(post adm '{"name": "words", "epsilon": 4, "k": 74286, "min_reports": 1000}')" = 201 ] ||
    fail "create collection 2"

curl -sf "$url/v1/collections/1/config" -o "$tmp/cfg"
keys=$(curl -sf "$url/v1/keys")
sign=$(echo "$keys" | sed 's/.*"config_signing_key":"\([0-9a-f]*\)".*/\1/')
seal=$(echo "$keys" | sed 's/.*"seal_key":"\([0-9a-f]*\)".*/\1/')
seq 0 999 | awk '{ print ($1 * $1) % 5 }' >"$tmp/values"
"$cli" encode --config "$tmp/cfg" --verify-key "$sign" --out "$tmp/plain" "$tmp/values" 2>/dev/null
"$cli" encode --config "$tmp/cfg" --verify-key "$sign" --seal-key "$seal" --out "$tmp/sealed" \
    "$tmp/values" 2>/dev/null

# without the uploader token the server refuses, and submit says so
if PINHOLE_TOKEN= "$cli" submit --url "$url" --collection 1 --reports "$tmp/plain" --retries 0 \
    >"$tmp/out" 2>&1; then fail "submit without the uploader token succeeded"; fi
grep -q "401" "$tmp/out" || fail "no 401 reported"
export PINHOLE_TOKEN=up
"$cli" submit --url "$url" --collection 1 --reports "$tmp/plain" --batch 300 >"$tmp/out" 2>&1 ||
    fail "submit plain"
grep -q "1000 accepted, 0 duplicates" "$tmp/out" || fail "plain reports not all accepted"
"$cli" submit --url "$url" --collection 1 --reports "$tmp/plain" >"$tmp/out" 2>&1 || fail "retry"
grep -q "0 accepted, 1000 duplicates" "$tmp/out" || fail "a retry was not acknowledged"
"$cli" submit --url "$url" --collection 1 --reports "$tmp/sealed" >"$tmp/out" 2>&1 ||
    fail "submit sealed"
grep -q "1000 accepted" "$tmp/out" || fail "sealed reports not all accepted"
"$cli" submit --url "$url" --collection 2 --users 5000 --counts "$counts" --seed 7 --seal \
    >"$tmp/out" 2>&1 || fail "submit simulated devices"
grep -q "5000 accepted" "$tmp/out" || fail "simulated reports not all accepted"
# reports made for collection 1 are refused by collection 2 (other parameters)
if "$cli" submit --url "$url" --collection 2 --reports "$tmp/plain" --retries 0 >"$tmp/out" 2>&1
then fail "reports for another collection were accepted"; fi
grep -q "1000 rejected" "$tmp/out" || fail "the refusal was not reported"

PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection 1 --top 5 >"$tmp/out" 2>&1 || fail "query"
grep -q "n = 2000 reports" "$tmp/out" || fail "query: wrong n"
[ "$(grep -c '^ *[1-5]  #[0-9]' "$tmp/out")" = 5 ] || fail "query: not 5 rows"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection 2 --top 3 >"$tmp/out" 2>&1 ||
    fail "query words"
grep -q "n = 5000 reports" "$tmp/out" || fail "query words: wrong n"
[ "$(grep -c '^ *[1-3]  #[0-9]' "$tmp/out")" = 3 ] || fail "query words: not 3 rows"
# --format csv and json: the server's answers as is; the table, CSV and JSON agree
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection 2 --top 3 --format csv >"$tmp/csv" 2>&1 ||
    fail "query csv"
head -1 "$tmp/csv" | grep -q '^rank,item,label,estimate,stderr,lower,upper,final$' ||
    fail "csv header"
[ "$(wc -l <"$tmp/csv")" = 4 ] || fail "csv: not 3 rows"
[ "$(grep -c ',0$' "$tmp/csv")" = 3 ] || fail "csv: rows said final before any close"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection 2 --top 3 --format json >"$tmp/json" 2>&1 ||
    fail "query json"
python3 - "$tmp/json" "$tmp/csv" "$tmp/out" <<'PY' || fail "table, csv and json disagree"
import csv, json, sys
j = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
table = [l.split() for l in open(sys.argv[3]) if l[:5].strip().isdigit()]
assert j["n"] == 5000 and len(j["items"]) == 3 == len(rows) == len(table)
assert j["final"] is False and j["closed_before"] == 0
for it, r, t in zip(j["items"], rows, table):
    assert int(r["item"]) == it["item"] and float(r["estimate"]) == it["estimate"]
    assert r["final"] == "0"
    assert t[1] == "#%d" % it["item"] and int(t[2]) == round(it["estimate"])
PY
# --significant: only the items that pass, and the table says how many did
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection 2 --top 1000 --significant fdr:0.05 \
    >"$tmp/out" 2>&1 || fail "query significant"
passed=$(sed -n 's/^significance: false discovery rate (Benjamini-Hochberg) at 0.05: \([0-9]*\) of [0-9]* items passed.*/\1/p' "$tmp/out")
[ -n "$passed" ] && [ "$passed" -gt 0 ] || fail "no significance line"
[ "$(grep -c '^ *[0-9]*  #[0-9]' "$tmp/out")" = "$passed" ] || fail "rows != items that passed"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection 2 --format yaml >"$tmp/out" 2>&1 &&
    fail "an unknown format was accepted"
grep -q "table, csv or json" "$tmp/out" || fail "the format refusal does not say why"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection 2 --significant fdr:2 >"$tmp/out" 2>&1 &&
    fail "a bad level was accepted"
grep -q "significant: fdr:ALPHA" "$tmp/out" || fail "the significance refusal does not say why"
PINHOLE_TOKEN=up "$cli" query --url "$url" --collection 1 >"$tmp/out" 2>&1 &&
    fail "the uploader token read a histogram"
grep -q "HTTP 403" "$tmp/out" || fail "no 403 for the uploader token"
# closing time buckets: pinhole close (admin), then query --closed is final, in the table, CSV and
# JSON; the reports (all of now, in today's bucket) are in closed buckets only, so n stays 2000.
# A close of a bucket not yet begun is refused with the server's reason; analysts may not close.
now=$(date +%s)
bucket=$(((now + 86399) / 86400 * 86400)) # the end of today's bucket: today's is closed
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection 1 --top 5 >"$tmp/out" 2>&1 || fail "query"
! grep -q "final" "$tmp/out" || fail "the table speaks of final before any close"
PINHOLE_TOKEN=ana "$cli" close --url "$url" --collection 1 --before "$now" >"$tmp/out" 2>&1 &&
    fail "the analyst token closed buckets"
grep -q "pinhole close: HTTP 403" "$tmp/out" || fail "no 403 for the analyst token"
PINHOLE_TOKEN=adm "$cli" close --url "$url" --collection 1 --before $((now + 3 * 86400)) \
    >"$tmp/out" 2>&1 && fail "a close of future buckets succeeded"
grep -q "pinhole close: HTTP 422: " "$tmp/out" || fail "the future close: $(cat "$tmp/out")"
PINHOLE_TOKEN=adm "$cli" close --url "$url" --collection 1 --before "$now" >"$tmp/out" 2>&1 ||
    fail "pinhole close"
[ "$(cat "$tmp/out")" = "collection 1 (small): closed_before = $bucket (its time buckets that \
start before it are closed; their counts are final)" ] || fail "close: $(cat "$tmp/out")"
PINHOLE_TOKEN=adm "$cli" close --url "$url" --collection 1 --before 0 >"$tmp/out" 2>&1 &&
    grep -q "closed_before = $bucket " "$tmp/out" || fail "closing backwards: $(cat "$tmp/out")"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection 1 --top 5 --closed >"$tmp/out" 2>&1 ||
    fail "query --closed"
grep -q "n = 2000 reports" "$tmp/out" || fail "query --closed: wrong n"
grep -q "^final: every time bucket summed is closed (closed_before = $bucket)$" "$tmp/out" ||
    fail "query --closed: no final line"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection 1 --top 5 --closed --format csv \
    >"$tmp/csv" 2>&1 || fail "query --closed csv"
[ "$(grep -c ',1$' "$tmp/csv")" = 5 ] || fail "csv --closed: not 5 final rows: $(cat "$tmp/csv")"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection 1 --closed --format json >"$tmp/json" \
    2>&1 || fail "query --closed json"
python3 -c 'import json, sys; h = json.load(open(sys.argv[1])); assert h["final"] and h["closed_only"] and h["n"] == 2000 and h["closed_before"] == int(sys.argv[2]), h' \
    "$tmp/json" "$bucket" || fail "query --closed json: $(cat "$tmp/json")"
# a range that reaches past closed_before sums an open bucket: not final
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection 1 --top 5 --to $((bucket + 86400 * 2)) \
    >"$tmp/out" 2>&1 || fail "query over an open bucket"
grep -q "^not final: open time buckets summed, the estimate may change (closed_before = $bucket)$" \
    "$tmp/out" || fail "query over an open bucket said final"
# labels: the config commits to them; encode maps label lines to items; unknown labels refused
[ "$(post adm '{"name": "drinks", "epsilon": 2, "labels": ["tea", "coffee", "water"]}')" = 201 ] ||
    fail "create collection 3"
curl -sf "$url/v1/collections/3/config" -o "$tmp/cfg3"
[ "$(wc -c <"$tmp/cfg3")" -eq 176 ] || fail "the labelled config is not 176 bytes"
curl -sf "$url/v1/collections/3/labels" -o "$tmp/labels3"
printf 'tea\ncoffee\nwater\ntea\n' >"$tmp/drinks"
"$cli" encode --config "$tmp/cfg3" --verify-key "$sign" --labels "$tmp/labels3" \
    --out "$tmp/drinks.bin" "$tmp/drinks" 2>"$tmp/out" || fail "encode labels"
PINHOLE_TOKEN=up "$cli" submit --url "$url" --collection 3 --reports "$tmp/drinks.bin" \
    >"$tmp/out" 2>&1 || fail "submit labelled"
grep -q "4 accepted" "$tmp/out" || fail "labelled reports not all accepted"
printf 'tea\nmilk\n' >"$tmp/unknown"
if "$cli" encode --config "$tmp/cfg3" --verify-key "$sign" --labels "$tmp/labels3" \
    --out "$tmp/x.bin" "$tmp/unknown" 2>"$tmp/out"; then fail "an unknown label was encoded"; fi
grep -q "line 2: 'milk': not a label of the collection" "$tmp/out" || fail "unknown label message"
printf 'x' >>"$tmp/labels3"
if "$cli" encode --config "$tmp/cfg3" --verify-key "$sign" --labels "$tmp/labels3" \
    --out "$tmp/x.bin" "$tmp/drinks" 2>"$tmp/out"; then fail "an altered label list was used"; fi
grep -q "not the label list" "$tmp/out" || fail "altered list message"
# a discovery collection: its open round (the rounds themselves: tests/server/http/test_discovery.c)
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer adm' \
    -H 'Content-Type: application/json' -d '{"name": "new words", "epsilon": 4, "devices": 1000}' \
    "$url/v1/discoveries")" = 201 ] || fail "create discovery collection 1"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --discovery 1 >"$tmp/out" 2>&1 || fail "query discovery"
grep -q "discovery collection 1 (new words): epsilon = 4, 1000 devices planned" "$tmp/out" ||
    fail "query discovery: header"
grep -q "round 0 open (collection 4): 0 of [0-9]* reports; no results yet" "$tmp/out" ||
    fail "query discovery: open round"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --discovery 1 --format csv >"$tmp/out" 2>&1 ||
    fail "query discovery csv"
[ "$(cat "$tmp/out")" = "string,estimate,stderr,low,high,significant" ] || fail "discovery csv"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --discovery 1 --collection 1 >"$tmp/out" 2>&1 &&
    fail "--discovery with --collection accepted"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --discovery 9 >"$tmp/out" 2>&1 &&
    fail "an unknown discovery collection answered"
grep -q "HTTP 404: no discovery collection has this id" "$tmp/out" || fail "unknown discovery"

# a multi-attribute collection of two attributes (2 x 3 cells: one pair collection), its pair's
# reports encoded from cells, and pinhole query's tables of the parent's analysis
multi=$(curl -s -H "Authorization: Bearer adm" -H 'Content-Type: application/json' \
    -d '{"name": "survey", "epsilon": 2, "min_reports": 10, "attributes": [{"name": "smoker",
    "k": 2, "kind": "binary"}, {"name": "age", "k": 3, "labels": ["young", "mid", "old"]}]}' \
    "$url/v1/collections")
parent=$(echo "$multi" | sed 's/^{"id":\([0-9]*\),.*/\1/')
pair=$(echo "$multi" | sed 's/.*"pairs":\[{"attributes":\[0,1\],"collection":\([0-9]*\).*/\1/')
[ "$pair" = $((parent - 1)) ] || fail "multi-attribute collection: $multi"
curl -sf "$url/v1/collections/$pair/config" -o "$tmp/cfgm"
seq 0 1999 | awk '{ x = $1 % 2; print 3 * x + (x ? 2 : ($1 % 3 == 0)) }' >"$tmp/cells"
"$cli" encode --config "$tmp/cfgm" --verify-key "$sign" --out "$tmp/multi" "$tmp/cells" 2>/dev/null
"$cli" submit --url "$url" --collection "$pair" --reports "$tmp/multi" >"$tmp/out" 2>&1 ||
    fail "submit multi"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection "$parent" >"$tmp/out" 2>&1 ||
    fail "query of a multi-attribute collection"
grep -q "multi-attribute collection $parent (survey): d = 2, epsilon = 2, n = 2000 reports" \
    "$tmp/out" || fail "query multi: header"
grep -q "^    young  " "$tmp/out" || fail "query multi: labels"
grep -q "joint of attributes 0 (rows) and 1 (columns): collection $pair, 2000 reports" \
    "$tmp/out" || fail "query multi: joint"
grep -q "^repaired (nearest correlation matrix" "$tmp/out" || fail "query multi: repair"
PINHOLE_TOKEN=ana "$cli" query --url "$url" --collection "$parent" --format json >"$tmp/out" \
    2>&1 || fail "query multi json"
grep -q '"reports": *2000' "$tmp/out" || grep -q '"reports":2000' "$tmp/out" ||
    fail "query multi json: reports"

stop_server s
echo ok
