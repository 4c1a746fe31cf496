#!/bin/sh
# `pinhole analyze` end to end: usage errors, a small simulation per module, chaining estimates
# files, and refusals of bad files. usage: analyze_cli.sh PINHOLE_BINARY
set -eu
P=$1
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
fail() { echo "analyze_cli: $*" >&2; exit 1; }

# usage errors exit 2
for args in "" "bogus" "consistency --method nope --users 100 --seed 1" "topk --top 0 --seed 1 --users 100" \
            "stream --eta 2 --in /dev/null"; do
    set +e; $P analyze $args >/dev/null 2>&1; rc=$?; set -e
    [ "$rc" = 2 ] || fail "'analyze $args' exited $rc, expected 2"
done

# consistency: the projection is a histogram with sum n = 20000 and no negative count
$P analyze consistency --seed 5 --users 20000 --out "$D/c.tsv" 2>"$D/c.err"
awk -F'\t' 'NR > 1 { s += $2; if ($2 < 0) bad = 1 } END { if (bad || s < 19999.999 || s > 20000.001) exit 1 }' \
    "$D/c.tsv" || fail "projection is not a histogram of 20000"
[ "$(wc -l < "$D/c.tsv")" = 74287 ] || fail "expected a header and 74,286 items"
grep -q "error against the true counts" "$D/c.err" || fail "no error summary"

# the same seed gives the same file
$P analyze consistency --seed 5 --users 20000 --out "$D/c2.tsv" 2>/dev/null
cmp -s "$D/c.tsv" "$D/c2.tsv" || fail "same seed, different output"

# mle: a histogram too
$P analyze consistency --method mle --iterations 5 --seed 5 --users 20000 --out "$D/m.tsv" 2>/dev/null
awk -F'\t' 'NR > 1 { s += $2; if ($2 < 0) bad = 1 } END { if (bad || s < 19999.99 || s > 20000.01) exit 1 }' \
    "$D/m.tsv" || fail "mle is not a histogram of 20000"

# topk on the written file: the probabilities of all rows sum to --top (every item listed)
$P analyze topk --in "$D/c.tsv" --top 3 --samples 64 --rows 74286 --out "$D/t.tsv" 2>/dev/null
awk -F'\t' 'NR > 1 { s += $4 } END { if (s < 2.99 || s > 3.01) exit 1 }' "$D/t.tsv" \
    || fail "topk probabilities do not sum to 3"

# stream over two files with eta = 1/t: the mean of the two inputs
printf 'item\testimate\tvariance\na\t1\t4\nb\t-3\t8\n' > "$D/b1.tsv"
printf 'a\t3\t4\nb\t5\t0\n' > "$D/b2.tsv"
$P analyze stream --in "$D/b1.tsv" --in "$D/b2.tsv" --out "$D/s.tsv" 2>/dev/null
printf 'item\tstream\tvariance\na\t2\t2\nb\t1\t2\n' | cmp -s - "$D/s.tsv" || fail "stream mean wrong: $(cat "$D/s.tsv")"

# refusals: exit 1 with the file and line
printf 'a\t1\nb\tNaN\n' > "$D/bad.tsv"
set +e; $P analyze consistency --in "$D/bad.tsv" 2>"$D/bad.err"; rc=$?; set -e
[ "$rc" = 1 ] || fail "bad file: exit $rc"
grep -q "bad.tsv:2:" "$D/bad.err" || fail "bad file: no line number"
set +e; $P analyze consistency --in "$D/missing.tsv" 2>/dev/null; rc=$?; set -e
[ "$rc" = 1 ] || fail "missing file: exit $rc"
# multi-attribute: a small simulated collection, its correlation matrix and a certified repair
$P analyze multi --categories 2,3,3 --devices 20000 --epsilon 2 --seed 3 >"$D/multi.out" || fail "multi: exit $?"
grep -q "^correlation" "$D/multi.out" || fail "multi: no correlation matrix"
grep -q "(certified)" "$D/multi.out" || fail "multi: repair not certified"
$P analyze multi --categories 2,3,3 --devices 20000 --epsilon 2 --seed 3 --unweighted | grep -q "Newton" ||
    fail "multi --unweighted: not the Newton method"
set +e; $P analyze multi --categories 2 2>/dev/null; rc=$?; set -e
[ "$rc" = 2 ] || fail "multi with one attribute: exit $rc"
echo "analyze_cli: ok"
