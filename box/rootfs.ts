import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../core/errors.js';
import { run, tryRun, writeFileAsRoot, type Log } from './exec.js';
import { DEBOOTSTRAP_TIMEOUT_MS, debootstrapBaseTarball } from './base-image.js';
import {
  BAKED_PACKAGES,
  BASE_IMAGE_TARBALL,
  BASE_PACKAGES,
  dhcpNetworkUnit,
  grubDefaults,
  hostKeysUnit,
  importBaseImageUnit,
  POLICY_RC_D,
  sudoersFile,
  VAGRANT_USER,
  waitOnlineDropIn,
} from './guest-files.js';

// Step 1 of the box recipe: a Debian root file system in a directory, configured for Vagrant.
// Every command that touches the rootfs runs as root (file ownership must be root's in the image).

export const CHROOT_STEP_TIMEOUT_MS = 5 * 60_000;
export const BAKE_INSTALL_TIMEOUT_MS = 20 * 60_000;

/** Where Debian's vagrant package keeps Vagrant's well-known insecure key pair. */
const VAGRANT_GEMS_DIR = '/usr/share/rubygems-integration/all/gems';

export interface RootfsOptions {
  suite: string;
  dir: string;
  /** Reused between builds so that a rebuild downloads nothing new. */
  debCacheDir: string;
  mirror?: string | undefined;
  bake: boolean;
  log: Log;
  signal?: AbortSignal | undefined;
}

export async function debootstrap(opts: RootfsOptions): Promise<void> {
  const argv = [
    'debootstrap',
    '--variant=minbase',
    `--cache-dir=${opts.debCacheDir}`,
    `--include=${BASE_PACKAGES.join(',')}`,
    opts.suite,
    opts.dir,
  ];
  // Without a mirror argument debootstrap uses its own default: no archive host is written here.
  if (opts.mirror !== undefined) argv.push(opts.mirror);
  await run(argv, {
    log: opts.log,
    privileged: true,
    timeoutMs: DEBOOTSTRAP_TIMEOUT_MS,
    signal: opts.signal,
    hint: `check that the Debian mirror is reachable and that "${opts.suite}" is a suite debootstrap knows (ls /usr/share/debootstrap/scripts)`,
  });
}

/** Finds vagrant.pub in Debian's vagrant package (path depends on the packaged version). */
export async function vagrantInsecurePublicKey(log: Log): Promise<string> {
  const listing = await run(['dpkg', '-L', 'vagrant'], { log: () => {}, timeoutMs: 30_000, hint: 'install Debian\'s vagrant package' });
  const path = listing
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith(VAGRANT_GEMS_DIR) && l.endsWith('/keys/vagrant.pub'));
  if (path === undefined) {
    throw new NotFoundError("Vagrant's insecure public key (keys/vagrant.pub) is not in Debian's vagrant package", {
      hint: 'reinstall it: apt-get install --reinstall vagrant',
    });
  }
  log(`using Vagrant's insecure key from ${path}`);
  return (await readFile(path, 'utf8')).trim();
}

/** Writes `content` to `path` inside the rootfs as root, with `mode`. */
async function writeRootFile(rootfs: string, path: string, content: string, mode: string, log: Log): Promise<void> {
  await writeFileAsRoot(join(rootfs, path), content, mode, { log });
}

function chroot(rootfs: string, argv: readonly string[], log: Log, timeoutMs = CHROOT_STEP_TIMEOUT_MS): Promise<string> {
  return run(['chroot', rootfs, ...argv], {
    log,
    privileged: true,
    timeoutMs,
    env: { DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C.UTF-8', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
}

/** Everything Vagrant expects of a base box, plus first-boot hygiene (no shared identities). */
export async function configureRootfs(opts: RootfsOptions & { publicKey: string }): Promise<void> {
  const { dir, log } = opts;
  await writeRootFile(dir, 'etc/hostname', 'labctl\n', '0644', log);
  await writeRootFile(dir, 'etc/hosts', '127.0.0.1\tlocalhost\n127.0.1.1\tlabctl\n::1\tlocalhost ip6-localhost ip6-loopback\n', '0644', log);
  await writeRootFile(dir, 'etc/systemd/network/99-labctl-dhcp.network', dhcpNetworkUnit(), '0644', log);
  await writeRootFile(dir, 'etc/systemd/system/systemd-networkd-wait-online.service.d/labctl-any.conf', waitOnlineDropIn(), '0644', log);
  await writeRootFile(dir, 'etc/systemd/system/labctl-ssh-hostkeys.service', hostKeysUnit(), '0644', log);
  await writeRootFile(dir, 'etc/default/grub', grubDefaults(), '0644', log);
  await writeRootFile(dir, `etc/sudoers.d/${VAGRANT_USER}`, sudoersFile(), '0440', log);

  const exists = await tryRun(['chroot', dir, 'id', VAGRANT_USER], { log: () => {}, privileged: true, timeoutMs: 30_000 });
  if (!exists) await chroot(dir, ['useradd', '--create-home', '--shell', '/bin/bash', '--groups', 'sudo', VAGRANT_USER], log);
  await writeRootFile(dir, `home/${VAGRANT_USER}/.ssh/authorized_keys`, `${opts.publicKey}\n`, '0600', log);
  await chroot(dir, ['chown', '-R', `${VAGRANT_USER}:${VAGRANT_USER}`, `/home/${VAGRANT_USER}/.ssh`], log);
  await chroot(dir, ['chmod', '0700', `/home/${VAGRANT_USER}/.ssh`], log);

  await chroot(dir, ['systemctl', 'enable', 'systemd-networkd.service', 'systemd-resolved.service', 'labctl-ssh-hostkeys.service', 'ssh.service'], log);
  // apt's daily timers grab the dpkg lock right after boot, exactly when provisioning runs apt-get.
  await chroot(dir, ['systemctl', 'disable', 'apt-daily.timer', 'apt-daily-upgrade.timer'], log);
  // A later grub-pc upgrade inside the VM must know where to install without asking.
  await run(['chroot', dir, 'debconf-set-selections'], {
    log,
    privileged: true,
    timeoutMs: 30_000,
    input: 'grub-pc grub-pc/install_devices multiselect /dev/vda\n',
  });
}

/**
 * `--bake`: Docker, Compose and make installed in the image. Needs DNS inside the chroot, which a
 * systemd-resolved rootfs lacks (its resolv.conf points at a stub that is not running): a copy of
 * the host's resolv.conf is put in place for the install and the symlink restored afterwards.
 */
export async function bakeDocker(opts: RootfsOptions): Promise<void> {
  const { dir, log } = opts;
  const resolv = join(dir, 'etc/resolv.conf');
  await run(['mv', '-f', resolv, `${resolv}.labctl`], { log, privileged: true, timeoutMs: 30_000 });
  try {
    await run(['cp', '--dereference', '/etc/resolv.conf', resolv], { log, privileged: true, timeoutMs: 30_000 });
    await writeRootFile(dir, 'usr/sbin/policy-rc.d', POLICY_RC_D, '0755', log);
    await mountPseudoFs(dir, log);
    try {
      await chroot(dir, ['apt-get', 'update'], log, BAKE_INSTALL_TIMEOUT_MS);
      await chroot(dir, ['apt-get', 'install', '-y', '--no-install-recommends', ...BAKED_PACKAGES], log, BAKE_INSTALL_TIMEOUT_MS);
      await chroot(dir, ['apt-get', 'clean'], log);
    } finally {
      await unmountPseudoFs(dir, log);
      await run(['rm', '-f', join(dir, 'usr/sbin/policy-rc.d')], { log, privileged: true, timeoutMs: 30_000 });
    }
  } finally {
    await run(['mv', '-f', `${resolv}.labctl`, resolv], { log, privileged: true, timeoutMs: 30_000 });
  }
}

/**
 * `--bake`, second half: a minbase debian:bookworm rootfs made here with debootstrap (no registry
 * is reachable), tarred into the box and imported by Docker on the VM's first boot.
 */
export async function bakeBaseImage(opts: RootfsOptions & { workDir: string; baseDebCacheDir: string }): Promise<void> {
  const { dir, log } = opts;
  await debootstrapBaseTarball({ workDir: opts.workDir, debCacheDir: opts.baseDebCacheDir, tarball: join(dir, BASE_IMAGE_TARBALL), mirror: opts.mirror, log, signal: opts.signal });
  await writeRootFile(dir, 'etc/systemd/system/labctl-import-base-image.service', importBaseImageUnit(), '0644', log);
  await chroot(dir, ['systemctl', 'enable', 'labctl-import-base-image.service'], log);
}

/** Host-only identities and caches that must not ship in the box. */
export async function scrubRootfs(dir: string, log: Log): Promise<void> {
  await run(['sh', '-c', 'rm -f "$1"/etc/ssh/ssh_host_* "$1"/var/lib/dbus/machine-id && : > "$1"/etc/machine-id && rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*', 'scrub', dir], {
    log,
    privileged: true,
    timeoutMs: 60_000,
  });
}

const PSEUDO_FS = ['proc', 'sys', 'dev'] as const;

export async function mountPseudoFs(root: string, log: Log): Promise<void> {
  for (const fs of PSEUDO_FS) {
    await run(['mount', '--bind', `/${fs}`, join(root, fs)], { log, privileged: true, timeoutMs: 30_000 });
  }
}

/** Best effort and in reverse order: cleanup must go on even if one unmount fails. */
export async function unmountPseudoFs(root: string, log: Log): Promise<void> {
  for (const fs of [...PSEUDO_FS].reverse()) {
    await tryRun(['umount', '--lazy', join(root, fs)], { log, privileged: true, timeoutMs: 30_000 });
  }
}
