import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

// The Docker secrets of compose/ (M12). The same names are created by compose/'s Makefile when a
// student runs it by hand; labctl generates them per lab in $LABCTL_HOME/<name>/secrets and
// pushes them into the VM.
export const SECRET_FILES = ['db_root_password.txt', 'db_password.txt', 'wp_admin_password.txt', 'wp_user_password.txt', 'ftp_password.txt'] as const;
export type SecretFile = (typeof SECRET_FILES)[number];

/** 24 random bytes → 32 URL-safe characters: strong, and safe in SQL, shell and YAML. */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

export interface SecretsReport {
  /** Files generated now. */
  created: string[];
  /** Files that existed with a mode looser than 0600 and were tightened to it. */
  tightened: string[];
}

/**
 * Creates each missing secret (0600, in a 0700 directory); never overwrites one that exists, so
 * re-running create or provision keeps the lab's database reachable. A secret that exists with
 * group or other bits (copied in, or an old umask) is tightened to 0600, and reported.
 */
export async function ensureSecrets(dir: string, names: readonly string[] = SECRET_FILES): Promise<SecretsReport> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const report: SecretsReport = { created: [], tightened: [] };
  for (const name of names) {
    const path = join(dir, name);
    let handle;
    try {
      // 'wx' fails if the file exists: no race between the check and the write.
      handle = await open(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const info = await lstat(path);
      if (info.isFile() && (info.mode & 0o077) !== 0) {
        await chmod(path, 0o600);
        report.tightened.push(name);
      }
      continue;
    }
    try {
      await handle.writeFile(`${generatePassword()}\n`);
    } finally {
      await handle.close();
    }
    report.created.push(name);
  }
  return report;
}

export async function readSecrets(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await readdir(dir)) {
    out.set(name, (await readFile(join(dir, name), 'utf8')).trim());
  }
  return out;
}
