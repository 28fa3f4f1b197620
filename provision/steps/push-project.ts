import type { ProvisionContext, ProvisionStep } from '../context.js';
import { parseRemoteManifest, planPush, type PushPlan } from '../manifest.js';
import { sftpWriteFile, withSftp } from '../../adapters/guest.js';

// Pushes compose/ to /home/<login>/inception: only files whose content or executable bit
// differs from the guest's copy, plus removal of files labctl pushed before that compose/ no
// longer has. secrets/ and srcs/.env are never pushed (see manifest.ts).

const PRUNE = ['(', '-path', './secrets', '-o', '-path', './srcs/.env', ')', '-prune', '-o'];
// One round trip for the three answers a push is planned from (each costs a sudo and a channel,
// seconds in an emulated guest): the files' hashes, their modes, and the list of the last push,
// each NUL-separated, so each goes base64'd on a line of its own. A project that does not exist
// yet (first run) answers three empty lines.
const find = PRUNE.map((a) => `'${a}'`).join(' ');
const GUEST_STATE = [
  'if cd "$1" 2>/dev/null; then',
  `  find . ${find} -type f -exec sha256sum -z -- {} + | base64 -w0; echo`,
  `  find . ${find} -type f -printf '%m %P\\0' | base64 -w0; echo`,
  'else echo; echo; fi',
  'base64 -w0 -- "$2" 2>/dev/null; echo',
].join('\n');

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
  const answer = await ctx.exec(['sh', '-c', GUEST_STATE, 'sh', ctx.guest.project, pushedListPath(ctx)], { sudo: true });
  const [hashes = '', modes = '', previous = ''] = answer.stdout.split('\n').map((line) => Buffer.from(line, 'base64').toString('utf8'));
  return planPush(ctx.local.manifest, parseRemoteManifest(hashes, modes), previous.split('\0').filter((p) => p !== ''));
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
