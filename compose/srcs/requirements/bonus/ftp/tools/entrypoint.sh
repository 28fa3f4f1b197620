#!/bin/bash
# FTP entrypoint: creates the FTP user from srcs/.env (FTP_USER) with its password from the Docker
# secret, then hands PID 1 over to proftpd with `exec` (M10). Safe to re-run: an existing user
# only gets its password set again.
set -euo pipefail

readonly WEBROOT=/var/www/html

readonly PROG=ftp-entrypoint
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $1"; [ -z "${2:-}" ] || log "hint: $2"; exit 1; }

# Reads the first line of a Docker secret file; the value never goes to a log or the environment.
read_secret() {
  local file="$1" value
  [ -r "$file" ] || die "secret file $file is missing; run make (it creates the missing files in secrets/) and check the secrets: section of docker-compose.yml"
  IFS= read -r value <"$file" || true
  value="${value%$'\r'}"
  [ -n "$value" ] || die "secret file $file is empty"
  printf '%s' "$value"
}

FTP_USER="${FTP_USER:-}"
[[ "$FTP_USER" =~ ^[a-z][a-z0-9_-]{0,31}$ ]] || die "FTP_USER '$FTP_USER' is not a valid user name (lowercase letters, digits, '-', '_')"
case "$FTP_USER" in
  root | www-data | nobody) die "FTP_USER must be a dedicated user, not $FTP_USER" ;;
esac
for secret in /run/secrets/tls_certificate /run/secrets/tls_key; do
  [ -r "$secret" ] || die "$secret is missing; run make (it creates secrets/tls.crt and secrets/tls.key)"
done
[ -d "$WEBROOT" ] || die "$WEBROOT is not mounted; the wordpress volume must be mounted there"

# The FTP user shares www-data's uid and gid, so that what it uploads belongs to the same owner
# as WordPress's own files (php-fpm and nginx can read and manage it), without loosening any
# permission on the volume.
www_uid="$(id -u www-data)"
www_gid="$(id -g www-data)"
if ! id -u "$FTP_USER" >/dev/null 2>&1; then
  useradd --non-unique --uid "$www_uid" --gid "$www_gid" --home-dir "$WEBROOT" --no-create-home \
    --shell /usr/sbin/nologin "$FTP_USER" 2>/dev/null
  log "created the FTP user '$FTP_USER' (uid $www_uid, the owner of the WordPress files)"
fi
# The password goes through a pipe, never through a command line or the environment. It is read
# into a variable first: a failing read_secret inside printf's arguments would not stop the
# script, and chpasswd would then set an empty password.
ftp_password="$(read_secret "${FTP_PASSWORD_FILE:-/run/secrets/ftp_password}")"
printf '%s:%s\n' "$FTP_USER" "$ftp_password" | chpasswd
unset ftp_password

# Only this user may log in (the <Limit LOGIN> of the configuration includes this file).
mkdir -p /run/proftpd
printf 'AllowUser %s\n' "$FTP_USER" >/run/proftpd/allowed-user.conf
if ! proftpd --configtest --config /etc/proftpd/inception.conf >/dev/null 2>&1; then
  proftpd --configtest --config /etc/proftpd/inception.conf || true
  die "invalid proftpd configuration (/etc/proftpd/inception.conf)"
fi

log "serving $WEBROOT over FTPS (explicit TLS) on port 21, passive ports 21100-21110"
exec "$@"
