#!/bin/sh
# Install the build into a temporary directory (meson install --destdir), check what is installed
# (one header, pinhole/pinhole.h; Cflags without library folders), then build
# docs/examples/report.c against the INSTALLED headers and library through pkg-config, shared and
# static, and run it: two reports within the daily budget (each posted as a batch to a file), the
# third refused by the policy.
# Usage: install_example.sh BUILD_DIR SOURCE_DIR
set -eu
build="$(cd "$1" && pwd)"
src="$(cd "$2" && pwd)"
dest="$(mktemp -d)"
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --quiet --no-rebuild
pc="$(find "$dest" -name libpinhole.pc | head -1)"
[ -n "$pc" ] || { echo "install_example: libpinhole.pc was not installed" >&2; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$dest"
libdir="$(pkg-config --variable=libdir libpinhole)"
soname="$(readelf -d "$libdir/libpinhole.so" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')"
[ "$soname" = "libpinhole.so.0" ] || { echo "install_example: soname '$soname'" >&2; exit 1; }
echo "install_example: installed $(pkg-config --modversion libpinhole), soname $soname"
# one public header, under include/pinhole/, and nothing internal; no source folder on the path
includedir="$(pkg-config --variable=includedir libpinhole)"
headers="$(cd "$includedir" && find . -name '*.h' | sort | tr '\n' ' ')"
[ "$headers" = "./pinhole/pinhole.h " ] || { echo "install_example: installed headers: $headers" >&2; exit 1; }
case " $(pkg-config --cflags libpinhole) " in
*/pinhole\ * | */pinhole/* | *common* | *proto* | *client*)
    echo "install_example: Cflags '$(pkg-config --cflags libpinhole)' put a library folder on the path" >&2
    exit 1 ;;
esac
cd "$dest"
# the source tree must not be visible: compile from a copy, with only pkg-config's flags
cp "$src/docs/examples/report.c" .
cc -std=c11 -Wall -Wextra -Werror report.c $(pkg-config --cflags libpinhole) -o report-shared \
    $(pkg-config --libs libpinhole)
# the public header alone, as C++ (JNI and Objective-C++ code include it)
printf '#include <pinhole/pinhole.h>\nint main() { return pinhole_init(); }\n' >app.cpp
c++ -std=c++11 -Wall -Wextra -Werror app.cpp $(pkg-config --cflags libpinhole) -o app-cpp \
    $(pkg-config --libs libpinhole)
LD_LIBRARY_PATH="$libdir" ./app-cpp
# static: the installed archive, plus the private dependencies pkg-config --static lists
cc -std=c11 -Wall -Wextra -Werror report.c $(pkg-config --cflags libpinhole) -o report-static \
    "$libdir/libpinhole.a" $(pkg-config --static --libs libpinhole | sed 's/-lpinhole\b//')
if ldd report-static | grep -q libpinhole; then
    echo "install_example: the static build links libpinhole.so" >&2; exit 1
fi
LD_LIBRARY_PATH="$libdir" ./report-shared budget.txt 7 batch.bin
# the second report's batch: 8 header bytes, 4 length bytes, one sealed report (56 + 2 + 48)
LD_LIBRARY_PATH="$libdir" ./report-shared budget.txt 7 batch.bin | grep -q "reports left in the outbox: 0"
size="$(wc -c <batch.bin)"
[ "$size" -eq 118 ] || { echo "install_example: the batch has $size bytes, not 118" >&2; exit 1; }
status=0
./report-static budget.txt 7 batch.bin || status=$?
if [ "$status" -ne 3 ]; then
    echo "install_example: the third report (epsilon 12 > budget 10) was not refused" >&2; exit 1
fi
echo "install_example: shared and static builds from the installed library work"
