#!/bin/bash
set -euo pipefail
cat > /usr/local/bin/logsum <<'LOGSUM'
#!/bin/bash
# logsum FILE: how many lines of each level a log holds, most frequent first.
if [ $# -ne 1 ] || [ ! -f "$1" ] || [ ! -r "$1" ]; then
  echo "logsum: cannot read ${1:-the log (usage: logsum FILE)}" >&2
  exit 1
fi
awk '$2 ~ /^[A-Z]+$/ { count[$2]++ } END { for (level in count) print level, count[level] }' "$1" | sort -k2,2nr -k1,1
LOGSUM
chmod 755 /usr/local/bin/logsum
