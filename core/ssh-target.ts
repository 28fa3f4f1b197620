import { parse } from 'shell-quote';

/** Where `vagrant ssh-config` says the guest's sshd listens, and the key it accepts. */
export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
  /**
   * The ProxyCommand to reach the guest through, as argv with OpenSSH's %h/%p/%r tokens still in
   * it: a VM on another machine's libvirt (vagrant-libvirt's `ssh host -W %h:%p`) is reached
   * through that machine. Absent for a local VM.
   */
  proxyCommand?: readonly string[];
}

/**
 * The ProxyCommand line of an ssh config as argv, or a string saying why it cannot be run without a
 * shell (pipes, redirections, variables): labctl runs programs from argv arrays only.
 */
export function parseProxyCommand(line: string): string[] | string {
  const words = parse(line, (name) => `$${name}`);
  const argv: string[] = [];
  for (const word of words) {
    if (typeof word !== 'string' || word.includes('$')) return `ProxyCommand "${line}" needs a shell (operators or variables); labctl runs it from argv only`;
    argv.push(word);
  }
  return argv.length === 0 ? 'ProxyCommand is empty' : argv;
}

/** Replaces OpenSSH's %h, %p, %r and %% in each word of a ProxyCommand. */
export function expandProxyCommand(argv: readonly string[], target: Pick<SshTarget, 'host' | 'port' | 'username'>): string[] {
  const tokens: Record<string, string> = { h: target.host, p: String(target.port), r: target.username, '%': '%' };
  return argv.map((word) => word.replace(/%([hpr%])/g, (_, t: string) => tokens[t] ?? ''));
}
