#!/bin/bash
# Runs logsum as an unprivileged user on a log it has not seen; reward 1 when every check passes.
fail() { echo "FAIL: $*"; echo 0 > /logs/verifier/reward.txt; exit 0; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env PATH=/usr/local/bin:/usr/bin:/bin "$@"; }

[ -f /usr/local/bin/logsum ] || fail "/usr/local/bin/logsum does not exist"
cp /tests/hidden.log /tmp/hidden.log && chmod 644 /tmp/hidden.log
got=$(as_nobody logsum /tmp/hidden.log) || fail "logsum exited with $? for a readable log"
[ "$got" = "$(cat /tests/expected.txt)" ] || fail "logsum printed:
$got
expected:
$(cat /tests/expected.txt)"
out=$(as_nobody logsum /tmp/no-such.log 2>/tmp/err); status=$?
[ "$status" = 1 ] || fail "logsum exited with $status for a missing file, not 1"
[ -z "$out" ] || fail "logsum printed on stdout for a missing file: $out"
[ -s /tmp/err ] || fail "logsum printed no error on stderr for a missing file"
echo "PASS: logsum works for every user"
echo 1 > /logs/verifier/reward.txt
