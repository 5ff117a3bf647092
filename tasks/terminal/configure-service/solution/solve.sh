#!/bin/bash
set -euo pipefail
sed -i \
  -e 's/^listen_address = .*/listen_address = 0.0.0.0/' \
  -e 's/^port = .*/port = 8080/' \
  -e 's|^storage_dir = .*|storage_dir = /srv/pastebin|' \
  -e 's/^max_paste_size = .*/max_paste_size = 512K/' \
  -e 's/^log_level = .*/log_level = warning/' \
  /etc/pastebin/pastebin.conf
install -d -o www-data -g www-data -m 750 /srv/pastebin
pastebin-check
