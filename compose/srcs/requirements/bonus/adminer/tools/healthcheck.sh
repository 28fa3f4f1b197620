#!/bin/sh
# Healthy = php-fpm answers its FastCGI ping on port 9000.
set -eu
SCRIPT_NAME=/ping SCRIPT_FILENAME=/ping REQUEST_METHOD=GET \
  cgi-fcgi -bind -connect 127.0.0.1:9000 | grep -q pong
