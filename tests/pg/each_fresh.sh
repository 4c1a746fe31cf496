#!/bin/sh
# Run every test of a Criterion executable on a fresh PostgreSQL database of its own, on the server
# PINHOLE_PG_URI names (run under tests/pg/cluster.sh run): the executable finds the database's
# URL in PINHOLE_TEST_STORE_URL (what tests/server/store/test_keys.c and test_retention.c read).
# usage: each_fresh.sh EXECUTABLE
set -eu
exe=$1
: "${PINHOLE_PG_URI:?run under tests/pg/cluster.sh run}"
suite=$("$exe" --list | sed -n '1s/: .*//p')
status=0
for t in $("$exe" --list | sed -n 's/^[^a-z_]*\([a-z_0-9]*\)$/\1/p'); do
    db="t_$t"
    psql "$PINHOLE_PG_URI" -qc "CREATE DATABASE $db"
    PINHOLE_TEST_STORE_URL=$(echo "$PINHOLE_PG_URI" | sed "s|///pinhole?|///$db?|") \
        "$exe" --filter "$suite/$t" || status=1
    psql "$PINHOLE_PG_URI" -qc "DROP DATABASE $db WITH (FORCE)"
done
exit $status
