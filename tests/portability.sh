#!/bin/sh
# Portability: build the client and proto tests (tests/portable/) for a 32-bit target (i686), a
# big-endian one (s390x) and the phones' ARM targets, aarch64 (arm64) and armhf (32-bit ARM), with
# Debian's cross compilers, run them (all but i686 under qemu-user), and compare the seeded
# randomizer's report digests with the host's bit for bit.
#
# Needs gcc-12-i686-linux-gnu, gcc-12-s390x-linux-gnu, gcc-12-aarch64-linux-gnu,
# gcc-12-arm-linux-gnueabihf and qemu-user (in .ci/packages; installed here when missing and run as
# root). libsodium for each target comes from Debian's own packages
# (libsodium-dev:i386 / :s390x / :arm64 / :armhf), fetched with apt-get into a private cache without touching the
# system's dpkg architectures and unpacked with dpkg-deb (no root needed). A target whose tools or
# library cannot be had is skipped with a message saying what is missing.
# Exit status: 0 if every available target passed, 1 on any failure.
set -eu
cd "$(dirname "$0")/.."
SRC="$(pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
CACHE="${PINHOLE_PORTABILITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pinhole-portability}"

# every source of common/ and client/ (libpinhole's own; the build lists them in */meson.build)
COMMON=$(ls common/*.c | tr '\n' ' ')
PROTO="proto/report.c proto/batch.c proto/config.c proto/seal.c proto/labels.c proto/discovery.c"
CLIENT=$(ls client/*.c | tr '\n' ' ')
TESTS="test_vectors test_proto test_client"

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

ensure_tools() { # ensure_tools NAME PACKAGES...: 0 if all installed (installing as root), else 1
    name="$1"; shift
    missing=""
    for p in "$@"; do have_pkg "$p" || missing="$missing $p"; done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1; then
        return 0
    fi
    echo "portability: SKIP $name: missing Debian packages:$missing (apt-get install -y$missing)" >&2
    return 1
}

# target_sodium ARCH: unpack Debian's libsodium-dev for ARCH into $CACHE/ARCH (once); 0 or 1.
target_sodium() {
    arch="$1"
    [ -f "$CACHE/$arch/.done" ] && return 0
    apt="$CACHE/apt"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$CACHE/$arch"
    set -- -q -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o Debug::NoLocking=1 \
        -o APT::Architectures::="$(dpkg --print-architecture)" -o APT::Architectures::="$arch"
    # one index of a partially synced mirror may fail; the download below says if it mattered
    apt-get "$@" update >"$WORK/apt-$arch.log" 2>&1 || true
    rm -f "$apt"/libsodium*_"$arch".deb
    if ! (cd "$apt" && apt-get "$@" download "libsodium-dev:$arch" >>"$WORK/apt-$arch.log" 2>&1); then
        echo "portability: SKIP $arch: could not fetch libsodium-dev:$arch:" >&2
        tail -3 "$WORK/apt-$arch.log" >&2
        return 1
    fi
    dpkg-deb -x "$apt"/libsodium-dev_*_"$arch".deb "$CACHE/$arch"
    rm -rf "$apt"
    touch "$CACHE/$arch/.done"
}

# The host's digests, with the host compiler, for comparison.
cc -std=c11 -O1 -D_POSIX_C_SOURCE=200809L -I"$SRC" -I"$SRC/client/include" -o "$WORK/digest-host" \
    tests/portable/report_digest.c $COMMON $PROTO $CLIENT -lsodium -lm -lpthread
"$WORK/digest-host" >"$WORK/digest-host.txt"

failed=0
ran=0
run_target() { # run_target NAME ARCH TRIPLET RUNNER...
    name="$1" arch="$2" triplet="$3"; shift 3
    ensure_tools "$name" "gcc-12-$triplet" qemu-user || return 0
    target_sodium "$arch" || return 0
    gcc="$triplet-gcc-12"
    sodium_a="$(find "$CACHE/$arch" -name libsodium.a | head -1)"
    cflags="-std=c11 -O1 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -I$SRC -I$SRC/client/include -I$CACHE/$arch/usr/include"
    libs="$sodium_a -lm -lpthread"
    objs=""
    for f in $COMMON $PROTO $CLIENT tests/portable/check.c; do
        o="$WORK/$name-$(echo "$f" | tr / _).o"
        $gcc $cflags -c "$f" -o "$o"
        objs="$objs $o"
    done
    for t in $TESTS; do
        $gcc $cflags -static -o "$WORK/$name-$t" "tests/portable/$t.c" $objs $libs
        if ! "$@" "$WORK/$name-$t" "$SRC" >"$WORK/$name-$t.log" 2>&1; then
            echo "portability: FAIL $name $t" >&2
            cat "$WORK/$name-$t.log" >&2
            failed=1
        else
            echo "portability: $name $(tail -1 "$WORK/$name-$t.log")"
        fi
    done
    $gcc $cflags -static -o "$WORK/$name-digest" tests/portable/report_digest.c $objs $libs
    "$@" "$WORK/$name-digest" >"$WORK/digest-$name.txt"
    grep -v '^info:' "$WORK/digest-host.txt" >"$WORK/reports-host.txt"
    grep -v '^info:' "$WORK/digest-$name.txt" >"$WORK/reports-$name.txt"
    if cmp -s "$WORK/reports-host.txt" "$WORK/reports-$name.txt"; then
        echo "portability: $name seeded reports identical to the host's ($(wc -l <"$WORK/reports-host.txt") configurations)"
    else
        echo "portability: FAIL $name seeded reports differ from the host's:" >&2
        diff "$WORK/reports-host.txt" "$WORK/reports-$name.txt" >&2 || true
        failed=1
    fi
    if ! cmp -s "$WORK/digest-host.txt" "$WORK/digest-$name.txt"; then
        echo "portability: note: $name PGR thresholds differ from the host's in the last bits" \
             "(long double precision in common/pgr.c):"
        diff "$WORK/digest-host.txt" "$WORK/digest-$name.txt" | grep '^[<>] info:' | sed 's/^/    /' || true
    fi
    ran=$((ran + 1))
}

# 32-bit little-endian: i686 binaries run natively on x86-64 kernels, else under qemu-i386.
if [ "$(uname -m)" = x86_64 ]; then
    run_target i686 i386 i686-linux-gnu qemu-i386
else
    echo "portability: SKIP i686: host is $(uname -m), not x86_64" >&2
fi
# 64-bit big-endian under qemu-user.
run_target s390x s390x s390x-linux-gnu qemu-s390x
# ARM phones: 64-bit arm64 and 32-bit armhf (hard-float EABI) under qemu-user.
run_target aarch64 arm64 aarch64-linux-gnu qemu-aarch64
run_target armhf armhf arm-linux-gnueabihf qemu-arm

echo "portability: $ran target(s) run"
exit $failed
