#!/bin/sh
# Healthy = Redis answers PING over TCP on its own port.
set -eu
[ "$(redis-cli -h 127.0.0.1 -p 6379 ping)" = "PONG" ]
