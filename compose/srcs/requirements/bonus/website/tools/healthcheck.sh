#!/bin/bash
# Healthy = lighttpd answers GET / with 200 (bash's /dev/tcp: no HTTP client in the image).
set -euo pipefail
exec 3<>/dev/tcp/127.0.0.1/8080
printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 5 status <&3
[[ "$status" == "HTTP/1."?" 200"* ]]
