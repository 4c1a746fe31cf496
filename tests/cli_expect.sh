# Shared by the CLI test scripts (sourced, bash): PINHOLE is the binary; counters fail and passed.
fail=0; passed=0

# expect CODE PATTERN ARGS...: exit code CODE and PATTERN somewhere in stdout+stderr
expect() {
  local code=$1 pat=$2; shift 2
  local out; out=$("$PINHOLE" "$@" 2>&1); local rc=$?
  if [ "$rc" != "$code" ] || ! grep -qE -- "$pat" <<<"$out"; then
    echo "FAIL: pinhole $* -> exit $rc (want $code), output:"; echo "$out" | head -5; fail=$((fail+1))
  else passed=$((passed+1)); fi
}
