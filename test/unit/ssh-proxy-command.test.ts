import { describe, expect, it } from 'vitest';
import { parseSshConfig } from '../../adapters/vagrant.js';
import { ExternalCommandError } from '../../core/errors.js';
import { expandProxyCommand, parseProxyCommand } from '../../core/ssh-target.js';

// What vagrant-libvirt 0.11 prints for a VM on another machine's libvirt (libvirt.uri qemu+ssh://…):
// the guest's management address, reached through that machine with ssh -W.
const REMOTE_SSH_CONFIG = `Host default
  HostName 192.168.121.57
  User vagrant
  Port 22
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile /home/teacher/.labctl/alice/.vagrant/machines/default/libvirt/private_key
  IdentitiesOnly yes
  LogLevel FATAL
  PubkeyAcceptedKeyTypes +ssh-rsa
  HostKeyAlgorithms +ssh-rsa
  ProxyCommand ssh '10.77.0.11' -l 'root' -i '/home/teacher/.ssh/class key' -W %h:%p
`;

describe('ProxyCommand from vagrant ssh-config', () => {
  it('is kept as argv, quotes removed, tokens left for later', () => {
    const target = parseSshConfig(REMOTE_SSH_CONFIG);
    expect(target.host).toBe('192.168.121.57');
    expect(target.proxyCommand).toEqual(['ssh', '10.77.0.11', '-l', 'root', '-i', '/home/teacher/.ssh/class key', '-W', '%h:%p']);
  });

  it('a local VM has none', () => {
    expect(parseSshConfig(REMOTE_SSH_CONFIG.replace(/^ {2}ProxyCommand.*\n/m, '')).proxyCommand).toBeUndefined();
  });

  it('expands %h, %p, %r and %% per word', () => {
    expect(expandProxyCommand(['ssh', '-W', '%h:%p', '-l', '%r', '100%%'], { host: '192.168.121.57', port: 2222, username: 'vagrant' })).toEqual([
      'ssh',
      '-W',
      '192.168.121.57:2222',
      '-l',
      'vagrant',
      '100%',
    ]);
  });

  it.each(['nc host 22 | tee log', 'ssh $JUMP -W %h:%p', 'ssh host; rm -rf /', ''])('refuses %j, which needs a shell', (line) => {
    expect(typeof parseProxyCommand(line)).toBe('string');
  });

  it('a shell-only ProxyCommand in ssh-config is a typed error with a hint', () => {
    expect(() => parseSshConfig(`${REMOTE_SSH_CONFIG}  ProxyCommand nc %h %p | cat\n`.replace(/^ {2}ProxyCommand ssh.*\n/m, ''))).toThrow(ExternalCommandError);
  });
});
