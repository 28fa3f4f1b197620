import type { ProvisionContext, ProvisionStep } from '../context.js';
import { parseRemoteManifest, planPush, type PushPlan } from '../manifest.js';
import { sftpWriteFile, withSftp } from '../../adapters/guest.js';

// Pushes compose/ to /home/<login>/inception: only files whose content or executable bit
// differs from the guest's copy, plus removal of files labctl pushed before that compose/ no
// longer has. secrets/ and srcs/.env are never pushed (see manifest.ts).

const PRUNE = ['(', '-path', './secrets', '-o', '-path', './srcs/.env', ')', '-prune', '-o'];
// Each prints nothing when the project does not exist yet (first run).
const HASHES = `cd "$1" 2>/dev/null || exit 0; find . ${PRUNE.map((a) => `'${a}'`).join(' ')} -type f -exec sha256sum -z -- {} +`;
const MODES = `cd "$1" 2>/dev/null || exit 0; find . ${PRUNE.map((a) => `'${a}'`).join(' ')} -type f -printf '%m %P\\0'`;

// Moves staged files ("$staging/<index>") into place as "$dest/<path>" with mode and owner; args
// after the first three come in triples: index, relative path, mode.
const INSTALL_STAGED = [
  'set -eu',
  'staging=$1; dest=$2; owner=$3; shift 3',
  'install -d -o "$owner" -g "$owner" -m 0755 "$dest"',
  'while [ "$#" -ge 3 ]; do',
  '  mkdir -p -- "$(dirname -- "$dest/$2")"',
  '  install -o "$owner" -g "$owner" -m "$3" -- "$staging/$1" "$dest/$2"',
  '  shift 3',
  'done',
  // Directories created by mkdir -p above belong to root; give the whole tree to the login.
  'chown -R "$owner:$owner" -- "$dest"',
].join('\n');

const REMOVE_FILES = 'set -eu; cd "$1"; shift; rm -f -- "$@"';

function pushedListPath(ctx: ProvisionContext): string {
  return `${ctx.guest.state}/pushed-files`;
}

export async function planProjectPush(ctx: ProvisionContext): Promise<PushPlan> {
  const hashes = await ctx.exec(['sh', '-c', HASHES, 'sh', ctx.guest.project], { sudo: true });
  const modes = await ctx.exec(['sh', '-c', MODES, 'sh', ctx.guest.project], { sudo: true });
  const previous = await ctx.exec(['sh', '-c', 'cat -- "$1" 2>/dev/null || true', 'sh', pushedListPath(ctx)], { sudo: true });
  return planPush(ctx.local.manifest, parseRemoteManifest(hashes.stdout, modes.stdout), previous.stdout.split('\0').filter((p) => p !== ''));
}

export async function ensureStateDir(ctx: ProvisionContext): Promise<void> {
  const login = ctx.config.login;
  await ctx.exec(['install', '-d', '-o', login, '-g', login, '-m', '0700', ctx.guest.state], { sudo: true });
}

async function upload(ctx: ProvisionContext, plan: PushPlan): Promise<void> {
  const staging = (await ctx.exec(['mktemp', '-d', '/tmp/labctl-push.XXXXXXXX'])).stdout.trim();
  try {
    await withSftp(ctx.connection(), async (sftp) => {
      for (const [i, entry] of plan.upload.entries()) {
        ctx.progress(`${i + 1}/${plan.upload.length} ${entry.path}`);
        await sftpWriteFile(sftp, `${staging}/${i}`, entry.content, 0o600);
      }
    });
    const triples = plan.upload.flatMap((e, i) => [String(i), e.path, e.mode]);
    await ctx.exec(['sh', '-c', INSTALL_STAGED, 'sh', staging, ctx.guest.project, ctx.config.login, ...triples], { sudo: true });
  } finally {
    await ctx.exec(['rm', '-rf', '--', staging]);
  }
}

export const pushProjectStep: ProvisionStep = {
  title: 'Push the compose project',
  skip: async (ctx) => {
    const plan = await planProjectPush(ctx);
    return plan.upload.length === 0 && plan.remove.length === 0 ? `all ${ctx.local.manifest.length} files in ${ctx.guest.project} are up to date` : false;
  },
  run: async (ctx) => {
    const plan = await planProjectPush(ctx);
    if (plan.upload.length > 0) await upload(ctx, plan);
    if (plan.remove.length > 0) await ctx.exec(['sh', '-c', REMOVE_FILES, 'sh', ctx.guest.project, ...plan.remove], { sudo: true });
    await ensureStateDir(ctx);
    // Recorded only after the files are in place: an interrupted push is simply redone.
    const list = ctx.local.manifest.map((e) => `${e.path}\0`).join('');
    await ctx.writeFile(pushedListPath(ctx), list, { mode: '600', owner: `${ctx.config.login}:${ctx.config.login}` });
    ctx.pushed = { uploaded: plan.upload.map((e) => e.path), removed: plan.remove };
    ctx.progress(`${plan.upload.length} file(s) pushed, ${plan.remove.length} removed`);
  },
};
