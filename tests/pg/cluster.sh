#!/bin/sh
# A throwaway PostgreSQL server for tests, benchmarks and the cluster demo: initdb into a temporary
# directory, listen on a unix socket in that directory only (listen_addresses=''), create the
# database `pinhole`, print its libpq connection URI, and stop the server by its PID afterwards.
#
#   tests/pg/cluster.sh run CMD [ARG...]   start, run CMD with PINHOLE_PG_URI set, stop and remove
#                                          everything whether CMD passes or fails (or is
#                                          interrupted); exit status: CMD's
#   tests/pg/cluster.sh start              start one; print its URI (the directory is the URI's
#                                          host); it runs until `stop`
#   tests/pg/cluster.sh stop URI|DIR       stop it (fast shutdown, by PID) and remove its directory
#
# PostgreSQL refuses to run as root: when run as root (as in CI) the server runs as the user named
# by PINHOLE_PG_USER (default `nobody`), which owns the temporary directory. Clients connect over
# the socket as the database superuser `pinhole` with trust authentication: nothing listens on the
# network and the directory is private to that user and root.
#
# Environment: PINHOLE_PG_BIN (default /usr/lib/postgresql/15/bin, else pg_config --bindir),
# PINHOLE_PG_DURABLE=1 keeps fsync on and uses the settings docs/operations.md recommends
# (benchmarks; tests turn fsync off for speed: the tests kill server processes, never PostgreSQL), PINHOLE_PG_OPTS adds `-c name=value` settings,
# TMPDIR where the directory is made.
set -eu

PGBIN="${PINHOLE_PG_BIN:-/usr/lib/postgresql/15/bin}"
[ -x "$PGBIN/initdb" ] || PGBIN="$(pg_config --bindir 2>/dev/null || true)"
if [ ! -x "$PGBIN/initdb" ]; then
    echo "cluster.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
    exit 77 # meson's "skipped"
fi
RUNAS="${PINHOLE_PG_USER:-nobody}"

# as_owner CMD...: run CMD as the user owning the server (ourselves unless we are root)
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u "$RUNAS" -- "$@"; else "$@"; fi
}

uri_of() { echo "postgresql:///pinhole?host=$1&user=pinhole"; }

# dir_of URI|DIR: the directory of a server started by `start`
dir_of() {
    case "$1" in
    postgresql://* | postgres://*) echo "$1" | sed -e 's/.*[?&]host=\([^&]*\).*/\1/' ;;
    *) echo "$1" ;;
    esac
}

start() {
    dir="$(mktemp -d "${TMPDIR:-/tmp}/pinhole-pg.XXXXXX")"
    chmod 700 "$dir"
    [ "$(id -u)" = 0 ] && chown "$RUNAS" "$dir"
    if ! (cd "$dir" && as_owner "$PGBIN/initdb" -D "$dir/data" -U pinhole --auth=trust \
        --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1); then
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        return 1
    fi
    {
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$dir'"
        echo "unix_socket_permissions = 0700"
        echo "max_connections = 100"
        # a flush holds an advisory lock per report: room for 100 connections x 1,024
        echo "max_locks_per_transaction = 1024"
        echo "logging_collector = off"
        if [ "${PINHOLE_PG_DURABLE:-0}" = 1 ]; then # benchmarks: the settings docs/operations.md names
            echo "fsync = on"
            echo "shared_buffers = 256MB"
            echo "wal_compression = lz4"
            echo "max_wal_size = 4GB"
            echo "checkpoint_timeout = 15min"
        else
            echo "fsync = off"
            echo "shared_buffers = 64MB"
        fi
    } >>"$dir/data/postgresql.conf"
    opts=""
    for o in ${PINHOLE_PG_OPTS:-}; do opts="$opts -c $o"; done
    if ! (cd "$dir" && as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "$opts" start >/dev/null 2>&1); then
        cat "$dir/server.log" >&2 2>/dev/null || true
        stop "$dir" || true
        return 1
    fi
    if ! (cd "$dir" && as_owner "$PGBIN/createdb" -h "$dir" -U pinhole pinhole); then
        stop "$dir" || true
        return 1
    fi
    uri_of "$dir"
}

stop() {
    dir="$(dir_of "$1")"
    case "$dir" in */pinhole-pg.*) ;; *)
        echo "cluster.sh: $dir is not a directory made by cluster.sh start" >&2
        return 1
        ;;
    esac
    pidfile="$dir/data/postmaster.pid"
    if [ -f "$pidfile" ]; then
        pid="$(head -n 1 "$pidfile")"
        # fast shutdown (SIGINT): roll back sessions, checkpoint, exit; immediate (SIGQUIT) after 30 s
        kill -INT "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null; do
            i=$((i + 1))
            [ $i -eq 300 ] && kill -QUIT "$pid" 2>/dev/null || true
            [ $i -ge 600 ] && kill -KILL "$pid" 2>/dev/null || true
            sleep 0.1
        done
    fi
    rm -rf "$dir"
}

case "${1:-}" in
start)
    start
    ;;
stop)
    [ $# -eq 2 ] || { echo "usage: $0 stop URI|DIR" >&2; exit 2; }
    stop "$2"
    ;;
run)
    shift
    [ $# -ge 1 ] || { echo "usage: $0 run CMD [ARG...]" >&2; exit 2; }
    PINHOLE_PG_URI="$(start)" || { echo "cluster.sh: PostgreSQL did not start" >&2; exit 1; }
    export PINHOLE_PG_URI
    trap 'stop "$PINHOLE_PG_URI"' EXIT
    trap 'exit 130' INT TERM
    status=0
    "$@" || status=$?
    exit $status
    ;;
*)
    echo "usage: $0 run CMD [ARG...] | start | stop URI|DIR" >&2
    exit 2
    ;;
esac
