import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ExternalCommandError, TimeoutError } from '../core/errors.js';
import { pollUntil } from '../core/poll.js';
import { run, tryRun, writeFileAsRoot, type Log } from './exec.js';
import { DISK_SIZE_GIB, fstab, grubConfig } from './guest-files.js';
import { mountPseudoFs, unmountPseudoFs } from './rootfs.js';

// Step 2 of the box recipe: rootfs directory → bootable raw disk (one MBR partition, ext4, GRUB for
// BIOS) → qcow2. The file system's UUID is chosen here, so fstab and grub.cfg are written into the
// rootfs before mkfs.ext4 copies it (-d) and nothing needs to be probed afterwards.

export const MKFS_TIMEOUT_MS = 10 * 60_000;
export const GRUB_INSTALL_TIMEOUT_MS = 5 * 60_000;
export const QCOW2_CONVERT_TIMEOUT_MS = 15 * 60_000;
/** How long the kernel may take to create /dev/loopNp1 after `losetup --partscan`. */
export const PARTITION_NODE_TIMEOUT_MS = 10_000;
const PARTITION_NODE_POLL_MS = 250;

/** One bootable Linux partition filling the disk, starting at 1 MiB (room for GRUB's core.img). */
const PARTITION_TABLE = 'label: dos\nstart=2048, type=83, bootable\n';

export interface DiskOptions {
  rootfs: string;
  /** Scratch directory for the raw image and the mount point. */
  workDir: string;
  log: Log;
  signal?: AbortSignal | undefined;
}

/** Builds `<workDir>/disk.raw` from the rootfs; returns its path. */
export async function makeBootableRawDisk(opts: DiskOptions): Promise<string> {
  const { rootfs, workDir, log, signal } = opts;
  const raw = join(workDir, 'disk.raw');
  const mnt = join(workDir, 'mnt');
  await mkdir(mnt, { recursive: true });
  const uuid = randomUUID();
  const step = { log, privileged: true, signal };

  await writeFileAsRoot(join(rootfs, 'etc/fstab'), fstab(uuid), '0644', step);
  await writeFileAsRoot(join(rootfs, 'boot/grub/grub.cfg'), grubConfig(uuid), '0644', step);

  await run(['truncate', '--size', `${DISK_SIZE_GIB}G`, raw], { ...step, timeoutMs: 30_000 });
  await run(['sfdisk', '--quiet', raw], { ...step, timeoutMs: 60_000, input: PARTITION_TABLE });

  const loop = (await run(['losetup', '--find', '--show', '--partscan', raw], { ...step, timeoutMs: 60_000 })).trim();
  try {
    const part = await partitionNode(loop, log);
    await run(['mkfs.ext4', '-q', '-F', '-L', 'labctl-root', '-U', uuid, '-d', rootfs, part], { ...step, timeoutMs: MKFS_TIMEOUT_MS });
    await run(['mount', part, mnt], { ...step, timeoutMs: 60_000 });
    try {
      await mountPseudoFs(mnt, log);
      try {
        await run(['chroot', mnt, 'grub-install', '--target=i386-pc', '--no-floppy', loop], {
          ...step,
          timeoutMs: GRUB_INSTALL_TIMEOUT_MS,
          env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
          hint: 'GRUB could not be written to the loop device; is grub-pc in the rootfs?',
        });
      } finally {
        await unmountPseudoFs(mnt, log);
      }
    } finally {
      await tryRun(['umount', mnt], { ...step, timeoutMs: 60_000 });
    }
  } finally {
    await tryRun(['losetup', '--detach', loop], { ...step, timeoutMs: 60_000 });
  }
  return raw;
}

/** /dev/loopNp1, asking the kernel to (re)read the partition table when the node does not appear. */
async function partitionNode(loop: string, log: Log): Promise<string> {
  const part = `${loop}p1`;
  return pollUntil(
    async (attempt) => {
      if (existsSync(part)) return part;
      if (attempt > 1) return undefined;
      // Seen on these machines: --partscan sometimes creates no node (no udev); partx adds it.
      await tryRun(['partx', '--add', loop], { log, privileged: true, timeoutMs: 30_000 });
      return existsSync(part) ? part : undefined;
    },
    {
      timeoutMs: PARTITION_NODE_TIMEOUT_MS,
      intervalMs: PARTITION_NODE_POLL_MS,
      // tryRun logs and swallows partx's failure; nothing else here is worth retrying.
      stopOn: () => true,
      onTimeout: () => {
        throw new TimeoutError(`partition device ${part} did not appear within ${PARTITION_NODE_TIMEOUT_MS / 1000} s`, {
          hint: 'loop devices need partition support: try `losetup -P` by hand, or load the loop module with max_part=8',
        });
      },
    },
  );
}

/** raw → qcow2 (sparse: only written clusters are stored). Returns the virtual size in GiB. */
export async function convertToQcow2(raw: string, qcow2: string, log: Log, signal?: AbortSignal): Promise<number> {
  await run(['qemu-img', 'convert', '-O', 'qcow2', raw, qcow2], { log, privileged: true, timeoutMs: QCOW2_CONVERT_TIMEOUT_MS, signal });
  const info = await run(['qemu-img', 'info', '--output=json', qcow2], { log: () => {}, privileged: true, timeoutMs: 60_000 });
  const bytes = (JSON.parse(info) as { 'virtual-size'?: number })['virtual-size'];
  if (typeof bytes !== 'number') throw new ExternalCommandError(['qemu-img', 'info', qcow2], 0, info, { hint: 'the qcow2 image looks corrupt; rebuild' });
  return Math.ceil(bytes / 1024 ** 3);
}
