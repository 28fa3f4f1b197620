import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `$LABCTL_HOME`, or `~/.labctl`. */
export function labctlHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.LABCTL_HOME && env.LABCTL_HOME !== '' ? env.LABCTL_HOME : join(homedir(), '.labctl'));
}

/** Where one lab keeps its state. */
export interface LabPaths {
  dir: string;
  /** The resolved LabConfig. */
  config: string;
  vagrantfile: string;
  /** Generated secrets, 0700; each file 0600. */
  secrets: string;
  /** Cached `vagrant ssh-config` output, used by `labctl ssh` and provisioning. */
  sshConfig: string;
  /** Append-only log of the commands labctl ran for this lab. */
  log: string;
}

export function labPaths(name: string, env: NodeJS.ProcessEnv = process.env): LabPaths {
  const dir = join(labctlHome(env), name);
  return {
    dir,
    config: join(dir, 'lab.json'),
    vagrantfile: join(dir, 'Vagrantfile'),
    secrets: join(dir, 'secrets'),
    sshConfig: join(dir, 'ssh-config'),
    log: join(dir, 'labctl.log'),
  };
}

/** The package root (where Vagrantfile.hbs and compose/ live), from src or from dist. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  // lib/ in a checkout, dist/lib/ once built.
  if (dir.endsWith(join('dist', 'lib'))) dir = dirname(dir);
  return dirname(dir);
}

export function hostsFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.LABCTL_HOSTS_FILE && env.LABCTL_HOSTS_FILE !== '' ? env.LABCTL_HOSTS_FILE : '/etc/hosts';
}
