#!/bin/sh
# Healthy = nginx completes a TLS handshake on 443 and answers HTTP (any status: the health of
# WordPress behind it is the wordpress container's own health check).
set -eu
curl --silent --insecure --max-time 5 --output /dev/null \
  --resolve "${DOMAIN_NAME}:443:127.0.0.1" "https://${DOMAIN_NAME}/"
