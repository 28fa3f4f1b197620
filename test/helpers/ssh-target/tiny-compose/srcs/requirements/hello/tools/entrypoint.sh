#!/bin/sh
# Test double, not a lab service (M10 does not apply): fails unless the secret arrived, records
# only its length (never its value), then idles so the healthcheck has a container to probe.
set -eu
test -s /run/secrets/db_password
printf '%s secret-bytes=%s\n' "$DOMAIN_NAME" "$(wc -c < /run/secrets/db_password)" > /srv/site/ready
exec sleep infinity
