import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Stand-ins for vagrant, VBoxManage, virsh and sudo, put first on PATH by the hostile-input suite.
// They exist for faults that cannot be caused for real on a test machine without a hypervisor:
// a `vagrant up` that fails or hangs, a VM in a given state, a provider tool that cannot remove a
// machine, a sudo that refuses. Each logs its argv to $FAKE_LOG, one line per call, so that a
// test can assert what labctl ran (and what it did not). Behaviour is chosen per call through
// FAKE_* variables; every default is "works" (virsh domstate: "no such domain", so that vagrant's
// FAKE_VAGRANT_STATE decides, unless FAKE_VIRSH_DOMSTATE names a state).

const VAGRANT = `#!/bin/sh
[ -n "$FAKE_LOG" ] && echo "vagrant $*" >> "$FAKE_LOG"
case "$1" in
  --version) echo "Vagrant 2.4.1"; exit 0 ;;
  plugin) echo "vagrant-libvirt (0.12.2, system)"; exit 0 ;;
  status) echo "1700000000,default,state,\${FAKE_VAGRANT_STATE:-running}"; exit 0 ;;
  up)
    echo "Bringing machine 'default' up with '$3' provider..."
    if [ "$FAKE_VAGRANT_UP" = "fail" ]; then echo "Error while connecting to Libvirt: Failed to connect socket" >&2; exit 1; fi
    if [ "$FAKE_VAGRANT_UP" = "hang" ]; then
      trap 'echo "vagrant got INT" >> "$FAKE_LOG"; exit 1' INT
      i=0; while [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done; exit 0
    fi
    mkdir -p .vagrant/machines/default/"$3" && echo "fake-$$" > .vagrant/machines/default/"$3"/id
    exit 0 ;;
  ssh-config)
    if [ "\${FAKE_VAGRANT_STATE:-running}" != "running" ]; then echo "The provider for this Vagrant-managed machine is reporting that it is not yet ready for SSH." >&2; exit 1; fi
    printf 'Host default\\n  HostName 127.0.0.1\\n  User vagrant\\n  Port 1\\n  IdentityFile /nonexistent/key\\n'; exit 0 ;;
  destroy)
    if [ "$FAKE_VAGRANT_DESTROY" = "fail" ]; then echo "Vagrant failed to initialize: the Vagrantfile is broken" >&2; exit 1; fi
    rm -rf .vagrant; exit 0 ;;
  halt|reload) exit 0 ;;
esac
exit 0
`;

const VBOXMANAGE = `#!/bin/sh
[ -n "$FAKE_LOG" ] && echo "VBoxManage $*" >> "$FAKE_LOG"
[ "$1" = "--version" ] && echo "7.0.20r163906"
exit 0
`;

const VIRSH = `#!/bin/sh
[ -n "$FAKE_LOG" ] && echo "virsh $*" >> "$FAKE_LOG"
case "$*" in
  *--version*) echo "9.0.0"; exit 0 ;;
  *undefine*) if [ "$FAKE_VIRSH" = "fail" ]; then echo "error: failed to connect to the hypervisor" >&2; exit 1; fi; exit 0 ;;
  *domstate*)
    if [ -n "$FAKE_VIRSH_DOMSTATE" ]; then printf '%s\\n\\n' "$FAKE_VIRSH_DOMSTATE"; exit 0; fi
    echo "error: failed to get domain" >&2; exit 1 ;;
esac
if [ "$FAKE_VIRSH" = "fail" ]; then echo "error: failed to connect to the hypervisor" >&2; exit 1; fi
echo "qemu:///system"; exit 0
`;

const SUDO = `#!/bin/sh
[ -n "$FAKE_LOG" ] && echo "sudo $*" >> "$FAKE_LOG"
echo "sudo: a password is required" >&2
exit 1
`;

/** Writes the fakes into `dir`/bin and returns that directory (to put first on PATH). */
export async function writeFakeTools(dir: string): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  for (const [name, text] of Object.entries({ vagrant: VAGRANT, VBoxManage: VBOXMANAGE, virsh: VIRSH, sudo: SUDO })) {
    await writeFile(join(bin, name), text);
    await chmod(join(bin, name), 0o755);
  }
  return bin;
}
