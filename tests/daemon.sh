#!/bin/sh
# pinhole-server as a process: secrets and logs. Under umask 022 the database, its -wal/-shm and
# the generated-tokens file are created 0600, and the generated tokens work but never appear in
# the log; a token given in the environment is wiped from /proc/PID/environ; a database file
# readable by others draws a warning at start; every log line is a JSON object with ts, level and
# event, with one line per request (route pattern, status, bytes, duration, no client address)
# and per job state change; SIGHUP reopens the log file (rotation) and reads the token files again
# (the old token stops working) while the server keeps serving; SIGTERM logs a clean stop; the config-signing key rotates (prepare, activate at restart, retire).
# usage: daemon.sh PINHOLE-SERVER
set -eu
server=$1
tmp=$(mktemp -d /tmp/pinhole-daemon.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/log" ] && cat "$tmp/log"*; exit 1; }
umask 022

start() {
    rm -f "$tmp/port"
    PINHOLE_UPLOADER_TOKEN=up-secret-in-env "$server" --db "$tmp/d.db" --port 0 \
        --analyst-token-file "$tmp/ana.token" \
        --port-file "$tmp/port" --log-file "$tmp/log" 2>"$tmp/stderr" &
    pid=$!
    i=0
    while [ ! -s "$tmp/port" ]; do
        i=$((i + 1)); [ $i -lt 1000 ] || fail "server did not start"; sleep 0.01
    done
    url=http://127.0.0.1:$(cat "$tmp/port")
}
stop() {
    kill -TERM "$pid"
    wait "$pid" || fail "the server did not stop cleanly"
    pid=
}
mode() { stat -c %a "$1"; }

echo ana-old >"$tmp/ana.token"
chmod 600 "$tmp/ana.token"
start
admin=$(sed -n 's/^admin //p' "$tmp/d.db.tokens")
[ -n "$admin" ] || fail "no generated admin token in $tmp/d.db.tokens"
for f in d.db d.db-wal d.db-shm d.db.tokens log; do
    [ "$(mode "$tmp/$f")" = 600 ] || fail "$f is mode $(mode "$tmp/$f")"
done
! grep -q "$admin" "$tmp/log" "$tmp/stderr" || fail "a generated token is in the log"
! tr '\0' '\n' <"/proc/$pid/environ" | grep -q up-secret-in-env ||
    fail "the environment token is still readable in /proc/PID/environ"
curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"name": "d", "epsilon": 2, "k": 10, "min_reports": 0}' "$url/v1/collections" >/dev/null ||
    fail "the generated admin token is refused"
curl -s -H "Authorization: Bearer $admin" "$url/v1/collections/99" >/dev/null
curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"type": "sleep", "params": {"seconds": 0}}' "$url/v1/collections/1/jobs" >/dev/null ||
    fail "cannot queue a job"
i=0
until grep -q '"event":"job".*"state":"done"' "$tmp/log"; do
    i=$((i + 1)); [ $i -lt 500 ] || fail "no log line for the job's end"; sleep 0.01
done

mv "$tmp/log" "$tmp/log.1" # rotation: the server keeps writing to log.1 until SIGHUP
kill -HUP "$pid"
i=0
while [ ! -s "$tmp/log" ]; do
    i=$((i + 1)); [ $i -lt 500 ] || fail "SIGHUP did not reopen the log"; sleep 0.01
done
curl -sf "$url/healthz" >/dev/null || fail "the server stopped serving after SIGHUP"
# token rotation: a new analyst token file takes effect at SIGHUP, the old token stops working
echo ana-rotated >"$tmp/ana.token"
kill -HUP "$pid"
i=0
until curl -sf -H 'Authorization: Bearer ana-rotated' "$url/v1/collections" >/dev/null; do
    i=$((i + 1)); [ $i -lt 300 ] || fail "SIGHUP did not reload the analyst token file"; sleep 0.01
done
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer ana-old' \
    "$url/v1/collections")" = 401 ] || fail "the old analyst token still works after SIGHUP"
stop
[ "$(mode "$tmp/log")" = 600 ] || fail "the reopened log is mode $(mode "$tmp/log")"
[ -s "$tmp/stderr" ] && fail "stderr is not empty: $(cat "$tmp/stderr")"

# signing-key rotation: prepare (the next public key goes into apps), activate (restart), retire
key() { "$server" signing-key "$1" --db "$tmp/d.db" | sed -n "s/^$2 *//p"; }
old=$(key show current)
next=$(key prepare next)
[ "$(key show current)" = "$old" ] && [ ${#next} -eq 64 ] && [ "$next" != "$old" ] ||
    fail "prepare: current $(key show current), next $next"
[ "$(key prepare next)" = "$next" ] || fail "a second prepare replaced the next key"
[ "$(key activate previous)" = "$old" ] || fail "activate did not keep the old key as previous"
[ "$(key show current)" = "$next" ] && [ "$(key show next)" = - ] || fail "activate"

chmod 644 "$tmp/d.db"
start
curl -sf "$url/v1/keys" | grep -q "\"config_signing_key\": *\"$next\"" ||
    fail "the server signs with $(curl -sf "$url/v1/keys"), not the activated key $next"
stop
grep '"event":"file_mode"' "$tmp/log" | grep -q '"mode":"644"' ||
    fail "no warning about a database readable by others"
[ "$(key retire previous)" = - ] || fail "retire kept the previous key"
"$server" signing-key activate --db "$tmp/d.db" >/dev/null 2>&1 && fail "activate without prepare"

cat "$tmp/log.1" "$tmp/log" >"$tmp/all"
python3 - "$tmp/all" <<'EOF' || fail "log lines"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
for l in lines:
    assert {"ts", "level", "event"} <= l.keys(), l
    assert l["ts"].endswith("Z") and l["level"] in ("debug", "info", "warn", "error"), l
events = [l["event"] for l in lines]
for e in ("listening", "generated_tokens", "token_from_environment", "sighup", "stopping"):
    assert e in events, e
assert [l for l in lines if l["event"] == "stopped" and l["clean"] is True], "clean stop"
req = [l for l in lines if l["event"] == "request"]
assert {"method", "route", "status", "bytes", "ms"} <= req[0].keys(), req[0]
assert all("client" not in l for l in req), "client addresses are logged by default"
assert [l for l in req if l["route"] == "/v1/collections/{id}" and l["status"] == 404], req
assert [l for l in req if l["route"] == "/v1/collections" and l["method"] == "POST"
        and l["status"] == 201 and l["bytes"] > 0], req
states = [l["state"] for l in lines if l["event"] == "job"]
assert states[:3] == ["queued", "running", "done"], states
EOF
echo "ok: files 0600, tokens out of the log and the environment, JSON lines, SIGHUP reopens," \
    "signing key rotated"
