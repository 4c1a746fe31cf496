#!/bin/sh
# Build the installed libpinhole.a as one relocatable object whose hidden symbols are made local:
# the archive then defines exactly the public API (PINHOLE_API) as global symbols, as the shared
# library exports, so the library's internal names cannot collide with an app's at static link.
# usage: localize_archive.sh LD OBJCOPY AR OUT.a ARCHIVE...
set -eu
ld="$1" objcopy="$2" ar="$3" out="$4"
shift 4
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$ld" -r -o "$tmp/pinhole.o" --whole-archive "$@" --no-whole-archive
"$objcopy" --localize-hidden "$tmp/pinhole.o"
rm -f "$out"
"$ar" rcs "$out" "$tmp/pinhole.o"
