#!/usr/bin/env bash
# The option parser every `pinhole` subcommand shares (server/cli/cli_options.c): each kind of
# refusal exits 2 with a message naming the option and why, --help exits 0 with the usage on
# standard output, and the accepted forms (--name=VALUE, unambiguous prefixes, values that begin
# with '-') reach the command. No server is started: every case stops before any network or file.
set -u
PINHOLE=$1
# shellcheck source=tests/cli_expect.sh
. "$(dirname "$0")/cli_expect.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# unknown options, in every subcommand, with the usage after the message
for cmd in plan simulate "analyze consistency" encode inspect sign-config keygen submit query close demo; do
  # shellcheck disable=SC2086
  expect 2 "pinhole $cmd: unknown or ambiguous option --bogus" $cmd --bogus 1
  # shellcheck disable=SC2086
  expect 2 "^usage: pinhole" $cmd --bogus 1
done
expect 2 "pinhole analyze maxcut: unknown or ambiguous option --width" analyze maxcut --n 5 --width 3
expect 2 "pinhole plan: unknown option -x" plan -x
expect 2 "ambiguous option --s\b" analyze single-location --s 3   # --seed, --steps, --step

# a missing value, a value given to a flag, an argument where none is taken
expect 2 "pinhole plan: --epsilon needs a value" plan --k 1000 --epsilon
expect 2 "pinhole submit: --seal takes no value" submit --seal=yes
expect 2 "pinhole keygen: unexpected argument extra" keygen extra
expect 2 "pinhole inspect: unexpected argument b" inspect a b
expect 2 "pinhole plan: unexpected argument 7" plan --k 1000 7

# values refused, saying why
expect 2 "pinhole plan: --rows must be between 1 and 1000, got 0" plan --k 1000 --epsilon 1 --rows 0
expect 2 "pinhole plan: --threads must be between 1 and 1024, got 2000" plan --k 9 --epsilon 1 --threads 2000
expect 2 "pinhole simulate: --users must be at least 1, got 0 \(no reports, nothing to estimate\)" simulate --users 0
expect 2 "pinhole simulate: --q must be at most 4294967295, got 4294967296" simulate --q 4294967296
expect 2 "pinhole demo: --users must be at least 1000, got 999 \(the collection's minimum\)" demo --users 999
expect 2 "pinhole demo: --batch must be between 1 and 65536, got 65537 \(reports per request\)" demo --batch 65537
expect 2 "pinhole demo: --connections must be between 1 and 64, got 0" demo --connections 0
expect 2 "pinhole submit: --connections must be between 1 and 256, got 257" submit --connections 257
expect 2 "pinhole submit: --retries must be at most 1000, got 1001" submit --retries 1001
expect 2 "pinhole encode: --precision must be at most 4294967295" encode --k 10 --epsilon 1 --precision 4294967296
expect 2 "pinhole: --seed: 'abc' is not a non-negative integer" simulate --seed abc
expect 2 "pinhole: --seed: '99999999999999999999' is not an integer in range" demo --seed 99999999999999999999
expect 2 "pinhole: --from: '-3' is not a non-negative integer" query --url http://127.0.0.1:1 --collection 1 --from -3
expect 2 "pinhole: --eta: 'x' is not a finite number" analyze stream --eta x
expect 2 "pinhole: --epsilon: '0' must be a finite number >= 1e-06" demo --epsilon 0
expect 2 "pinhole: --epsilon: 'nan' must be a finite number >= 1e-06" encode --k 10 --epsilon nan
expect 2 "pinhole analyze stream: --eta must be in \[0, 1\]" analyze stream --eta 2 --in /dev/null
expect 2 "pinhole analyze consistency: --buckets must be at most --users" analyze consistency --users 3 --buckets 4
ins=(); for i in $(seq 257); do ins+=(--in /dev/null); done
expect 2 "pinhole analyze stream: --in may be given at most 256 times" analyze stream "${ins[@]}"
expect 2 "pinhole submit: --url, --collection and exactly one of --users N or --reports FILE" submit --url http://x
expect 2 "pinhole close: --url, --collection and --before are required" close --url http://x --collection 1
expect 2 "pinhole close: --before must be at most 9223372036854775807" close --before 9223372036854775808
expect 2 "pinhole query: --from, --to, --closed and --significant are for --collection" query --url http://x --discovery 1 --closed

# --help and -h: the usage on standard output, exit 0
for cmd in plan simulate "analyze topk" "analyze two-layer" encode inspect sign-config keygen submit query close demo; do
  for h in --help -h; do
    # shellcheck disable=SC2086
    out=$("$PINHOLE" $cmd $h 2>/dev/null); rc=$?
    if [ "$rc" = 0 ] && grep -q "^usage: pinhole" <<<"$out"; then passed=$((passed+1))
    else echo "FAIL: pinhole $cmd $h -> exit $rc"; fail=$((fail+1)); fi
  done
done

# accepted forms: --name=VALUE, a unique prefix, a value beginning with '-' read as a value
expect 0 "PGR plan for k = 1000, epsilon = 2;" plan --k=1000 --epsilon=2 --rows=1
expect 0 "PGR plan for k = 1000, epsilon = 3;" plan --k 1000 --eps 3 --rows 1
expect 2 "pinhole: --epsilon: '-1' must be a finite number" plan --k 1000 --epsilon -1
printf 'a\t3\nb\t4\nc\t5\n' > "$tmp/small.tsv"
expect 0 "users: 12 \(every token once\), seed 3" simulate --counts="$tmp/small.tsv" --seed 3 --top 2
# positional words may come anywhere among the options
"$PINHOLE" keygen > "$tmp/keys"
printf '1\n2\n' > "$tmp/values"
"$PINHOLE" encode "$tmp/values" --k 10 --epsilon 1 --collection 5 --out "$tmp/b" 2>/dev/null
expect 0 "2 reports in 1 batches: 2 accepted, 0 refused" inspect --k 10 "$tmp/b" --epsilon 1 --collection 5 --quiet

echo "$passed passed, $fail failed"
[ "$fail" = 0 ]
