#!/usr/bin/env bash
# Builds a minimal Debian base image locally and imports it into Docker under a tag
# (default: debian:bookworm), for machines that cannot pull from Docker Hub (offline
# classrooms, rate limits, CI sandboxes). It is the offline stand-in for
# `docker pull debian:bookworm`; the Makefile only calls it when that pull fails.
#
# The image is built with debootstrap --variant=minbase from a Debian mirror: the one given with
# --mirror, or else debootstrap's own default. No mirror host name is written here on purpose:
# the mirror actually used ends up in the image's apt sources, so `apt-get` inside the image
# talks to the same archive the image came from.
#
# Usage: build-base-image.sh [--suite bookworm] [--tag debian:bookworm] [--mirror URL] [--force]
set -euo pipefail

readonly PROG="${0##*/}"
SUITE="bookworm"
TAG=""
MIRROR=""
FORCE=0

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $1"; [ -z "${2:-}" ] || log "hint: $2"; exit 1; }

usage() {
  cat <<EOF
Usage: $PROG [--suite SUITE] [--tag NAME:TAG] [--mirror URL] [--force]

Build a minimal Debian image with debootstrap (variant minbase) and import it into Docker.

  --suite SUITE    Debian suite to bootstrap (default: bookworm)
  --tag NAME:TAG   image tag to create (default: debian:SUITE)
  --mirror URL     Debian mirror to bootstrap from (default: debootstrap's own default)
  --force          rebuild even when the tag already exists
  -h, --help       show this help

Needs root (or passwordless sudo), debootstrap and a running Docker engine.
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --suite) [ $# -ge 2 ] || die "--suite needs a value"; SUITE="$2"; shift 2 ;;
    --suite=*) SUITE="${1#*=}"; shift ;;
    --tag) [ $# -ge 2 ] || die "--tag needs a value"; TAG="$2"; shift 2 ;;
    --tag=*) TAG="${1#*=}"; shift ;;
    --mirror) [ $# -ge 2 ] || die "--mirror needs a value"; MIRROR="$2"; shift 2 ;;
    --mirror=*) MIRROR="${1#*=}"; shift ;;
    --force) FORCE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[ -n "$TAG" ] || TAG="debian:${SUITE}"
[[ "$SUITE" =~ ^[a-z][a-z0-9-]*$ ]] || die "invalid suite name: $SUITE"

command -v docker >/dev/null 2>&1 || die "docker is not installed" "install Docker Engine (Debian: apt-get install docker.io)"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer" "start dockerd, or add your user to the docker group"

if docker image inspect "$TAG" >/dev/null 2>&1 && [ "$FORCE" -eq 0 ]; then
  log "image $TAG already exists; nothing to do (use --force to rebuild)"
  exit 0
fi

# debootstrap must create device nodes and chown files: it needs real root.
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    die "debootstrap needs root" "run this script as root, or pull the image instead: docker pull $TAG"
  fi
fi
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] \
  || die "debootstrap is not installed" "apt-get install debootstrap"
DEBOOTSTRAP="$(command -v debootstrap 2>/dev/null || echo /usr/sbin/debootstrap)"

WORKDIR="$(mktemp -d "${TMPDIR:-/var/tmp}/debian-base.XXXXXX")"
ROOTFS="$WORKDIR/rootfs"

# debootstrap mounts /proc and /sys inside the target; unmount anything left there before
# deleting, or rm -rf would reach through into the host's /proc and /sys.
cleanup() {
  local mnt
  if [ -d "$ROOTFS" ]; then
    while read -r mnt; do
      "${SUDO[@]}" umount -l "$mnt" 2>/dev/null || true
    done < <(awk -v root="$ROOTFS/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r)
  fi
  "${SUDO[@]}" rm -rf --one-file-system "$WORKDIR"
}
trap cleanup EXIT

log "bootstrapping Debian $SUITE (variant minbase) into $ROOTFS; this takes a few minutes"
DEBOOTSTRAP_ARGS=(--variant=minbase "$SUITE" "$ROOTFS")
[ -n "$MIRROR" ] && DEBOOTSTRAP_ARGS+=("$MIRROR")
if ! "${SUDO[@]}" "$DEBOOTSTRAP" "${DEBOOTSTRAP_ARGS[@]}" >"$WORKDIR/debootstrap.log" 2>&1; then
  tail -n 20 "$WORKDIR/debootstrap.log" >&2 || true
  die "debootstrap failed for suite $SUITE" "check that the Debian mirror is reachable, or pass one with --mirror URL"
fi

# The mirror debootstrap really used (its default when none was given), read back from the
# sources.list it wrote, so the image's apt points at the same archive.
USED_MIRROR="$(awk '$1 == "deb" { print $2; exit }' "$ROOTFS/etc/apt/sources.list")"
[ -n "$USED_MIRROR" ] || die "could not read the mirror from the bootstrapped sources.list"

log "configuring apt in the image (mirror from debootstrap, suites $SUITE and $SUITE-updates)"
"${SUDO[@]}" tee "$ROOTFS/etc/apt/sources.list" >/dev/null <<EOF
deb $USED_MIRROR $SUITE main
deb $USED_MIRROR $SUITE-updates main
EOF

# Same container conventions as the official Debian images: services must not start while a
# Dockerfile installs packages (no init system in a build), and apt keeps no package cache.
"${SUDO[@]}" tee "$ROOTFS/usr/sbin/policy-rc.d" >/dev/null <<'EOF'
#!/bin/sh
exit 101
EOF
"${SUDO[@]}" chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"
"${SUDO[@]}" tee "$ROOTFS/etc/apt/apt.conf.d/docker-clean" >/dev/null <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
# apt-get update fetches no translated descriptions: nobody reads them in a build.
"${SUDO[@]}" tee "$ROOTFS/etc/apt/apt.conf.d/labctl-no-languages" >/dev/null <<'EOF'
Acquire::Languages "none";
EOF
# A failed build is thrown away whole, so dpkg's fsync after every file buys nothing; in an
# emulated VM it is most of an install's time.
"${SUDO[@]}" tee "$ROOTFS/etc/dpkg/dpkg.cfg.d/labctl-unsafe-io" >/dev/null <<'EOF'
force-unsafe-io
EOF
# Later installs leave out what a container never reads (as Debian's slim images do); licences stay.
"${SUDO[@]}" tee "$ROOTFS/etc/dpkg/dpkg.cfg.d/labctl-slim" >/dev/null <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/groff/*
path-exclude=/usr/share/lintian/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
EOF

# Drop what debootstrap copied from the build host or left behind (host name, resolver, caches,
# package lists), and the documentation minbase already unpacked: Docker supplies hostname and
# resolv.conf at run time.
for dir in usr/share/man usr/share/info usr/share/groff usr/share/lintian var/lib/apt/lists var/cache/apt/archives; do
  if [ -d "$ROOTFS/$dir" ]; then "${SUDO[@]}" find "$ROOTFS/$dir" -mindepth 1 -delete; fi
done
"${SUDO[@]}" rm -rf "$ROOTFS/etc/hostname" "$ROOTFS/etc/resolv.conf" "$ROOTFS/debootstrap" "$ROOTFS/var/log/"*.log
"${SUDO[@]}" find "$ROOTFS/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
"${SUDO[@]}" find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
"${SUDO[@]}" find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
"${SUDO[@]}" find "$ROOTFS/tmp" "$ROOTFS/var/tmp" -mindepth 1 -delete

log "importing the root file system as $TAG"
"${SUDO[@]}" tar --numeric-owner --xattrs -C "$ROOTFS" -c . \
  | docker import \
      --change 'CMD ["bash"]' \
      --change 'ENV LANG=C.UTF-8' \
      --message "debootstrap --variant=minbase $SUITE" \
      - "$TAG" >/dev/null

docker run --rm "$TAG" bash -c 'test -x /usr/bin/apt-get && . /etc/os-release && echo "$PRETTY_NAME"' >"$WORKDIR/check" 2>&1 \
  || die "the imported image $TAG does not start" "rerun with --force; see the output above"
log "built $TAG: $(cat "$WORKDIR/check"), $(docker image inspect -f '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
