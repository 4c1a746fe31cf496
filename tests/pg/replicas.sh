#!/bin/sh
# The PostgreSQL cluster end to end: three pinhole-server replicas on loopback share the database
# PINHOLE_PG_URI names (run under tests/pg/cluster.sh run). A client spreads report files over
# them, sends some files to two replicas at once (a retried request landing elsewhere), and sends
# same-id-other-bytes replays; one replica is killed with SIGKILL mid-load and restarted. Then:
#   - every replica serves the same signed config bytes;
#   - every acknowledged report is stored exactly once, and every report of the files is stored;
#   - the replicas' histograms equal, byte for byte, the histogram a single-node SQLite server
#     computes from the same report files (each sent once, plus the same replays);
#   - pinhole-server check (the recount) passes on the database.
# usage: replicas.sh PINHOLE-SERVER PINHOLE
set -eu
server=$1 cli=$2
# shellcheck source=tests/support/server_lib.sh
. "$(dirname "$0")/../support/server_lib.sh"
: "${PINHOLE_PG_URI:?run under tests/pg/cluster.sh run}"
tmp=$(mktemp -d /tmp/pinhole-replicas.XXXXXX)
cleanup() {
    kill_servers
    [ -n "${PINHOLE_KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    tail -n 5 "$tmp"/log.* 2>/dev/null || true
    exit 1
}
export PINHOLE_ADMIN_TOKEN=adm PINHOLE_ANALYST_TOKEN=ana PINHOLE_UPLOADER_TOKEN=up

# start NAME DATABASE: a server on a free port; sets pid_NAME and url_NAME
start() { start_server "$1" "$server" --database "$2" --threads 2; }
stop() { stop_server "$1"; } # stop NAME: SIGTERM, wait for a clean exit
collection() { # collection URL: create the test collection
    curl -sf -H 'Authorization: Bearer adm' -H 'Content-Type: application/json' \
        -d '{"name": "words", "epsilon": 3, "k": 300, "min_reports": 10, "time_precision": 3600}' \
        "$1/v1/collections" >/dev/null || fail "create collection at $1"
}
submit() { # submit URL FILE ACKLOG [RETRIES]
    PINHOLE_TOKEN=up "$cli" submit --url "$1" --collection 1 --reports "$2" --batch 500 \
        --connections 2 --retries "${4:-20}" --ack-log "$3" >>"$tmp/submit.log" 2>&1
}

for r in a b c; do start $r "$PINHOLE_PG_URI"; done
collection "$url_a"
for r in a b c; do
    eval "u=\$url_$r"
    curl -sf "$u/v1/collections/1/config" -o "$tmp/config.$r" || fail "config from $r"
done
cmp -s "$tmp/config.a" "$tmp/config.b" && cmp -s "$tmp/config.a" "$tmp/config.c" ||
    fail "the replicas serve different config bytes"
sign=$(curl -sf "$url_a/v1/keys" | sed 's/.*"config_signing_key":"\([0-9a-f]*\)".*/\1/')

# 12 report files of 4,000 reports over three days of hours; a replay file: the reports of file 0
# with other payload bytes under the same ids
now=$(date +%s)
for f in 0 1 2 3 4 5 6 7 8 9 10 11; do
    seq 1 4000 | awk -v f="$f" '{ print (($1 * 7919 + f * 104729) % 300) }' >"$tmp/values"
    "$cli" encode --config "$tmp/config.a" --verify-key "$sign" \
        --time $((now - f * 21600)) --out "$tmp/r.$f" "$tmp/values" 2>/dev/null ||
        fail "encode file $f"
done
python3 - "$tmp/r.0" "$tmp/replay" <<'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], 'rb').read())
pos = 8
count = struct.unpack_from('<I', data, 4)[0]
for _ in range(count):  # flip the low bit of each report's first payload byte
    n = struct.unpack_from('<I', data, pos)[0]
    data[pos + 4 + 56] ^= 1
    pos += 4 + n
assert pos == len(data)
open(sys.argv[2], 'wb').write(bytes(data))
EOF

# load: file f to replica f mod 3; files 0-3 also, at the same time, to the next replica
i=0
for f in 0 1 2 3 4 5 6 7 8 9 10 11; do
    set -- a b c
    shift $((f % 3)); r=$1
    eval "u=\$url_$r"
    submit "$u" "$tmp/r.$f" "$tmp/ack.$f.1" 2 &
    clients="${clients:-} $!"
    if [ "$f" -lt 4 ]; then
        case $r in a) r2=b ;; b) r2=c ;; c) r2=a ;; esac
        eval "u=\$url_$r2"
        submit "$u" "$tmp/r.$f" "$tmp/ack.$f.2" 2 &
        clients="$clients $!"
    fi
done
# kill replica b once some reports are acknowledged, with its requests in flight
while [ "$(cat "$tmp"/ack.* 2>/dev/null | wc -l)" -lt 8000 ]; do
    i=$((i + 1)); [ $i -lt 6000 ] || fail "no progress"; sleep 0.01
done
kill_server b
for p in $clients; do wait "$p" || true; done # clients of b give up once it is gone
start b "$PINHOLE_PG_URI"
# every file again, each to a replica other than before: finishes what b left undone; the rest
# is acknowledged as duplicates
for f in 0 1 2 3 4 5 6 7 8 9 10 11; do
    set -- b c a
    shift $((f % 3)); eval "u=\$url_$1"
    submit "$u" "$tmp/r.$f" "$tmp/ack.$f.3" || fail "resubmitting file $f"
done
submit "$url_c" "$tmp/replay" "$tmp/ack.replay" || true

# the database: each report of the files exactly once, every acknowledged one among them
psql "$PINHOLE_PG_URI" -Atc "SELECT replace(report_id::text, '-', '') FROM reports" | sort >"$tmp/stored"
[ "$(uniq -d "$tmp/stored" | wc -l)" -eq 0 ] || fail "a report id is stored twice"
[ "$(wc -l <"$tmp/stored")" -eq 48000 ] || fail "$(wc -l <"$tmp/stored") reports stored, not 48000"
cut -d" " -f1 "$tmp"/ack.[0-9]* | sort -u >"$tmp/acked"
[ "$(comm -23 "$tmp/acked" "$tmp/stored" | wc -l)" -eq 0 ] || fail "acknowledged reports missing"
[ ! -s "$tmp/ack.replay" ] || fail "a replay was acknowledged"

# the same files, each once, and the replays into a single-node SQLite server
start s "$tmp/single.db"
collection "$url_s"
for f in 0 1 2 3 4 5 6 7 8 9 10 11; do
    submit "$url_s" "$tmp/r.$f" "$tmp/ack.single" || fail "single node: file $f"
done
submit "$url_s" "$tmp/replay" "$tmp/ack.single.replay" || true
from=$((now - 4 * 86400)) to=$((now + 3600))
q="from=$from&to=$to"
curl -sf -H 'Authorization: Bearer ana' "$url_s/v1/collections/1/histogram?$q" >"$tmp/h.s" ||
    fail "histogram from the single node"
for r in a b c; do
    eval "u=\$url_$r"
    curl -sf -H 'Authorization: Bearer ana' "$u/v1/collections/1/histogram?$q" >"$tmp/h.$r" ||
        fail "histogram from $r"
    cmp -s "$tmp/h.$r" "$tmp/h.s" || fail "replica $r's histogram differs from SQLite's"
done
grep -q '"n":48000' "$tmp/h.s" || fail "the histogram does not count 48000 reports"
for r in a b c s; do stop $r; done
"$server" check --database "$PINHOLE_PG_URI" >"$tmp/check" 2>&1 || fail "recount: $(cat "$tmp/check")"
echo "ok: 48000 reports over 3 replicas (one killed mid-load), $(wc -l <"$tmp/acked") acknowledged," \
    "each stored once; histograms equal to single-node SQLite's; recount ok"
