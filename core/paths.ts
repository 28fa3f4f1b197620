import { lstatSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateName } from './config.js';
import { ExitCode, LabctlError } from './errors.js';

/** Built boxes are cached beside the labs and reused until the recipe changes. */
export function boxCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(labctlHome(env), 'boxes');
}

/** base_image host: the debian:bookworm tarball every lab of this host imports. */
export function baseImageCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(boxCacheDir(env), 'base-images');
}

/** `$LABCTL_HOME`, or `~/.labctl`. */
export function labctlHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.LABCTL_HOME && env.LABCTL_HOME !== '' ? env.LABCTL_HOME : join(homedir(), '.labctl'));
}

/** Where one lab keeps its state. */
export interface LabPaths {
  /** The lab's name: the directory's, always validated (never taken from lab.json). */
  name: string;
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
  /**
   * The OpenSSH control socket of the lab's shared connection (ControlMaster), 0600 in the 0700 lab
   * directory; undefined when its path is too long for a UNIX socket (then every ssh connects on its
   * own: a socket elsewhere, such as /tmp, would leave LABCTL_HOME and be open to other users' races).
   */
  sshControl: string | undefined;
}

/** sun_path holds 104 bytes on macOS and the BSDs (108 on Linux), its terminating NUL included. */
export const UNIX_SOCKET_PATH_MAX = 104;
/**
 * ssh binds the master's socket at `<ControlPath>.<16 random characters>` first and renames it
 * into place, so the path it is given must leave room for that suffix too.
 */
const SSH_CONTROL_TEMP_SUFFIX = 17;
const SSH_CONTROL_NAME = 'ssh.sock';

/**
 * The control socket's path, or undefined when ssh could not bind it (too long) or could not be told
 * it: ssh reads `-o ControlPath=…` like a config line, so a double quote or backslash in it would
 * need escaping that ssh does not offer.
 */
export function sshControlPath(dir: string): string | undefined {
  const path = join(dir, SSH_CONTROL_NAME);
  if (Buffer.byteLength(path) + SSH_CONTROL_TEMP_SUFFIX >= UNIX_SOCKET_PATH_MAX) return undefined;
  if (/["\\\n]/.test(path)) return undefined;
  return path;
}

/**
 * Every lab path is made here, from a name that passed validateName, so that no name (from a flag,
 * a positional argument, .env or lab.json) can point outside LABCTL_HOME (`../x`, `/etc`).
 */
export function labPaths(name: string, env: NodeJS.ProcessEnv = process.env): LabPaths {
  validateName(name, 'name');
  const dir = join(labctlHome(env), name);
  return {
    name,
    dir,
    config: join(dir, 'lab.json'),
    vagrantfile: join(dir, 'Vagrantfile'),
    secrets: join(dir, 'secrets'),
    sshConfig: join(dir, 'ssh-config'),
    log: join(dir, 'labctl.log'),
    sshControl: sshControlPath(dir),
  };
}

/** The package root (where Vagrantfile.hbs and compose/ live), from src or from dist. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  // core/ in a checkout, dist/core/ once built.
  if (dir.endsWith(join('dist', 'core'))) dir = dirname(dir);
  return dirname(dir);
}

/** Where the labctl.log of each destroyed lab is kept (a dotted name is never taken for a lab). */
export function destroyedLogPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(labctlHome(env), 'destroyed.log');
}

/** labctl's own Inception project, the one a lab runs unless told otherwise. */
export function builtinProjectDir(): string {
  return join(packageRoot(), 'compose');
}

export function hostsFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.LABCTL_HOSTS_FILE && env.LABCTL_HOSTS_FILE !== '' ? env.LABCTL_HOSTS_FILE : '/etc/hosts';
}

/** Thrown when a path labctl is about to delete or run in is not a lab directory of LABCTL_HOME. */
export class OutsideHomeError extends LabctlError {
  override readonly exitCode = ExitCode.config;
}

/**
 * Refuses to act on `dir` unless it is a direct child of LABCTL_HOME and a real directory (not a
 * symbolic link to somewhere else). Called before every rm -r and every vagrant run.
 */
export function assertInsideHome(dir: string, env: NodeJS.ProcessEnv = process.env): void {
  const home = labctlHome(env);
  const rel = relative(home, resolve(dir));
  if (rel === '' || rel.startsWith('..') || rel.includes(sep) || resolve(home, rel) !== resolve(dir)) {
    throw new OutsideHomeError(`refusing to touch ${dir}: it is not a lab directory inside ${home}`, { hint: 'name a lab from `labctl status`' });
  }
  let isLink = false;
  try {
    isLink = lstatSync(dir).isSymbolicLink();
  } catch {
    return; // Nothing there yet (create makes it) or already gone (destroy is done).
  }
  if (isLink) {
    throw new OutsideHomeError(`refusing to touch ${dir}: it is a symbolic link, not a lab directory`, { hint: `remove the link yourself (rm ${dir}) if it is not yours` });
  }
}
