#!/bin/bash
# Adminer entrypoint: checks php-fpm's configuration, then hands PID 1 over to php-fpm with `exec`
# (M10). Adminer keeps no credentials: users log in with a MariaDB account (see USER_DOC.md).
set -euo pipefail

mkdir -p /run/php /var/lib/php/sessions
chown root:www-data /var/lib/php/sessions
chmod 1733 /var/lib/php/sessions
php-fpm8.2 --test >/dev/null 2>&1 || { php-fpm8.2 --test; exit 1; }
printf 'adminer-entrypoint: Adminer %s on php-fpm port 9000 (behind nginx at /adminer/)\n' \
  "$(dpkg-query -W -f '${Version}' adminer)" >&2
exec "$@"
