#!/bin/bash
# Healthy = proftpd accepts a connection on 21 and greets with "220" (bash's /dev/tcp: no client
# program needed in the image).
set -euo pipefail
exec 3<>/dev/tcp/127.0.0.1/21
IFS= read -r -t 5 banner <&3
printf 'QUIT\r\n' >&3
[[ "$banner" == 220* ]]
