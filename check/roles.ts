import { MANDATORY, NAMED_AS, type Role } from './role-names.js';
import { serviceName, type ContainerInspect } from './inspect.js';

// Which container plays which part of the mandatory stack, whatever the project calls it. A
// student's services may be `web`, `php` and `db`, or have no container_name at all: the rules
// are about the web server, WordPress with php-fpm and the database, not about three names.

export type { Role };

export interface RoleMatch {
  container: ContainerInspect;
  /** How it was recognised, for the evidence: "service name", "PID 1 nginx: master process …". */
  how: string;
}

export type Roles = Map<Role, RoleMatch>;

/** What PID 1 of each role looks like (nginx and php-fpm rewrite their own command lines). */
const PID1_OF: Record<Role, RegExp> = {
  nginx: /^(\S*\/)?nginx\b/,
  wordpress: /^(\S*\/)?php-fpm/,
  mariadb: /^(\S*\/)?(mariadbd|mysqld|mariadbd-safe|mysqld_safe)\b/,
};


function pid1Text(cmdline: string | undefined): string {
  return (cmdline ?? '').split('\0').filter(Boolean).join(' ');
}

/**
 * One container per role: a service named exactly after the role first (labctl's compose/ and
 * most hand-ins), then PID 1's program, then a service or image name that says it. A container
 * takes one role at most.
 */
export function assignRoles(containers: readonly ContainerInspect[], pid1: ReadonlyMap<string, string> = new Map()): Roles {
  const roles: Roles = new Map();
  const taken = new Set<ContainerInspect>();
  const claim = (role: Role, container: ContainerInspect | undefined, how: string) => {
    if (container === undefined || roles.has(role) || taken.has(container)) return;
    roles.set(role, { container, how });
    taken.add(container);
  };
  for (const role of MANDATORY) claim(role, containers.find((c) => serviceName(c) === role), 'service name');
  for (const role of MANDATORY) {
    const c = containers.find((x) => !taken.has(x) && PID1_OF[role].test(pid1Text(pid1.get(x.Name))));
    claim(role, c, `PID 1 ${pid1Text(c ? pid1.get(c.Name) : '').slice(0, 60)}`);
  }
  for (const role of MANDATORY) {
    const c = containers.find((x) => !taken.has(x) && (NAMED_AS[role].test(serviceName(x)) || NAMED_AS[role].test(x.Config.Image.split(':')[0] ?? '')));
    claim(role, c, `named ${c ? serviceName(c) : ''}`);
  }
  return roles;
}

/** `nginx (service web, PID 1 nginx: master …)` when the role is not the service's own name. */
export function roleLabel(role: Role, match: RoleMatch | undefined): string {
  if (!match) return role;
  const service = serviceName(match.container);
  return service === role ? role : `${role} (service ${service}, ${match.how})`;
}

export function containerRef(match: RoleMatch): string {
  return match.container.Name.replace(/^\//, '');
}
