import { describe, expect, it } from 'vitest';
import { evaluateContainers } from '../../check/containers.js';
import type { ContainerInspect } from '../../check/inspect.js';
import { assignRoles, roleLabel } from '../../check/roles.js';

// Another student's stack: services web, php and db with no container_name (compose names them
// proj-web-1 …), images named after the services. Shapes follow `docker inspect` (Docker 26+).
function container(service: string, ports: Record<string, { HostIp: string; HostPort: string }[]> = {}, mounts: ContainerInspect['Mounts'] = []): ContainerInspect {
  return {
    Name: `/proj-${service}-1`,
    Config: { Image: `${service}:1.0`, Env: [], Labels: { 'com.docker.compose.service': service, 'com.docker.compose.project': 'proj' } },
    State: { Running: true, Pid: 100, Health: { Status: 'healthy' } },
    HostConfig: { RestartPolicy: { Name: 'always' }, NetworkMode: 'proj_back', PortBindings: ports },
    Mounts: mounts,
    NetworkSettings: { Networks: { proj_back: {} } },
  };
}
const vol = (name: string, dest: string) => [{ Type: 'volume', Name: name, Destination: dest }];
const stack = () => [
  container('web', { '443/tcp': [{ HostIp: '', HostPort: '443' }] }, vol('proj_site', '/var/www')),
  container('php', {}, vol('proj_site', '/var/www')),
  container('db', {}, vol('proj_db', '/var/lib/mysql')),
];
// /proc/<pid>/cmdline: NUL-separated; nginx and php-fpm rewrite theirs.
const pid1 = new Map([
  ['/proj-web-1', 'nginx: master process nginx -g daemon off;\0'],
  ['/proj-php-1', 'php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)\0'],
  ['/proj-db-1', 'mariadbd\0--user=mysql\0'],
]);

describe('roles of a project that names its services otherwise', () => {
  it('are recognised by PID 1, and the container rules grade them under the role ids', () => {
    const containers = stack();
    const roles = assignRoles(containers, pid1);
    expect([...roles].map(([role, m]) => [role, m.container.Name])).toEqual([
      ['nginx', '/proj-web-1'],
      ['wordpress', '/proj-php-1'],
      ['mariadb', '/proj-db-1'],
    ]);
    expect(roleLabel('nginx', roles.get('nginx'))).toMatch(/^nginx \(service web, PID 1 nginx: master process/);
    const results = evaluateContainers(containers, roles);
    expect(results.filter((r) => r.verdict === 'fail').map((r) => r.id)).toEqual([]);
    expect(results.find((r) => r.id === 'M05.live-published')?.reason).toBe('only web:443 is published');
    expect(results.find((r) => r.id === 'M02.running-mariadb')?.reason).toMatch(/service db/);
  });

  it('a break is still found under another name: the database published on 3306 fails M05', () => {
    const containers = stack();
    const db = containers[2] as ContainerInspect;
    db.HostConfig.PortBindings = { '3306/tcp': [{ HostIp: '', HostPort: '3306' }] };
    const results = evaluateContainers(containers, assignRoles(containers, pid1));
    expect(results.find((r) => r.id === 'M05.live-published')).toMatchObject({ verdict: 'fail', reason: expect.stringContaining('db:3306->3306/tcp') });
  });

  it('a shell as PID 1 does not hide the role: the service name says it (and M10 fails on its own)', () => {
    const containers = stack();
    const shelled = new Map(pid1);
    shelled.set('/proj-db-1', '/bin/sh\0/usr/local/bin/start.sh\0');
    expect(assignRoles(containers, shelled).get('mariadb')?.container.Name).toBe('/proj-db-1');
  });

  it('a missing role is a failure naming how roles are found, never a pass', () => {
    const containers = stack().slice(0, 2);
    const results = evaluateContainers(containers, assignRoles(containers, pid1));
    expect(results.find((r) => r.id === 'M02.running-mariadb')).toMatchObject({ verdict: 'fail', reason: expect.stringMatching(/no mariadb container/) });
  });

  it("labctl's own names win over PID 1, so the built-in stack is graded as before", () => {
    const named = ['nginx', 'wordpress', 'mariadb'].map((s) => ({ ...container(s), Name: `/${s}` }));
    const roles = assignRoles(named, new Map());
    expect([...roles.values()].map((m) => m.how)).toEqual(['service name', 'service name', 'service name']);
  });
});
