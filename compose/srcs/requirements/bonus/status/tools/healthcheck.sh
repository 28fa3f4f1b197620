#!/bin/sh
# Healthy = the status server answers its own /healthz (it does not depend on the other services:
# reporting that they are down is its job).
set -eu
python3 -c 'import sys, urllib.request; sys.exit(0 if urllib.request.urlopen("http://127.0.0.1:8000/healthz", timeout=4).status == 200 else 1)'
