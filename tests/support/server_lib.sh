# Shared by the test scripts that run pinhole-server (sourced, POSIX sh): starting a server on a free
# loopback port and waiting until it listens. The script sets tmp (its temporary directory) and
# defines fail MESSAGE (report and exit) before it calls start_server.
# shellcheck shell=sh disable=SC2154 # tmp is the calling script's

# start_server NAME COMMAND ARG...: run COMMAND ARG... --port 0 --port-file $tmp/port.NAME in the
# background (COMMAND is the server, or env VAR=VALUE... and the server), its stderr appended to
# $tmp/log.NAME; wait (up to 30 s) for the port file. Sets pid_NAME and url_NAME
# (http://127.0.0.1:PORT) and adds the pid to pids.
start_server() {
    _name=$1
    shift
    rm -f "$tmp/port.$_name"
    "$@" --port 0 --port-file "$tmp/port.$_name" 2>>"$tmp/log.$_name" &
    eval "pid_$_name=$!"
    pids="${pids:-} $!"
    _i=0
    while [ ! -s "$tmp/port.$_name" ]; do
        _i=$((_i + 1))
        [ $_i -lt 3000 ] || fail "server $_name did not start"
        sleep 0.01
    done
    eval "url_$_name=http://127.0.0.1:$(cat "$tmp/port.$_name")"
}

# stop_server NAME: SIGTERM to server NAME and wait for its clean exit (else fail); it leaves pids.
stop_server() {
    eval "_p=\$pid_$1"
    kill -TERM "$_p"
    wait "$_p" || fail "server $1 did not stop cleanly"
    _forget "$_p"
}

# kill_server NAME: SIGKILL to server NAME (a crash), reaped; it leaves pids.
kill_server() {
    eval "_p=\$pid_$1"
    kill -9 "$_p"
    wait "$_p" 2>/dev/null || true
    _forget "$_p"
}

_forget() {
    _left=
    for _q in ${pids:-}; do [ "$_q" = "$1" ] || _left="$_left $_q"; done
    pids=$_left
}

# kill_servers: SIGKILL every server in pids (started, not yet stopped or killed).
kill_servers() {
    for _p in ${pids:-}; do kill -9 "$_p" 2>/dev/null || true; done
}

# server_tmp NAME: a fresh temporary directory /tmp/pinhole-NAME.XXXXXX into tmp; at exit the
# servers are killed (kill_servers) and the directory removed.
server_tmp() {
    tmp=$(mktemp -d "/tmp/pinhole-$1.XXXXXX")
    trap 'kill_servers; rm -rf "$tmp"' EXIT
}
