#!/bin/bash
# Checks the pastebin configuration and its storage folder; reward 1 when every check passes.
fail() { echo "FAIL: $*"; echo 0 > /logs/verifier/reward.txt; exit 0; }
conf=/etc/pastebin/pastebin.conf

[ -f "$conf" ] || fail "$conf is missing"
declare -A want=([listen_address]=0.0.0.0 [port]=8080 [storage_dir]=/srv/pastebin [max_paste_size]=512K [log_level]=warning)
for key in "${!want[@]}"; do
  values=$(sed -n "s/^$key = //p" "$conf")
  [ "$values" = "${want[$key]}" ] || fail "$key is '${values//$'\n'/, }', not ${want[$key]}"
done
# every other line (comments, blank lines, the other settings) as shipped, in order
pattern="^($(IFS='|'; echo "${!want[*]}")) = "
diff <(grep -Ev "$pattern" /tests/shipped.conf) <(grep -Ev "$pattern" "$conf") || fail "other lines of $conf changed"
[ -d /srv/pastebin ] || fail "/srv/pastebin is not a folder"
owner=$(stat -c '%U:%G %a' /srv/pastebin)
[ "$owner" = "www-data:www-data 750" ] || fail "/srv/pastebin is $owner, not www-data:www-data 750"
echo "PASS: pastebin is configured"
echo 1 > /logs/verifier/reward.txt
