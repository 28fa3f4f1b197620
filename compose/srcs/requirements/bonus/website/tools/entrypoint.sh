#!/bin/bash
# Static site entrypoint: checks lighttpd's configuration, then hands PID 1 over to lighttpd in
# the foreground with `exec` (M10).
set -euo pipefail

lighttpd -tt -f /etc/lighttpd/lighttpd.conf >/dev/null \
  || { printf 'website-entrypoint: error: invalid lighttpd configuration\n' >&2; exit 1; }
printf 'website-entrypoint: serving /var/www/site on port 8080 (behind nginx at /site/)\n' >&2
exec "$@"
