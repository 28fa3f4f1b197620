/** Where `vagrant ssh-config` says the guest's sshd listens, and the key it accepts. */
export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
}
