#!/bin/sh
# Build the baseline of `make bench`: the tree at commit BASE (git archive, no checkout) in
# DIR/src, built in DIR/build with this tree's benchmark harnesses (bench_reconstruct.c,
# bench_encode.c and bench_incidence.c build against both trees), only the targets the table runs.
# Usage: bench_base.sh BASE DIR
set -eu
base="$1"
dir="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
stamp="$dir/src/.bench-base"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(git -C "$root" rev-parse "$base")" ]; then
    rm -rf "$dir"
    mkdir -p "$dir/src"
    git -C "$root" archive "$base" | tar -x -C "$dir/src"
    git -C "$root" rev-parse "$base" > "$stamp"
fi
for f in bench_reconstruct.c bench_encode.c bench_incidence.c; do
    cmp -s "$root/tests/bench/$f" "$dir/src/tests/bench/$f" || cp "$root/tests/bench/$f" "$dir/src/tests/bench/$f"
done
[ -f "$dir/build/build.ninja" ] || meson setup "$dir/build" "$dir/src" --buildtype=debugoptimized >/dev/null
ninja -C "$dir/build" tests/bench/bench_reconstruct tests/bench/bench_encode \
    tests/bench/bench_incidence server/pinhole >/dev/null
echo "bench: baseline $(git -C "$root" rev-parse --short "$base") built in $dir/build"
