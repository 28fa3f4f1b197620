import { describe, expect, it } from 'vitest';
import { evaluateContainers, evaluatePid1, evaluateSecretLeaks, evaluateVolumes, evaluateWpUsers, type ContainerInspect } from '../../check/containers.js';

// Shapes follow `docker inspect` output (Docker 26+): only the fields the rules read.
function container(service: string, over: Partial<ContainerInspect['HostConfig']> = {}, mounts: ContainerInspect['Mounts'] = []): ContainerInspect {
  return {
    Name: `/${service}`,
    Config: { Image: `${service}:inception`, Env: ['PATH=/usr/bin'], Labels: { 'com.docker.compose.service': service } },
    State: { Running: true, Pid: 4242, Health: { Status: 'healthy' } },
    HostConfig: { RestartPolicy: { Name: 'unless-stopped' }, NetworkMode: 'inception_inception', PortBindings: service === 'nginx' ? { '443/tcp': [{ HostIp: '', HostPort: '443' }] } : {}, ...over },
    Mounts: mounts,
    NetworkSettings: { Networks: { inception_inception: {} } },
  };
}
const vol = (name: string, dest: string) => [{ Type: 'volume', Name: name, Destination: dest }];
const good = () => [container('nginx', {}, vol('inception_wordpress', '/var/www/html')), container('wordpress', {}, vol('inception_wordpress', '/var/www/html')), container('mariadb', {}, vol('inception_mariadb', '/var/lib/mysql'))];
const failedIds = (r: { id: string; verdict: string }[]) => r.filter((x) => x.verdict === 'fail').map((x) => x.id);

describe('live container rules', () => {
  it('a correct stack passes', () => {
    expect(failedIds(evaluateContainers(good()))).toEqual([]);
  });
  it('flags a restart policy of no, the host network, a bind mount, a second published port', () => {
    const c = good();
    c[2] = container('mariadb', { RestartPolicy: { Name: 'no' } }, [{ Type: 'bind', Source: '/srv/db', Destination: '/var/lib/mysql' }]);
    c[1] = { ...container('wordpress', { PortBindings: { '9000/tcp': [{ HostIp: '', HostPort: '9000' }] } }), NetworkSettings: { Networks: { host: {} } } };
    expect(failedIds(evaluateContainers(c)).sort()).toEqual(['M05.live-published', 'M07.live-mount-mariadb', 'M07.live-mount-wordpress', 'M08.live-network-wordpress', 'M09.live-restart-mariadb'].sort());
  });
  it('flags a missing or stopped service', () => {
    const c = good().slice(0, 2);
    c[0] = { ...container('nginx'), State: { Running: false, Pid: 0 } };
    expect(failedIds(evaluateContainers(c))).toEqual(expect.arrayContaining(['M02.running-nginx', 'M02.running-mariadb']));
  });
  it('volumes must live under /home/<login>/data', () => {
    const ok = { Name: 'inception_mariadb', Driver: 'local', Options: { device: '/home/jdoe/data/mariadb', o: 'bind', type: 'none' }, Labels: { 'com.docker.compose.volume': 'mariadb' } };
    const bad = { Name: 'inception_wordpress', Driver: 'local', Options: null, Labels: { 'com.docker.compose.volume': 'wordpress' } };
    expect(failedIds(evaluateVolumes([ok, bad], 'jdoe'))).toEqual(['M07.live-volume-wordpress']);
  });
  it('PID 1 must be the daemon', () => {
    expect(evaluatePid1('nginx', 'nginx: master process nginx\0-g\0daemon off;\0').verdict).toBe('pass');
    expect(evaluatePid1('wordpress', 'php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)\0').verdict).toBe('pass');
    expect(evaluatePid1('x', '/bin/bash\0/entrypoint.sh\0').verdict).toBe('fail');
    expect(evaluatePid1('x', 'tail\0-f\0/dev/null\0').verdict).toBe('fail');
    expect(evaluatePid1('x', 'sleep\0infinity\0').verdict).toBe('fail');
  });
  it('WordPress needs two users, one admin, no "admin" in any name', () => {
    const admin = 'a:1:{s:13:"administrator";b:1;}';
    const author = 'a:1:{s:6:"author";b:1;}';
    expect(failedIds(evaluateWpUsers([{ login: 'webmaster', capabilities: admin }, { login: 'writer', capabilities: author }]))).toEqual([]);
    expect(failedIds(evaluateWpUsers([{ login: 'SuperAdmin', capabilities: admin }, { login: 'writer', capabilities: author }]))).toEqual(['M11.admin-name']);
    expect(failedIds(evaluateWpUsers([{ login: 'webmaster', capabilities: admin }]))).toEqual(['M11.two-users', 'M11.non-admin']);
  });
  it('finds a secret value in inspect or history output', () => {
    const secrets = new Map([['db_password.txt', 'S3cr3tValue-xyz']]);
    expect(evaluateSecretLeaks('docker-inspect', '["MYSQL_PASSWORD=S3cr3tValue-xyz"]', secrets).verdict).toBe('fail');
    expect(evaluateSecretLeaks('docker-inspect', '["MYSQL_PASSWORD_FILE=/run/secrets/db_password"]', secrets).verdict).toBe('pass');
  });
});
