#!/bin/sh
# Size of the stripped client library per target: libpinhole.so built from common/, proto/ and
# client/ (the sources libpinhole links) with hidden visibility, -O2 and -Os, stripped (strip
# --strip-all): the file's size, which includes the padding between segments the target's page
# size asks for, and text + data as `size` counts them; libsodium stays a separate shared library and is not counted. The host with cc, and
# every cross target whose compiler is installed (gcc-12-*: see tests/portability.sh, which also
# fetches the targets' libsodium headers into its cache, needed here).
# usage: tests/bench/client_size.sh    (prints a Markdown table)
set -eu
cd "$(dirname "$0")/../.."
CACHE="${PINHOLE_PORTABILITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pinhole-portability}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
SRC="$(ls common/*.c client/*.c) proto/report.c proto/batch.c proto/config.c proto/seal.c proto/labels.c"

size_of() { # size_of NAME CC STRIP EXTRA_CFLAGS OPT: "file bytes / text+data bytes" of the stripped library
    out="$WORK/$1$5.so"
    $2 -std=c11 $5 -fPIC -fvisibility=hidden -shared -D_POSIX_C_SOURCE=200809L -I. -Iclient/include \
        $4 $SRC -o "$out" -Wl,-soname,libpinhole.so.0 -lm -lpthread
    $3 --strip-all "$out"
    echo "$(wc -c <"$out") / $(${3%strip}size -B "$out" | awk 'NR == 2 {print $1 + $2}')"
}

row() { # row NAME CC STRIP EXTRA_CFLAGS
    o2=$(size_of "$1" "$2" "$3" "$4" -O2)
    os=$(size_of "$1" "$2" "$3" "$4" -Os)
    printf '| %s | %s | %s | %s |\n' "$1" "$($2 -dumpmachine)" "$o2" "$os"
}

echo "| target | compiler triplet | -O2: file / text+data (bytes) | -Os: file / text+data (bytes) |"
echo "|---|---|---|---|"
row "host ($(uname -m))" cc strip ""
for t in i686:i386:i686-linux-gnu s390x:s390x:s390x-linux-gnu aarch64:arm64:aarch64-linux-gnu \
         armhf:armhf:arm-linux-gnueabihf; do
    name=${t%%:*} rest=${t#*:}
    arch=${rest%%:*} triplet=${rest#*:}
    if command -v "$triplet-gcc-12" >/dev/null && [ -d "$CACHE/$arch/usr/include" ]; then
        row "$name" "$triplet-gcc-12" "$triplet-strip" "-I$CACHE/$arch/usr/include"
    else
        echo "client_size: skip $name (no $triplet-gcc-12 or no libsodium headers in $CACHE)" >&2
    fi
done
