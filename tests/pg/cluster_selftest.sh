#!/bin/sh
# Self-test of tests/pg/cluster.sh: the server it starts answers on its socket only, as the
# database superuser `pinhole`, not as root; after `run` ends (command passed or failed) the server
# process is gone and its directory removed.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
fail() { echo "cluster_selftest: $*" >&2; exit 1; }

# passes: a query runs, over a unix socket, with no TCP listener and the server not running as root
"$here/cluster.sh" run sh -c '
    psql "$PINHOLE_PG_URI" -Atc "select current_user, current_setting(\$\$listen_addresses\$\$),
        inet_server_addr() is null" >"$1"
    dir=$(echo "$PINHOLE_PG_URI" | sed "s/.*host=\([^&]*\).*/\1/")
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    echo "$dir $pid $(stat -c %U "$dir/data") $(ps -o user= -p "$pid")" >>"$1"' sh "$out"
[ "$(sed -n 1p "$out")" = "pinhole||t" ] || fail "unexpected session: $(sed -n 1p "$out")"
set -- $(sed -n 2p "$out")
dir="$1" pid="$2"
[ "$(id -u)" != 0 ] || [ "$3" != root ] || fail "data directory owned by root"
[ "$4" != root ] || fail "postgres ran as root"
[ ! -e "$dir" ] || fail "$dir left behind"
! kill -0 "$pid" 2>/dev/null || fail "server $pid still running"

# fails: the command's status comes back and the server is stopped all the same
status=0
"$here/cluster.sh" run sh -c '
    dir=$(echo "$PINHOLE_PG_URI" | sed "s/.*host=\([^&]*\).*/\1/")
    echo "$dir $(head -n 1 "$dir/data/postmaster.pid")" >"$1"; exit 3' sh "$out" || status=$?
[ "$status" = 3 ] || fail "exit status $status, expected 3"
set -- $(cat "$out")
[ ! -e "$1" ] || fail "$1 left behind after a failing command"
! kill -0 "$2" 2>/dev/null || fail "server $2 still running after a failing command"
echo "cluster_selftest: ok"
