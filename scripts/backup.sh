#!/usr/bin/env bash
# Back up Gradient: the PostgreSQL database (pg_dump, custom format) and the private media
# folder (MEDIA_ROOT: report files, register uploads, evidence), into one new folder.
#
#   DATABASE_URL=postgres://... MEDIA_ROOT=/srv/gradient/media scripts/backup.sh /backups
#
# Writes /backups/gradient-YYYYmmddTHHMMSSZ/ with database.dump, media.tar.gz, and SHA256SUMS
# (checked by scripts/restore.sh), and prints that folder's path on the last line. The
# database is dumped first, then the media: a file is written before the row that names it,
# so every row's file is in the archive (a few files of reports that expired meanwhile may be
# too; the clean-up removes them). Runs while the app runs (pg_dump reads one snapshot).
# Exit status: 0 done, 2 bad usage or setting, other: the failing tool's.
set -euo pipefail

die() { echo "backup: $*" >&2; exit 2; }

[[ $# -eq 1 ]] || die "usage: scripts/backup.sh DESTINATION_FOLDER"
dest_root=$1
url=${DATABASE_URL:-}
media=${MEDIA_ROOT:-}
[[ -n $url ]] || die "DATABASE_URL is not set (postgres://user@host:5432/name)"
case $url in
  postgres://*|postgresql://*) ;;
  pgsql://*) url="postgresql://${url#pgsql://}" ;;
  *) die "DATABASE_URL must be a postgres:// URL (the SQLite demo: copy var/gradient.sqlite3 with sqlite3 .backup)" ;;
esac
[[ -n $media ]] || die "MEDIA_ROOT is not set (the folder of report files, uploads and evidence)"
[[ -d $media ]] || die "MEDIA_ROOT $media is not a folder"
command -v pg_dump >/dev/null || die "pg_dump is not installed (Debian: postgresql-client)"

mkdir -p "$dest_root"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
dest="$dest_root/gradient-$stamp"
[[ ! -e $dest ]] || die "$dest exists already"
mkdir "$dest.partial"
trap 'rm -rf "$dest.partial"' ERR

# Custom format: compressed, restorable table by table, and in parallel (pg_restore -j).
pg_dump --dbname="$url" --format=custom --no-owner --no-privileges \
  --file="$dest.partial/database.dump"
tar --create --gzip --file="$dest.partial/media.tar.gz" --directory="$media" .
( cd "$dest.partial" && sha256sum database.dump media.tar.gz > SHA256SUMS )
# Only complete backups get their final name.
mv "$dest.partial" "$dest"
trap - ERR
echo "$dest"
