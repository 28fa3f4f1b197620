#!/bin/bash
# NGINX entrypoint: renders the server block for DOMAIN_NAME, checks the configuration and the
# TLS secrets, then hands PID 1 over to nginx in the foreground with `exec` (M10).
set -euo pipefail

readonly PROG=nginx-entrypoint
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $1"; [ -z "${2:-}" ] || log "hint: $2"; exit 1; }

[ -n "${DOMAIN_NAME:-}" ] || die "DOMAIN_NAME is not set; add it to srcs/.env"
[[ "$DOMAIN_NAME" =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]] || die "DOMAIN_NAME '$DOMAIN_NAME' is not a valid host name"
for secret in /run/secrets/tls_certificate /run/secrets/tls_key; do
  [ -r "$secret" ] || die "$secret is missing; run make (it creates secrets/tls.crt and secrets/tls.key)"
done

sed "s/__DOMAIN_NAME__/$DOMAIN_NAME/g" /etc/nginx/templates/inception.conf.template \
  >/etc/nginx/conf.d/inception.conf
# Bonus routes only with the bonus services (BONUS_ROUTES=yes, set by make bonus). Their
# upstreams are resolved per request, so nginx starts even before (or without) those containers.
mkdir -p /etc/nginx/bonus.d
rm -f /etc/nginx/bonus.d/*.conf
case "${BONUS_ROUTES:-}" in
  yes) cp /etc/nginx/templates/bonus-locations.conf /etc/nginx/bonus.d/bonus-locations.conf
       log "bonus routes on: /site/, /adminer/, /status/" ;;
  '') ;;
  *) die "BONUS_ROUTES must be 'yes' or empty (got '$BONUS_ROUTES')" ;;
esac
nginx -t -q

log "serving https://$DOMAIN_NAME on port 443"
exec "$@"
