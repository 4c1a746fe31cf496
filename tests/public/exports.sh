#!/bin/sh
# The shared library exports, and the static archive defines as global symbols, exactly the
# functions marked PINHOLE_API in the public header: no internal symbol leaks, and nothing public
# is missing. usage: exports.sh LIBPINHOLE.so|LIBPINHOLE.a HEADER
set -eu
lib="$1" header="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# a declaration "PINHOLE_API <type> name(" (the type may end in '*'; a long one may put the name
# at the start of the next line)
sed -e '/^PINHOLE_API [^(]*$/N;s/\n/ /' "$header" |
    sed -n 's/^PINHOLE_API .*[ *]\([a-z_][a-z0-9_]*\)(.*/\1/p' | sort >"$tmp/declared"
case "$lib" in
*.a) nm -g --defined-only "$lib" | awk 'NF == 3 && $2 ~ /^[TDBRVW]$/ {print $3}' | sort >"$tmp/exported" ;;
*) nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort >"$tmp/exported" ;;
esac
[ -s "$tmp/declared" ] || { echo "exports: no PINHOLE_API declaration found in $header" >&2; exit 1; }
if ! cmp -s "$tmp/declared" "$tmp/exported"; then
    echo "exports: the exported symbols differ from the header's PINHOLE_API functions" >&2
    echo "(< declared only, > exported only):" >&2
    diff "$tmp/declared" "$tmp/exported" >&2 || true
    exit 1
fi
echo "exports: $(wc -l <"$tmp/declared") functions, exactly the public API"
