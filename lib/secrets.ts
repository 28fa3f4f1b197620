import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile } from 'node:fs/promises';
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

/**
 * Creates each missing secret (0600, in a 0700 directory); never overwrites one that exists, so
 * re-running create or provision keeps the lab's database reachable. Returns the files it created.
 */
export async function ensureSecrets(dir: string, names: readonly string[] = SECRET_FILES): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const created: string[] = [];
  for (const name of names) {
    let handle;
    try {
      // 'wx' fails if the file exists: no race between the check and the write.
      handle = await open(join(dir, name), 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    try {
      await handle.writeFile(`${generatePassword()}\n`);
    } finally {
      await handle.close();
    }
    created.push(name);
  }
  return created;
}

export async function readSecrets(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await readdir(dir)) {
    out.set(name, (await readFile(join(dir, name), 'utf8')).trim());
  }
  return out;
}
