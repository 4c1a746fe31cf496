#!/bin/sh
# Attacks from the same network against a live server on loopback (tests/attack.py: slow heads,
# slow bodies, pinned bodies, a connection flood, malformed requests; about 15 s), then: nothing
# stored, and the database passes the recount check.
# usage: attack.sh PINHOLE-SERVER ATTACK-PY
set -eu
server=$1 attack=$2
# shellcheck source=tests/support/server_lib.sh
. "$(dirname "$0")/support/server_lib.sh"
server_tmp attack
fail() { echo "FAIL: $*"; exit 1; }
ulimit -n 8192 2>/dev/null || ulimit -n 4096 || true
echo adm >"$tmp/adm"
echo ana >"$tmp/ana"
start_server s "$server" --db "$tmp/d.db" --admin-token-file "$tmp/adm" \
    --analyst-token-file "$tmp/ana" --head-timeout 2 --connection-limit 1024 \
    --body-buffer-bytes 67108864 --body-buffer-bytes-per-address 16777216 \
    --max-body-bytes 2097152 --log-level warn
# shellcheck disable=SC2154 # set by start_server
pid=$pid_s url=$url_s
curl -sf -H 'Authorization: Bearer adm' -H 'Content-Type: application/json' \
    -d '{"name": "attack", "epsilon": 2, "k": 100, "min_reports": 0}' "$url/v1/collections" \
    >/dev/null || fail "cannot create the collection"
python3 "$attack" "$(cat "$tmp/port.s")" "$pid" ana || fail "the attacks got through"
reports=$(curl -sf -H 'Authorization: Bearer ana' "$url/v1/collections/1" |
    sed 's/.*"reports":\([0-9]*\).*/\1/')
[ "$reports" = 0 ] || fail "$reports reports were stored"
stop_server s
"$server" check --db "$tmp/d.db" >/dev/null || fail "check"
echo "ok: attacks refused, nothing stored"
