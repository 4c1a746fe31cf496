#!/bin/sh
# Constant-time check: run tests/ct/ct_encode (built with -DPINHOLE_CT_CHECK) under valgrind
# memcheck with the user's value marked undefined, and fail on any report that a branch or a
# memory index depends on it. First a negative control (ct_encode --control runs the table-based
# code on an undefined value) must be flagged, so a silent valgrind cannot pass the check.
# Usage: ct_check.sh PATH/TO/ct_encode
set -eu
exe="$1"
if ! command -v valgrind >/dev/null 2>&1; then
    echo "ct_check: valgrind is not installed (Debian package 'valgrind', listed in .ci/packages)" >&2
    exit 1
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
valgrind --tool=memcheck --log-file="$log" "$exe" --control >/dev/null 2>&1 || true
if ! grep -q -e "Conditional jump or move depends on uninitialised value" \
             -e "Use of uninitialised value" "$log"; then
    echo "ct_check: the negative control was not flagged; the check is not working" >&2
    cat "$log" >&2
    exit 1
fi
echo "ct_check: negative control flagged ($(grep -c -e 'Conditional jump' -e 'Use of uninit' "$log") reports)"
status=0
valgrind --tool=memcheck --error-exitcode=99 --track-origins=yes --log-file="$log" "$exe" || status=$?
if grep -q -e "Conditional jump or move depends on uninitialised value" \
           -e "Use of uninitialised value" -e "Syscall param" "$log"; then
    echo "ct_check: the randomizer branches on or indexes memory by the user's value:" >&2
    cat "$log" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "ct_check: ct_encode failed (exit $status)" >&2
    cat "$log" >&2
    exit 1
fi
grep "ERROR SUMMARY" "$log"
echo "ct_check: no value-dependent branch or memory index"
