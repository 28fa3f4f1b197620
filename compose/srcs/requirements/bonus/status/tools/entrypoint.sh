#!/bin/bash
# Status entrypoint: checks the settings, then hands PID 1 over to the Python server with `exec`
# (M10), running as the unprivileged user nobody (setpriv replaces itself, it does not stay PID 1).
set -euo pipefail

[ -n "${DOMAIN_NAME:-}" ] || { printf 'status-entrypoint: error: DOMAIN_NAME is not set; add it to srcs/.env\n' >&2; exit 1; }
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' /etc/inception-status/services.json \
  || { printf 'status-entrypoint: error: /etc/inception-status/services.json is not valid JSON\n' >&2; exit 1; }
printf 'status-entrypoint: status page on port 8000 (behind nginx at /status/)\n' >&2
exec setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
