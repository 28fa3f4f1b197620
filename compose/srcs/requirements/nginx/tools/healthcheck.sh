#!/bin/sh
# Healthy = nginx completes a TLS handshake on 443 and answers by itself. The request asks for the
# one path nginx refuses on its own (403, wp-config.php is never served), so the answer does not
# wait for php-fpm: a slow first WordPress page after a boot must not mark nginx unhealthy.
# WordPress's health is the wordpress container's own check.
set -eu
code=$(curl --silent --insecure --max-time 5 --output /dev/null --write-out '%{http_code}' \
  --resolve "${DOMAIN_NAME}:443:127.0.0.1" "https://${DOMAIN_NAME}/wp-config.php")
[ "$code" = 403 ]
