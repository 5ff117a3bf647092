#!/bin/bash
# Checks the ledger system account; reward 1 when every check passes, else 0.
fail() { echo "FAIL: $*"; echo 0 > /logs/verifier/reward.txt; exit 0; }

entry=$(getent passwd ledger) || fail "there is no user ledger"
IFS=: read -r _ _ uid gid _ home shell <<< "$entry"
[ "$uid" -lt 1000 ] || fail "ledger's UID $uid is not a system UID (below 1000)"
[ "$(getent group "$gid" | cut -d: -f1)" = ledger ] || fail "ledger's primary group is not ledger"
[ "$home" = /var/lib/ledger ] || fail "ledger's home is $home"
[ "$shell" = /usr/sbin/nologin ] || fail "ledger's shell is $shell"
[ -d /var/lib/ledger ] || fail "/var/lib/ledger is not a folder"
mode=$(stat -c '%U:%G %a' /var/lib/ledger)
[ "$mode" = "ledger:ledger 750" ] || fail "/var/lib/ledger is $mode, not ledger:ledger 750"
id -nG ledger | tr ' ' '\n' | grep -qx adm || fail "ledger is not in group adm"
echo "PASS: the ledger account is set up"
echo 1 > /logs/verifier/reward.txt
