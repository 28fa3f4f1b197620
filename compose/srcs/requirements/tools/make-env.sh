#!/usr/bin/env bash
# Creates srcs/.env from srcs/.env.example for a login, unless it already exists (labctl, or a
# student, may have written it: it is never overwritten).
# Usage: make-env.sh ENV_FILE EXAMPLE_FILE LOGIN
set -euo pipefail

readonly PROG="${0##*/}"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $1"; [ -z "${2:-}" ] || log "hint: $2"; exit 1; }

[ $# -eq 3 ] || die "usage: $PROG ENV_FILE EXAMPLE_FILE LOGIN"
ENV_FILE="$1" EXAMPLE="$2" LOGIN="$3"

if [ -f "$ENV_FILE" ]; then
  exit 0
fi
[ -f "$EXAMPLE" ] || die "$EXAMPLE is missing"
[[ "$LOGIN" =~ ^[a-z][a-z0-9-]{0,31}$ ]] \
  || die "invalid login '$LOGIN' (lowercase letters, digits and '-', starting with a letter)" "run: make LOGIN=<your login>"

sed "s/{{LOGIN}}/$LOGIN/g" "$EXAMPLE" >"$ENV_FILE.tmp"
mv "$ENV_FILE.tmp" "$ENV_FILE"
log "created $ENV_FILE for login $LOGIN"
