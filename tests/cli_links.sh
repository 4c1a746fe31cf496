#!/bin/sh
# What each program links (its ELF NEEDED entries): `pinhole` acts as a device and a thin client, so
# it links no SQLite, libmicrohttpd, LAPACK or GLPK; `pinhole-optimize` alone of the CLI links LAPACK
# and GLPK; the daemon links no libcurl.
# Usage: cli_links.sh PINHOLE PINHOLE_OPTIMIZE PINHOLE_SERVER
set -eu
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
fail=0
refuse() { # refuse PROGRAM PATTERN...: fail when PROGRAM needs a library matching a PATTERN
    prog="$1"; shift
    for pat in "$@"; do
        if needed "$prog" | grep -q "^$pat"; then
            echo "cli_links: $(basename "$prog") links $(needed "$prog" | grep "^$pat")" >&2
            fail=1
        fi
    done
}
require() { # require PROGRAM PATTERN...: fail unless PROGRAM needs a library matching each PATTERN
    prog="$1"; shift
    for pat in "$@"; do
        needed "$prog" | grep -q "^$pat" ||
            { echo "cli_links: $(basename "$prog") does not link $pat" >&2; fail=1; }
    done
}
refuse "$1" libsqlite3 libmicrohttpd liblapack libglpk libblas
require "$1" libsodium libcurl
refuse "$2" libsqlite3 libmicrohttpd libcurl
require "$2" liblapack libglpk
refuse "$3" libcurl
[ "$fail" -eq 0 ] && echo "cli_links: pinhole: $(needed "$1" | tr '\n' ' ')"
exit "$fail"
