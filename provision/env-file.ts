import type { LabConfig } from '../core/config.js';
import { guestPaths } from '../core/guest-paths.js';

// srcs/.env of the compose project (M12): non-secret settings only. Passwords live in secrets/
// and reach the containers as Docker secrets, never as environment variables. The key names are
// the contract with compose/ (compose/srcs/.env.example lists the same ones).

/** WordPress administrator: M11 forbids "admin"/"administrator" in the name. */
export const WP_ADMIN_USER = 'webmaster';
export const WP_USER = 'writer';
export const MYSQL_DATABASE = 'wordpress';
export const MYSQL_USER = 'wpuser';

export const ENV_KEYS = [
  'LOGIN',
  'DOMAIN_NAME',
  'DATA_PATH',
  'WP_TITLE',
  'WP_ADMIN_USER',
  'WP_ADMIN_EMAIL',
  'WP_USER',
  'WP_USER_EMAIL',
  'MYSQL_DATABASE',
  'MYSQL_USER',
] as const;
export type EnvKey = (typeof ENV_KEYS)[number];

export function envValues(config: Pick<LabConfig, 'login' | 'domain'>): Record<EnvKey, string> {
  return {
    LOGIN: config.login,
    DOMAIN_NAME: config.domain,
    DATA_PATH: guestPaths(config.login).data,
    WP_TITLE: `Inception by ${config.login}`,
    WP_ADMIN_USER,
    WP_ADMIN_EMAIL: `${WP_ADMIN_USER}@${config.domain}`,
    WP_USER,
    WP_USER_EMAIL: `${WP_USER}@${config.domain}`,
    MYSQL_DATABASE,
    MYSQL_USER,
  };
}

/**
 * Renders KEY=value lines. Values are restricted to characters that Compose's .env parser and
 * compose/'s Makefile (which reads values with sed) take literally: no quotes, `$`, `#` or `\`,
 * so no quoting is needed. Inner spaces are fine for both.
 */
export function renderEnvFile(values: Record<EnvKey, string>): string {
  const lines = ['# Written by labctl provision; edit the lab config instead (`labctl create --help`).'];
  for (const key of ENV_KEYS) {
    const value = values[key];
    if (!/^[A-Za-z0-9@._/:+-]+(?: [A-Za-z0-9@._/:+-]+)*$/.test(value)) throw new TypeError(`.env value for ${key} has characters that need quoting: ${JSON.stringify(value)}`);
    lines.push(`${key}=${value}`);
  }
  return `${lines.join('\n')}\n`;
}
