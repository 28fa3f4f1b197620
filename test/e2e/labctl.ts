import { join } from 'node:path';
import type { Result } from 'execa';
import { packageRoot } from '../../core/paths.js';
import type { Harness } from './harness.js';

// The built labctl binary (dist/cli/main.js, as users run it), always inside the test namespace.

/** create = vagrant up + Docker install + compose build (8 images with --bonus) under software emulation. */
export const LABCTL_CREATE_TIMEOUT_MS = 70 * 60_000;
export const LABCTL_LIFECYCLE_TIMEOUT_MS = 20 * 60_000;
export const LABCTL_QUICK_TIMEOUT_MS = 2 * 60_000;
/**
 * check --destructive: 3 kills (≤ 3 min each), then a guest reboot (SSH ≤ 10 min, stack ≤ 15 min),
 * under emulation. check bounds each wait itself and still prints its report, so this is a backstop.
 */
export const LABCTL_CHECK_DESTRUCTIVE_TIMEOUT_MS = 40 * 60_000;

export function labctlBinary(): string {
  return join(packageRoot(), 'dist', 'cli', 'main.js');
}

/**
 * Environment for labctl: the harness's LABCTL_HOME and VAGRANT_HOME, and no LABCTL_HOSTS_FILE —
 * `ip netns exec` has bind-mounted the namespace's own hosts file over /etc/hosts.
 */
export function labctlEnv(h: Harness): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'LABCTL_HOSTS_FILE' && !k.startsWith('LABCTL_E2E')) env[k] = v;
  return { ...env, ...h.env };
}

export async function labctl(h: Harness, args: string[], opts: { timeout?: number; input?: string } = {}): Promise<Result> {
  const r = await h.timed(`labctl ${args.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ')}`, () =>
    h.ns.exec(['node', labctlBinary(), ...args], {
      env: labctlEnv(h),
      extendEnv: false,
      cwd: h.workDir,
      timeout: opts.timeout ?? LABCTL_LIFECYCLE_TIMEOUT_MS,
      reject: false,
      all: true,
      input: opts.input ?? '',
    }),
  );
  h.log(`labctl ${args.join(' ')} → exit ${r.exitCode}\n${String(r.all)}`);
  return r;
}

/** A one-line reason for an assertion message: the tail of labctl's output. */
export function why(r: Result, h: Harness): string {
  return `exit ${r.exitCode}; full log ${h.logFile}\n${String(r.all).split('\n').slice(-20).join('\n')}`;
}

/**
 * PHP fed on stdin to `docker exec -i wordpress php`: creates a published post through WordPress's
 * own API (Debian has no wp-cli) and prints its ID. Stdin avoids quoting through ssh's remote shell.
 */
export function createPostPhp(title: string): string {
  return [
    '<?php',
    "define('WP_USE_THEMES', false);",
    "require '/var/www/html/wp-load.php';",
    `$id = wp_insert_post(['post_title' => ${JSON.stringify(title)}, 'post_content' => 'labctl e2e', 'post_status' => 'publish']);`,
    'echo is_wp_error($id) ? "ERROR " . $id->get_error_message() : "POST_ID=$id";',
    '',
  ].join('\n');
}
