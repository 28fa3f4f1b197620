#!/bin/sh
# Starts dockerd in the background and sshd in the foreground. The test passes the public half of
# a key it generated (AUTHORIZED_KEY); run with --init so zombies are reaped.
set -eu

: "${AUTHORIZED_KEY:?the test must pass AUTHORIZED_KEY}"
ssh-keygen -A >/dev/null
install -d -m 0700 -o vagrant -g vagrant /home/vagrant/.ssh
printf '%s\n' "$AUTHORIZED_KEY" > /home/vagrant/.ssh/authorized_keys
chown vagrant:vagrant /home/vagrant/.ssh/authorized_keys
chmod 0600 /home/vagrant/.ssh/authorized_keys
mkdir -p /run/sshd

# On a cgroup v2 host, nested containers need the root cgroup emptied and its controllers
# delegated (what the official docker:dind image does).
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers > /sys/fs/cgroup/cgroup.subtree_control || :
fi

dockerd > /var/log/dockerd.log 2>&1 &
exec /usr/sbin/sshd -D -e
