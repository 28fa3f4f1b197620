import { MANDATORY } from './role-names.js';
import { serviceName, type ContainerInspect, type VolumeInspect } from './inspect.js';
import { assignRoles, roleLabel, type RoleMatch, type Roles } from './roles.js';

export { serviceName, type ContainerInspect, type VolumeInspect } from './inspect.js';
import { fail, pass, type CheckResult } from './types.js';
import { guestPaths } from '../core/guest-paths.js';

// Pure verdicts over `docker inspect` / `docker volume inspect` JSON from the VM, so that the
// rules are unit-testable with the engine's real output.

/**
 * The container-level rules. Ids keep the role's name (`M02.running-nginx`) whatever the service
 * is called, so that a class's grade sheet has the same columns for every project.
 */
export function evaluateContainers(containers: readonly ContainerInspect[], roles: Roles = assignRoles(containers)): CheckResult[] {
  const out: CheckResult[] = [];
  for (const name of MANDATORY) {
    const match = roles.get(name);
    const c = match?.container;
    const label = roleLabel(name, match);
    if (!c) out.push(fail(`M02.running-${name}`, `no ${name} container (none is named after it or runs it as PID 1)`));
    else if (!c.State.Running) out.push(fail(`M02.running-${name}`, `${label} is not running`));
    else out.push(pass(`M02.running-${name}`, `${label} running${c.State.Health ? ` (${c.State.Health.Status})` : ''}`));
  }
  for (const c of containers) {
    const name = serviceName(c);
    const [repo, tag] = c.Config.Image.split(':');
    out.push(repo === name && tag !== 'latest' ? pass(`M04.live-image-${name}`, `image ${c.Config.Image}`) : fail(`M04.live-image-${name}`, `${name} runs image ${c.Config.Image}`));
    const policy = c.HostConfig.RestartPolicy?.Name ?? 'no';
    out.push(policy && policy !== 'no' ? pass(`M09.live-restart-${name}`, `restart policy ${policy}`) : fail(`M09.live-restart-${name}`, `${name} has restart policy "${policy}"`));
    const mode = c.HostConfig.NetworkMode ?? '';
    const nets = Object.keys(c.NetworkSettings?.Networks ?? {});
    out.push(
      mode === 'host' || nets.includes('host')
        ? fail(`M08.live-network-${name}`, `${name} uses the host network`)
        : nets.some((n) => !['bridge', 'none'].includes(n))
          ? pass(`M08.live-network-${name}`, `${name} on ${nets.join(', ')}`)
          : fail(`M08.live-network-${name}`, `${name} is not on a user-defined network (${nets.join(', ') || mode})`),
    );
  }
  const published = containers.flatMap((c) =>
    Object.entries(c.HostConfig.PortBindings ?? {}).flatMap(([port, binds]) => (binds ?? []).map((b) => `${serviceName(c)}:${b.HostPort}->${port}`)),
  );
  const roleServices = new Map([...roles].map(([role, m]) => [serviceName(m.container), role]));
  const mandatoryPublished = published.filter((p) => roleServices.has(p.split(':')[0] ?? ''));
  const nginxService = roles.get('nginx') ? serviceName((roles.get('nginx') as RoleMatch).container) : 'nginx';
  out.push(
    mandatoryPublished.length === 1 && mandatoryPublished[0] === `${nginxService}:443->443/tcp`
      ? pass('M05.live-published', `only ${nginxService}:443 is published`)
      : fail('M05.live-published', `published: ${mandatoryPublished.join(', ') || 'nothing'}`),
  );
  for (const name of ['mariadb', 'wordpress'] as const) {
    const c = roles.get(name)?.container;
    if (!c) continue;
    const binds = (c.Mounts ?? []).filter((m) => m.Type === 'bind' && !m.Destination.startsWith('/run/secrets'));
    const volumes = (c.Mounts ?? []).filter((m) => m.Type === 'volume');
    out.push(
      binds.length > 0
        ? fail(`M07.live-mount-${name}`, `${name} bind-mounts ${binds[0]?.Source} at ${binds[0]?.Destination}`)
        : volumes.length > 0
          ? pass(`M07.live-mount-${name}`, `${name} uses volume ${volumes[0]?.Name} at ${volumes[0]?.Destination}`)
          : fail(`M07.live-mount-${name}`, `${name} has no volume`),
    );
  }
  return out;
}

export function evaluateVolumes(volumes: readonly VolumeInspect[], login: string): CheckResult[] {
  const root = `${guestPaths(login).data}/`;
  const out = volumes.map((v) => {
    const device = v.Options?.device ?? '';
    return v.Driver === 'local' && device.startsWith(root)
      ? pass(`M07.live-volume-${v.Labels?.['com.docker.compose.volume'] ?? v.Name}`, `${v.Name} → ${device}`)
      : fail(`M07.live-volume-${v.Labels?.['com.docker.compose.volume'] ?? v.Name}`, `${v.Name} keeps its data in ${device || 'Docker\'s own directory'}, not under ${root}`);
  });
  out.push(volumes.length >= 2 ? pass('M07.live-two-volumes', `${volumes.length} volumes`) : fail('M07.live-two-volumes', `${volumes.length} volume(s)`));
  return out;
}

/** PID 1's command line (NUL-separated, as in /proc/1/cmdline) must be a daemon, not a waiter. */
export function evaluatePid1(service: string, cmdline: string): CheckResult {
  const argv = cmdline.split('\0').filter(Boolean);
  const shown = argv.join(' ');
  const prog = (argv[0] ?? '').split('/').at(-1) ?? '';
  if (argv.length === 0) return fail(`M10.live-pid1-${service}`, `cannot read PID 1 of ${service}`);
  if (['sh', 'bash', 'dash', 'ash', 'zsh'].includes(prog)) return fail(`M10.live-pid1-${service}`, `PID 1 of ${service} is a shell: ${shown}`);
  if (['tail', 'sleep'].includes(prog)) return fail(`M10.live-pid1-${service}`, `PID 1 of ${service} only waits: ${shown}`);
  return pass(`M10.live-pid1-${service}`, `PID 1: ${shown}`);
}

/** WordPress users with their capabilities row: two users, one admin whose name avoids "admin". */
export function evaluateWpUsers(rows: readonly { login: string; capabilities: string }[]): CheckResult[] {
  const admins = rows.filter((r) => /"administrator"/.test(r.capabilities));
  const out: CheckResult[] = [];
  out.push(rows.length >= 2 ? pass('M11.two-users', `${rows.length} users: ${rows.map((r) => r.login).join(', ')}`) : fail('M11.two-users', `${rows.length} WordPress user(s); two are required`));
  out.push(admins.length >= 1 ? pass('M11.one-admin', `administrator: ${admins.map((a) => a.login).join(', ')}`) : fail('M11.one-admin', 'no administrator account'));
  const badNames = rows.filter((r) => /admin/i.test(r.login));
  out.push(badNames.length === 0 ? pass('M11.admin-name', 'no user name contains "admin"') : fail('M11.admin-name', `user name "${badNames[0]?.login}" contains "admin"`));
  out.push(rows.length - admins.length >= 1 ? pass('M11.non-admin', 'a second, non-admin user exists') : fail('M11.non-admin', 'every user is an administrator'));
  return out;
}

/** No generated secret value may appear in `docker inspect` or `docker history` output (M12). */
export function evaluateSecretLeaks(where: string, text: string, secrets: ReadonlyMap<string, string>): CheckResult {
  const leaked = [...secrets.entries()].filter(([, v]) => v.length >= 8 && text.includes(v)).map(([k]) => k);
  return leaked.length === 0 ? pass(`M12.no-leak-${where}`, `no secret value in ${where}`) : fail(`M12.no-leak-${where}`, `${leaked.join(', ')} visible in ${where}`);
}
