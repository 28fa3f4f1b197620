import { appendFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { buildBox, type BuiltBox } from '../../box/build.js';
import { startLibvirt, type Libvirt } from '../helpers/libvirt.js';
import { createNetns, type Netns } from '../helpers/netns.js';

// Shared set-up of the e2e test (and of the bench): the local box, a network namespace with its
// own libvirt, a scratch LABCTL_HOME, stage timings. Boxes are big, so they are cached outside the
// repo (E2E_CACHE_DIR) and reused; without the cache everything is built from scratch.

export const E2E_CACHE_DIR = process.env.LABCTL_E2E_CACHE ?? '/var/cache/labctl-test';
export const E2E_SUITE = process.env.LABCTL_E2E_SUITE ?? 'trixie';
/** Programs the e2e test needs on the host, with the Debian package that ships each. */
export const HOST_PROGRAMS: Record<string, string> = {
  vagrant: 'vagrant vagrant-libvirt',
  libvirtd: 'libvirt-daemon-system',
  virtlogd: 'libvirt-daemon-system',
  'qemu-system-x86_64': 'qemu-system-x86',
  'qemu-img': 'qemu-utils',
  debootstrap: 'debootstrap',
  dnsmasq: 'dnsmasq-base',
  sfdisk: 'fdisk',
  iptables: 'iptables',
  nsenter: 'util-linux',
  ssh: 'openssh-client',
  nc: 'netcat-openbsd',
  curl: 'curl',
  openssl: 'openssl',
  // labctl layers --html is opened in headless Chromium.
  chromium: 'chromium',
};

export interface Harness {
  ns: Netns;
  libvirt: Libvirt;
  box: BuiltBox;
  /** Scratch directory of this run (LABCTL_HOME, Vagrantfiles), removed at teardown. */
  workDir: string;
  /** Environment for vagrant and labctl run inside the namespace. */
  env: Record<string, string>;
  log: (line: string) => void;
  logFile: string;
  timings: Map<string, number>;
  timed<T>(stage: string, fn: () => Promise<T>): Promise<T>;
  teardown(): Promise<void>;
}

/** Fails early with the packages to install rather than half-way through a 10-minute run. */
export async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('the e2e test needs root (network namespaces, iptables, libvirtd, loop devices): run it as root or under sudo');
  }
  const missing: string[] = [];
  for (const [program, pkg] of Object.entries(HOST_PROGRAMS)) {
    const found = await execa('sh', ['-c', 'export PATH="$PATH:/usr/sbin:/sbin"; command -v "$1"', 'which', program], { reject: false });
    if (found.exitCode !== 0) missing.push(pkg);
  }
  if (missing.length > 0) throw new Error(`missing host programs; apt-get install ${[...new Set(missing)].join(' ')}`);
}

/** `bake`: use the box with Docker and debian:bookworm preinstalled (labctl/<suite>-baked). */
export async function setUpHarness(opts: { bake?: boolean } = {}): Promise<Harness> {
  await preflight();
  const workDir = await mkdtemp(join(tmpdir(), 'labctl-e2e-'));
  // Outside workDir so that it survives teardown: it is what to read when the test fails.
  const logDir = join(E2E_CACHE_DIR, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `e2e-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  console.log(`e2e log: ${logFile}`);
  const started = Date.now();
  const log = (line: string) => {
    appendFileSync(logFile, `${((Date.now() - started) / 1000).toFixed(1).padStart(7)} ${line}\n`);
  };
  const timings = new Map<string, number>();
  const timed = async <T>(stage: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    log(`>> ${stage}`);
    try {
      return await fn();
    } finally {
      timings.set(stage, Date.now() - t);
      log(`<< ${stage}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
  };
  const vagrantHome = join(E2E_CACHE_DIR, 'vagrant-home');
  mkdirSync(vagrantHome, { recursive: true });
  const env = {
    VAGRANT_HOME: vagrantHome,
    LABCTL_HOME: join(workDir, 'labctl-home'),
    // No network access to HashiCorp from here: never phone home for versions or box updates.
    VAGRANT_CHECKPOINT_DISABLE: '1',
    VAGRANT_BOX_UPDATE_CHECK_DISABLE: '1',
    VAGRANT_DEFAULT_PROVIDER: 'libvirt',
  };

  const box = await timed('box build (or reuse)', () =>
    buildBox({
      suite: E2E_SUITE,
      provider: 'libvirt',
      bake: opts.bake ?? false,
      outDir: join(E2E_CACHE_DIR, 'boxes'),
      vagrantHome,
      force: process.env.LABCTL_E2E_FORCE_BOX === '1',
      log,
    }),
  );
  let ns: Netns | undefined;
  let libvirt: Libvirt | undefined;
  const teardown = async () => {
    try {
      await libvirt?.stop();
    } finally {
      await ns?.teardown();
    }
    log(`timings (s): ${JSON.stringify(Object.fromEntries([...timings].map(([k, v]) => [k, Math.round(v / 100) / 10])))}`);
    if (process.env.LABCTL_E2E_KEEP !== '1') await rm(workDir, { recursive: true, force: true });
  };
  try {
    ns = await timed('netns up', () => createNetns({ log }));
    const nsRef = ns;
    libvirt = await timed('libvirtd up', () => startLibvirt(nsRef, { stateDir: join(workDir, 'libvirt'), log }));
    return { ns, libvirt, box, workDir, env, log, logFile, timings, timed, teardown };
  } catch (error) {
    await teardown();
    throw error;
  }
}
