#!/bin/sh
# `pinhole encode` end to end: keys, a signed config, reports (plain, sealed, memoized) that
# `pinhole inspect` decodes and accepts against the config; a k = 8 collection refuses k = 16
# reports; bad input gets clear errors. Usage: cli_encode.sh PATH/TO/pinhole
set -eu
pinhole="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "cli_encode: $*" >&2; exit 1; }

"$pinhole" keygen >keys.txt
key() { sed -n "s/^$1 //p" keys.txt; }
"$pinhole" sign-config --k 16 --epsilon 2 --collection 77 --precision 3600 \
    --sign-key "$(key sign_secret_key)" --out cfg16.bin --json cfg16.json
[ "$(wc -c <cfg16.bin)" -eq 136 ] || fail "signed config is not 136 bytes"
grep -q '"collection_id":77' cfg16.json || fail "JSON config: $(cat cfg16.json)"
"$pinhole" sign-config --k 8 --epsilon 2 --collection 77 --precision 3600 \
    --sign-key "$(key sign_secret_key)" --out cfg8.bin

seq 0 15 >values.txt
yes 3 | head -n 70000 >many.txt     # more than one batch (65536 reports each)
V="--config cfg16.bin --verify-key $(key sign_public_key)"

# plain reports; every one accepted by the collection they were made for
"$pinhole" encode $V --time 1800000000 --out plain.bin values.txt 2>encode.log
grep -q "16 reports in 1 batches for collection 77" encode.log || fail "$(cat encode.log)"
"$pinhole" inspect $V plain.bin >inspect.txt || fail "inspect refused: $(tail -3 inspect.txt)"
grep -q "16 reports in 1 batches: 16 accepted, 0 refused" inspect.txt || fail "$(tail -1 inspect.txt)"
grep -q "collection=77 time=500000 " inspect.txt || fail "time in hours: $(head -1 inspect.txt)"
# 16 plain reports: the 8-byte batch header + 16 x (4-byte length + 56-byte header + 1-byte payload)
# (the planner's PGR choice for k = 16, epsilon = 2 has K <= 256)
[ "$(wc -c <plain.bin)" -eq $((8 + 16 * 61)) ] || fail "plain.bin has $(wc -c <plain.bin) bytes"

# the k = 8 collection refuses reports made for k = 16 (other fingerprint)
if "$pinhole" inspect --config cfg8.bin --verify-key "$(key sign_public_key)" plain.bin >k8.txt; then
    fail "k = 8 collection accepted k = 16 reports"
fi
grep -q "16 refused" k8.txt || fail "$(tail -1 k8.txt)"
grep -q "report made for other collection parameters" k8.txt || fail "$(head -1 k8.txt)"

# a config signed by another key is refused before anything is encoded
"$pinhole" keygen >other.txt
if "$pinhole" encode --config cfg16.bin --verify-key "$(sed -n 's/^sign_public_key //p' other.txt)" \
    values.txt >/dev/null 2>err.txt; then
    fail "config with a wrong key accepted"
fi
grep -q "signature or seal verification failed" err.txt || fail "$(cat err.txt)"

# sealed reports, in two batches
"$pinhole" encode $V --seal-key "$(key seal_public_key)" --out sealed.bin many.txt 2>encode.log
grep -q "70000 reports in 2 batches" encode.log || fail "$(cat encode.log)"
"$pinhole" inspect $V --quiet sealed.bin >sealed.txt && fail "sealed reports opened without the key"
"$pinhole" inspect $V --quiet --seal-key "$(key seal_public_key)" --open-key "$(key seal_secret_key)" \
    sealed.bin >sealed.txt || fail "sealed: $(cat sealed.txt)"
grep -q "70000 reports in 2 batches: 70000 accepted, 0 refused" sealed.txt || fail "$(cat sealed.txt)"

# memoized: the same value gives the same payload, fresh report ids
S=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
printf '5\n5\n5\n' | "$pinhole" encode $V --secret $S --out memo.bin - 2>/dev/null
"$pinhole" inspect $V memo.bin >memo.txt
[ "$(sed -n 's/.* payload=\([0-9a-f]*\) .*/\1/p' memo.txt | sort -u | wc -l)" -eq 1 ] || fail "memo payloads differ"
[ "$(sed -n 's/.* id=\([0-9a-f]*\) .*/\1/p' memo.txt | sort -u | wc -l)" -eq 3 ] || fail "memo ids repeat"

# a unary mechanism: 300-bit payloads (beyond any machine word) encode and check as well
seq 0 299 | "$pinhole" encode --mechanism oue --k 300 --epsilon 1 --collection 5 --out oue.bin - 2>/dev/null
"$pinhole" inspect --mechanism oue --k 300 --epsilon 1 --collection 5 --quiet oue.bin >oue.txt ||
    fail "oue: $(cat oue.txt)"
grep -q "300 reports in 1 batches: 300 accepted, 0 refused" oue.txt || fail "$(cat oue.txt)"
[ "$(wc -c <oue.bin)" -eq $((8 + 300 * (4 + 56 + 38))) ] || fail "oue.bin has $(wc -c <oue.bin) bytes"

# bad input: clear errors, non-zero exit
echo 16 | "$pinhole" encode $V - >/dev/null 2>err.txt && fail "value 16 accepted for k = 16"
grep -q "line 1: value 16: value outside the domain" err.txt || fail "$(cat err.txt)"
# a refused value writes nothing: --out keeps what it held (no truncated or partial file)
cp plain.bin before.bin
printf '1\n2\n16\n' | "$pinhole" encode $V --out plain.bin - 2>err.txt && fail "value 16 accepted"
cmp -s plain.bin before.bin || fail "a failed encode changed --out"
[ -z "$(ls | grep partial)" ] || fail "a failed encode left $(ls | grep partial)"
printf '1\nx\n' | "$pinhole" encode --k 10 --epsilon 1 - >/dev/null 2>err.txt && fail "bad line accepted"
grep -q "line 2" err.txt || fail "$(cat err.txt)"
head -c 100 plain.bin >cut.bin
"$pinhole" inspect cut.bin >cut.txt 2>err.txt && fail "truncated batch accepted"
grep -q "input truncated" err.txt || fail "$(cat err.txt)"
"$pinhole" encode --k 10 --epsilon 1 --q 6 values.txt >/dev/null 2>err.txt && fail "q = 6 accepted"
grep -q "parameters refused" err.txt || fail "$(cat err.txt)"
echo "cli_encode: ok"
