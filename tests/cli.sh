#!/usr/bin/env bash
# The `pinhole` tool as a user meets it: exit codes and messages for bad input, and real output.
set -u
PINHOLE=$1
# shellcheck source=tests/cli_expect.sh
. "$(dirname "$0")/cli_expect.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

expect 2 "finite number >= 1e-06" plan --k 1000 --epsilon 0
expect 2 "finite number >= 1e-06" plan --k 1000 --epsilon -1
expect 2 "finite number >= 1e-06" plan --k 1000 --epsilon nan
expect 2 "finite number >= 1e-06" plan --k 1000 --epsilon inf
expect 2 "finite number >= 1e-06" plan --k 1000 --epsilon 1e-300
expect 2 "at most 2\^62" plan --k 18446744073709551615 --epsilon 1
expect 2 "between 1 and 1000" plan --k 1000 --epsilon 1 --rows 0
expect 2 "must be positive" plan --k 1000 --epsilon 1 --max-cost -5
expect 2 "at least 2" plan --k 1 --epsilon 1
expect 2 "not a non-negative integer" plan --k -5 --epsilon 1
expect 0 "^ +8 +8 .*default" plan --k 1000000 --epsilon 2
expect 0 "q is capped" plan --k 74286 --epsilon 20
expect 0 "q is capped" plan --k 74286 --epsilon 700
expect 0 "computed at epsilon = 40" plan --k 74286 --epsilon 1e6
expect 0 "computed at epsilon = 40" plan --k 74286 --epsilon 1.7e308
expect 2 "unknown command" frobnicate
expect 2 "must be at least 1" simulate --users 0
printf 'a\t5\nb\tx\n' > "$tmp/bad.tsv"
expect 1 "bad.tsv:2: expected label<TAB>count" simulate --counts "$tmp/bad.tsv"
printf 'a\tnan\nb\t5\n' > "$tmp/nan.tsv"
expect 1 "nan.tsv:1: expected label<TAB>count .*whole number" simulate --counts "$tmp/nan.tsv"
printf 'a\t1e400\nb\t5\n' > "$tmp/big.tsv"
expect 1 "big.tsv:1: expected label<TAB>count" simulate --counts "$tmp/big.tsv"
: > "$tmp/empty.tsv"
expect 1 "no usable data" simulate --counts "$tmp/empty.tsv"
expect 1 "cannot open or read" simulate --counts "$tmp/missing.tsv"
printf 'a\t5\nb\t7\nc\t0\n' > "$tmp/small.tsv"
expect 0 "users: 12 \(every token once\)" simulate --counts "$tmp/small.tsv" --seed 3
expect 0 "K = 151740" simulate --users 20000 --epsilon 4 --seed 1 --top 5
# discovery: no dictionary given to the server; the frequent words come back with their true counts
expect 0 "^ +1  you +[0-9]+ +\\[ *[0-9]+, +[0-9]+\\] +[0-9]+$" simulate --discover --devices 300000 --epsilon 6 --seed 1 --top 5
expect 0 "top-3: recall 100\\.0%" simulate --discover --devices 300000 --epsilon 6 --seed 1 --top 3
expect 0 "discovered [0-9]+ strings" simulate --discover --method pem --devices 100000 --seed 1 --top 3
expect 0 "bytes on the wire" demo --discover --devices 50000 --epsilon 6 --seed 2 --top 3
expect 2 "the baselines have no wire form" demo --discover --method pem
expect 2 "--method must be" simulate --discover --method bogus
expect 2 "--depth must be between 1 and 32, got 40" simulate --discover --depth 40
expect 2 "unknown or ambiguous option --users" simulate --discover --users 5
expect 1 "cannot read" simulate --discover --counts "$tmp/missing.tsv"
expect 0 "realized 4[4-9]\.[0-9]+\)" simulate --counts "$tmp/small.tsv" --epsilon 700 --seed 1
expect 0 "realized 0\.0001\)" simulate --counts "$tmp/small.tsv" --epsilon 1e-4 --seed 1
expect 2 "t = 40 is larger than needed: the smallest t with K >= k = 3 is 2" simulate --counts "$tmp/small.tsv" --q 2 --t 40
expect 2 "q = 6 is not a prime power" simulate --counts "$tmp/small.tsv" --q 6
expect 2 "gives K = 57 points < k = 74286; t must be at least 7" simulate --q 7 --t 3
expect 2 "epsilon_permanent = 3 must be 0 \(no permanent response\) or at least epsilon = 4" simulate --mechanism sue --epsilon 4 --epsilon-permanent 3 --users 10
printf '{"version":1,"collection_id":3,"mechanism":"hr","k":5,"epsilon":1.0,"q":0,"t":0,"time_precision":1,"min_reports":0,"block":64}' > "$tmp/hr.json"
expect 2 "block = 64 is larger than one block for k = 5 needs \(at most 8\)" encode --config-json "$tmp/hr.json" /dev/null
expect 2 "parameters refused: t = 5 is larger than needed" encode --k 100 --epsilon 1 --q 7 --t 5 /dev/null
printf 'a\t9223372036854775800\nb\t0\n' > "$tmp/huge.tsv"
expect 1 "pass --users N" simulate --counts "$tmp/huge.tsv"
expect 1 "more than this tool simulates" simulate --users 18446744073709551615

# no output of any command above or below may print inf or nan
for args in "plan --k 74286 --epsilon 1e-6" "plan --k 3 --epsilon 1.7e308" "plan --k 4611686018427387904 --epsilon 1"; do
  out=$("$PINHOLE" $args 2>&1)
  if grep -qiE "(^|[^a-z])(-?inf|-?nan)([^a-z]|$)" <<<"$out"; then echo "FAIL: pinhole $args printed inf/nan"; fail=$((fail+1)); else passed=$((passed+1)); fi
done

echo "$passed passed, $fail failed"
[ "$fail" = 0 ]
