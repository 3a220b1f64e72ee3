#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY database and an empty media folder.
#
#   DATABASE_URL=postgres://.../gradient_new MEDIA_ROOT=/srv/gradient/media-new \
#     scripts/restore.sh /backups/gradient-20261203T020000Z
#
# Checks the backup's SHA256SUMS first, refuses a database that already has tables and a media
# folder that has files (restoring over live data is never what you meant: create a fresh
# database, `createdb -O gradient gradient_new`, restore, then point DATABASE_URL at it), and
# restores in one transaction: either everything or nothing. Then run `manage.py migrate`
# (a backup from an older release is brought up to date) and start the app.
# Exit status: 0 done, 2 bad usage, a damaged backup or a non-empty target.
set -euo pipefail

die() { echo "restore: $*" >&2; exit 2; }

[[ $# -eq 1 ]] || die "usage: scripts/restore.sh BACKUP_FOLDER"
src=$1
url=${DATABASE_URL:-}
media=${MEDIA_ROOT:-}
[[ -n $url ]] || die "DATABASE_URL is not set (the empty database to restore into)"
case $url in
  postgres://*|postgresql://*) ;;
  pgsql://*) url="postgresql://${url#pgsql://}" ;;
  *) die "DATABASE_URL must be a postgres:// URL" ;;
esac
[[ -n $media ]] || die "MEDIA_ROOT is not set (the empty folder to restore the files into)"
[[ -f $src/SHA256SUMS && -f $src/database.dump && -f $src/media.tar.gz ]] \
  || die "$src is not a backup folder (database.dump, media.tar.gz, SHA256SUMS)"
( cd "$src" && sha256sum --check --quiet SHA256SUMS ) \
  || die "$src is damaged: its files do not match SHA256SUMS"

tables=$(psql "$url" -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") \
  || die "cannot connect to the target database"
[[ $tables == 0 ]] || die "the target database has $tables tables: restore into an empty one"
if [[ -d $media ]] && [[ -n $(ls -A "$media") ]]; then
  die "MEDIA_ROOT $media is not empty: restore into an empty folder"
fi

pg_restore --dbname="$url" --no-owner --no-privileges --exit-on-error --single-transaction \
  "$src/database.dump"
mkdir -p "$media"
tar --extract --gzip --file="$src/media.tar.gz" --directory="$media"
echo "restored $src into the database and $media; now run: python manage.py migrate"
