#!/usr/bin/env bash
# Installs the Debian packages labctl's tests need on a Debian 12 (bookworm) host.
# Compose v2 is not packaged for bookworm: `docker-compose` comes from trixie, pinned so that
# nothing else is taken from it unasked. trixie's docker-compose needs trixie's docker-cli, which
# conflicts with bookworm's docker.io, so the engine comes from trixie as well (it runs on
# bookworm's containerd and runc). The mirror is read from this host's own apt sources.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  debootstrap make openssh-server openssh-client rsync curl ca-certificates openssl iproute2 iptables
  vagrant vagrant-libvirt libvirt-daemon-system qemu-system-x86 qemu-utils dnsmasq-base fdisk e2fsprogs
  shellcheck
  # labctl layers --html: the tests open the page in headless Chromium.
  chromium
)

mirror_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f"
  done | head -n 1
  grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '$2 !~ /security/ { print $2; exit }' || true
}

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$codename" != "trixie" ] && [ ! -f /etc/apt/sources.list.d/labctl-trixie.sources ]; then
  uri=$(mirror_uri | head -n 1)
  if [ -z "$uri" ]; then echo "host-packages: cannot find a Debian mirror in /etc/apt/sources*" >&2; exit 1; fi
  printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
    > /etc/apt/sources.list.d/labctl-trixie.sources
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/labctl-trixie
fi

missing=()
DOCKER_PACKAGES=(docker.io docker-cli docker-compose)
for p in "${PACKAGES[@]}" "${DOCKER_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "host-packages: all present"
  exit 0
fi
echo "host-packages: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
if [ "$codename" = "trixie" ]; then
  apt-get install -y -qq "${DOCKER_PACKAGES[@]}" >/dev/null
else
  apt-get install -y -qq "${DOCKER_PACKAGES[@]/%//trixie}" >/dev/null
fi
docker compose version
