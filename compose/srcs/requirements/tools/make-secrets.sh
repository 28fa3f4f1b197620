#!/usr/bin/env bash
# Creates the Docker secrets that are missing in SECRETS_DIR (M12): random passwords and a
# self-signed TLS certificate for DOMAIN. Existing files are never overwritten, so re-running
# `make` keeps the database reachable with the passwords it was created with.
# Usage: make-secrets.sh SECRETS_DIR DOMAIN
set -euo pipefail

readonly PROG="${0##*/}"
# ftp_password.txt is the FTP user's (bonus B02); created with the others so that switching to
# `make bonus` later needs no new step.
readonly PASSWORD_FILES=(db_root_password.txt db_password.txt wp_admin_password.txt wp_user_password.txt ftp_password.txt)
readonly TLS_DAYS=825
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $1"; [ -z "${2:-}" ] || log "hint: $2"; exit 1; }

[ $# -eq 2 ] || die "usage: $PROG SECRETS_DIR DOMAIN"
DIR="$1" DOMAIN="$2"
[[ "$DOMAIN" =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]] || die "invalid domain '$DOMAIN'" "check DOMAIN_NAME in srcs/.env"
command -v openssl >/dev/null 2>&1 || die "openssl is not installed" "apt-get install openssl"

umask 077
mkdir -p "$DIR"
chmod 0700 "$DIR"

# 24 random bytes as 32 URL-safe base64 characters (as labctl generates them): strong, and
# safe inside SQL, PHP and shell strings.
for name in "${PASSWORD_FILES[@]}"; do
  file="$DIR/$name"
  [ -e "$file" ] && continue
  (set -o noclobber; openssl rand -base64 24 | tr '+/' '-_' >"$file")
  log "created $file"
done

crt="$DIR/tls.crt" key="$DIR/tls.key"
if [ -e "$crt" ] && [ -e "$key" ]; then
  exit 0
fi
if [ -e "$crt" ] || [ -e "$key" ]; then
  die "only one of $crt and $key exists" "delete the remaining one and run make again to get a new pair"
fi
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days "$TLS_DAYS" \
  -subj "/CN=$DOMAIN" -addext "subjectAltName=DNS:$DOMAIN" \
  -keyout "$key" -out "$crt" 2>/dev/null
chmod 0600 "$crt" "$key"
log "created a self-signed certificate for $DOMAIN ($crt, $key)"
