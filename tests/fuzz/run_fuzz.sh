#!/bin/sh
# A short libFuzzer run (part of the test suite): FUZZER SEEDS_DIR SECONDS. New inputs go to a
# temporary directory; the committed seeds are only read. Fails on any crash, leak or abort.
set -eu
fuzzer="$1"
seeds="$2"
seconds="${3:-4}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$fuzzer" -max_total_time="$seconds" -seed=2026 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$work/" "$work" "$seeds" 2>"$work/log" || {
    tail -50 "$work/log" >&2
    exit 1
}
grep -E "^(Done|#[0-9]+ *DONE)" "$work/log" || tail -3 "$work/log"
