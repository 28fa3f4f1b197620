#!/bin/bash
# Redis entrypoint: the configuration is complete in the image, nothing to prepare but the
# working directory; then redis-server replaces this shell as PID 1 with `exec` (M10).
set -euo pipefail

mkdir -p /var/lib/redis
chown redis:redis /var/lib/redis

if [ "${1:-}" = "redis-server" ]; then
  # Runs as the unprivileged redis user, still as PID 1 (runuser would stay PID 1 itself).
  exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
