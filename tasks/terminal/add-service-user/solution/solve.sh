#!/bin/bash
set -euo pipefail
groupadd --system ledger
useradd --system --gid ledger --groups adm --home-dir /var/lib/ledger --create-home --shell /usr/sbin/nologin ledger
chmod 750 /var/lib/ledger
