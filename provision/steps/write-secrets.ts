import { runsOwnProject } from '../../core/config.js';
import { SECRET_FILES } from '../../core/secrets.js';
import type { ProvisionContext, ProvisionStep } from '../context.js';
import { sha256 } from '../manifest.js';

// M12: the lab's generated secrets and srcs/.env, 0600 and owned by the login. Contents travel
// on stdin only; the guest is asked for hashes, never for the files.

// Prints "<mode>:<owner> <sha256> <path>\0" per existing file.
const DESCRIBE = 'cd "$1" || exit 0; shift; for f; do [ -f "$f" ] || continue; printf "%s %s %s\\0" "$(stat -c %a:%U -- "$f")" "$(sha256sum < "$f" | cut -d" " -f1)" "$f"; done';

export function wantedFiles(ctx: ProvisionContext): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  if (runsOwnProject(ctx.config)) {
    // Only what the student asked labctl to push (--secrets-dir, --env-file), under their names.
    for (const [name, content] of ctx.local.secrets) files.set(`secrets/${name}`, content);
    if (ctx.local.ownEnvFile !== undefined) files.set('srcs/.env', ctx.local.ownEnvFile);
    return files;
  }
  for (const name of SECRET_FILES) {
    const content = ctx.local.secrets.get(name);
    if (content === undefined) throw new Error(`secret ${name} was not prepared before provisioning`);
    files.set(`secrets/${name}`, content);
  }
  files.set('srcs/.env', Buffer.from(ctx.local.envFile));
  return files;
}

/** Paths whose guest copy is missing, differs, is not 0600 or is not owned by the login. */
export function staleFiles(wanted: ReadonlyMap<string, Buffer>, describeOutput: string, login: string): string[] {
  const seen = new Map<string, string>();
  for (const record of describeOutput.split('\0')) {
    const m = /^(\S+) ([0-9a-f]{64}) (.+)$/s.exec(record);
    if (m) seen.set(m[3]!, `${m[1]} ${m[2]}`);
  }
  return [...wanted].filter(([path, content]) => seen.get(path) !== `600:${login} ${sha256(content)}`).map(([path]) => path);
}

async function staleOnGuest(ctx: ProvisionContext): Promise<string[]> {
  const wanted = wantedFiles(ctx);
  const r = await ctx.exec(['sh', '-c', DESCRIBE, 'sh', ctx.guest.project, ...wanted.keys()], { sudo: true });
  return staleFiles(wanted, r.stdout, ctx.config.login);
}

export const writeSecretsStep: ProvisionStep = {
  title: 'Write secrets and srcs/.env (0600)',
  skip: async (ctx) => {
    if (runsOwnProject(ctx.config) && wantedFiles(ctx).size === 0) return "secrets/ and srcs/.env are the project's own: its make makes them (or pass --secrets-dir, --env-file)";
    return (await staleOnGuest(ctx)).length === 0 ? 'secrets/ and srcs/.env are current and 0600' : false;
  },
  run: async (ctx) => {
    const login = ctx.config.login;
    await ctx.exec(['install', '-d', '-o', login, '-g', login, '-m', '0700', `${ctx.guest.project}/secrets`], { sudo: true });
    await ctx.exec(['install', '-d', '-o', login, '-g', login, '-m', '0755', `${ctx.guest.project}/srcs`], { sudo: true });
    const wanted = wantedFiles(ctx);
    for (const path of await staleOnGuest(ctx)) {
      ctx.progress(`writing ${path}`);
      await ctx.writeFile(`${ctx.guest.project}/${path}`, wanted.get(path)!, { mode: '600', owner: `${login}:${login}` });
    }
  },
};
