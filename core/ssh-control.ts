import type { LabPaths } from './paths.js';

// One OpenSSH connection per lab, shared by `labctl ssh`, `labctl logs` and `labctl status`: the
// first ssh becomes the master (ControlMaster=auto) and later ones ride on it through the control
// socket, with no TCP or key exchange of their own (seconds on a software-emulated VM).

/** How long the master outlives its last session; `halt`, `reboot`, `up` and `destroy` end it sooner. */
export const CONTROL_PERSIST_SECONDS = 600;
/**
 * A master whose VM vanished (powered off outside labctl) would make every later ssh wait on a dead
 * TCP connection: keepalives end it after about SERVER_ALIVE_INTERVAL_S × SERVER_ALIVE_COUNT_MAX.
 */
export const SERVER_ALIVE_INTERVAL_S = 10;
export const SERVER_ALIVE_COUNT_MAX = 3;

/**
 * ssh options that share the lab's connection; none when the socket path does not fit (see
 * LabPaths.sshControl). ControlPersist makes ssh fork the master into the background with its
 * stdio on /dev/null, so it never holds a caller's pipe open (`labctl ssh -- true | cat` returns).
 */
export function sshControlOptions(paths: Pick<LabPaths, 'sshControl'>): string[] {
  if (paths.sshControl === undefined) return [];
  return [
    '-o', 'ControlMaster=auto',
    // ssh reads the value like a config line: quoted for spaces, % doubled against its %-tokens.
    '-o', `ControlPath="${paths.sshControl.replaceAll('%', '%%')}"`,
    '-o', `ControlPersist=${CONTROL_PERSIST_SECONDS}`,
    '-o', `ServerAliveInterval=${SERVER_ALIVE_INTERVAL_S}`,
    '-o', `ServerAliveCountMax=${SERVER_ALIVE_COUNT_MAX}`,
  ];
}

/** The alias under which `vagrant ssh-config` lists the machine (first `Host` line). */
export function sshConfigHostAlias(text: string): string {
  return /^Host\s+(\S+)/m.exec(text)?.[1] ?? 'default';
}
