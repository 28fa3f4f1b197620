#!/bin/sh
# Healthy = php-fpm answers its FastCGI ping on port 9000. php-fpm only starts once the entrypoint
# has finished installing WordPress, so this also means "the site is ready".
set -eu
SCRIPT_NAME=/ping SCRIPT_FILENAME=/ping REQUEST_METHOD=GET \
  cgi-fcgi -bind -connect 127.0.0.1:9000 | grep -q pong
