#!/bin/sh
# Compile Java sources into a jar: javac_jar.sh JAVAC JAR OUT.jar CLASSPATH SOURCES...
# (CLASSPATH may be empty). Java 8 class files for the library (Android's minimum), the JDK's own
# level for the tests (which use com.sun.net.httpserver).
set -eu
javac="$1" jar="$2" out="$3" cp="$4"
shift 4
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT
release=""
case "$(basename "$out")" in
pinhole.jar) release="--release 8" ;;
esac
# -Xlint:-options: javac 17 warns that release 8 is old; everything else is an error
"$javac" $release -Xlint:all -Xlint:-options -Werror -encoding UTF-8 -d "$classes" \
    ${cp:+-cp "$cp"} "$@"
"$jar" --create --file "$out" -C "$classes" .
