import { MANDATORY, NAMED_AS, type Role } from './role-names.js';

// Which service of the compose file is the web server, WordPress and the database, read from the
// files: a service named after the role (the subject's names), then the packages its Dockerfile
// installs, then a service or image name that says it (web, php, db …). The rule ids keep the
// role's name (M02.service-mariadb); the evidence names the service.

export interface StaticRole {
  service: string;
  /** How it was recognised, for the evidence. */
  how: string;
}

export type StaticRoles = Map<Role, StaticRole>;

/** What each role's image installs (apt or apk package names). */
const INSTALLS: Record<Role, RegExp> = {
  nginx: /(?<![\w-])nginx(?![\w-])/,
  // php8.2-fpm, php82-fpm, php${PHP_VERSION}-fpm, php-fpm
  wordpress: /(?<![\w-])php[\w.${}]*-fpm(?![\w-])/,
  // mariadb-server, mysql-server, or Alpine's plain mariadb; not mariadb-client
  mariadb: /(?<![\w-])(mariadb-server|mysql-server|default-mysql-server)(?![\w-])|(?<![\w-])mariadb(?![\w-])/,
};

export interface ServiceFacts {
  name: string;
  /** The package-installing lines of its Dockerfile, '' when there is none. */
  installs: string;
  image: string;
}

export function staticRoles(services: readonly ServiceFacts[]): StaticRoles {
  const roles: StaticRoles = new Map();
  const taken = new Set<string>();
  const claim = (role: Role, service: ServiceFacts | undefined, how: string) => {
    if (!service || roles.has(role) || taken.has(service.name)) return;
    roles.set(role, { service: service.name, how });
    taken.add(service.name);
  };
  for (const role of MANDATORY) claim(role, services.find((s) => s.name === role), 'service name');
  for (const role of MANDATORY) {
    const s = services.find((x) => !taken.has(x.name) && INSTALLS[role].test(x.installs));
    claim(role, s, `its Dockerfile installs ${s ? (INSTALLS[role].exec(s.installs)?.[0] ?? role) : role}`);
  }
  for (const role of MANDATORY) {
    const s = services.find((x) => !taken.has(x.name) && (NAMED_AS[role].test(x.name) || NAMED_AS[role].test(x.image.split(':')[0] ?? '')));
    claim(role, s, `named ${s?.name ?? ''}`);
  }
  return roles;
}

/** `mariadb` for the subject's own name, else `mariadb (service db: its Dockerfile installs mariadb-server)`. */
export function staticRoleLabel(role: Role, match: StaticRole | undefined): string {
  if (!match || match.service === role) return role;
  return `${role} (service ${match.service}: ${match.how})`;
}
