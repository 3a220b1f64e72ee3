#!/usr/bin/env bash
# Install the Debian packages Gradient needs: WeasyPrint's libraries, CJK fonts for PDFs,
# gettext for the translations, Chromium for the browser tests and poppler for PDF previews.
# Installs only what is missing. Without root or apt-get it says what to install and goes on.
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-microhei fonts-noto-cjk
          gettext chromium poppler-utils)
# pg_dump, pg_restore and psql for scripts/backup.sh and restore.sh (any PostgreSQL version's).
command -v pg_dump >/dev/null 2>&1 || packages+=(postgresql-client)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "Gradient needs these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install ${missing[*]}" >&2
fi
