import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { HostNotReadyError, NotFoundError } from '../core/errors.js';
import { ANY_EXIT_CODE, run, type RunOptions, type RunResult } from './run.js';

// A project inside a git repository is what git sees there: tracked files plus untracked ones the
// ignore rules let through. Everything here asks git with -z, so core.quotePath and odd file
// names (spaces, unicode) never reach a parser.

/** A local repository answers in well under a second; a hung filesystem must not hang provision. */
export const GIT_TIMEOUT_MS = 30_000;

// Set by git itself while a hook runs (a pre-commit hook running labctl): they would point
// every `git -C dir` at the hook's repository instead of the one around `dir`.
const HOOK_ENV = { GIT_DIR: undefined, GIT_WORK_TREE: undefined, GIT_INDEX_FILE: undefined } as const;

async function git(dir: string, args: readonly string[], opts: Pick<RunOptions, 'okCodes'> = {}): Promise<RunResult> {
  // --no-optional-locks: status would otherwise refresh and rewrite the index of a repository
  // the user may be committing in at that very moment.
  return run('git', ['--no-optional-locks', '-C', dir, ...args], { ...opts, env: HOOK_ENV, timeoutMs: GIT_TIMEOUT_MS });
}

/**
 * Whether git sees `dir` as part of a work tree: false when git is not installed, `dir` is in no
 * repository, or the repository around it ignores it (a project under an ignored node_modules/,
 * or under a home directory kept in git with `*` ignored), where git's list would be empty.
 */
async function inWorkTree(dir: string): Promise<boolean> {
  let r: RunResult;
  try {
    r = await git(dir, ['rev-parse', '--is-inside-work-tree'], { okCodes: ANY_EXIT_CODE });
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
  // Falling back to the plain walk here would push the files the user's .gitignore keeps out.
  if (/dubious ownership/.test(r.stderr)) {
    throw new HostNotReadyError(`git refuses to read the repository around ${dir}: it belongs to another user`, {
      hint: `if you trust it: \`git config --global --add safe.directory '${dir}'\` (or run labctl as the repository's owner)`,
      details: r.stderr,
    });
  }
  if (r.code !== 0 || r.stdout.trim() !== 'true') return false;
  // check-ignore answers 0 for ignored, 1 for not ignored.
  const ignored = await git(dir, ['check-ignore', '-q', '--', '.'], { okCodes: [0, 1] });
  return ignored.code === 1;
}

/**
 * The files git sees in `dir` (tracked, and untracked but not ignored), as sorted POSIX paths
 * relative to `dir`; undefined when git does not see `dir` at all (see inWorkTree), so the caller
 * walks the directory instead. Only regular files that exist: a tracked file deleted from the work
 * tree is gone, and symlinks, submodules and nested repositories are left out as the walk does.
 */
export async function gitFilesOf(dir: string): Promise<string[] | undefined> {
  if (!(await inWorkTree(dir))) return undefined;
  const r = await git(dir, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '.']);
  // An unmerged path is listed once per conflict stage.
  const listed = new Set(r.stdout.split('\0').filter((p) => p !== ''));
  const files: string[] = [];
  for (const path of listed) {
    const info = await lstat(join(dir, path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (info?.isFile()) files.push(path);
  }
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * HEAD's full hash for the repository around `dir`, and whether `dir` differs from it (an edit, a
 * staged change, or an untracked file that would be pushed). Undefined when `dir` is in no
 * repository git sees, or the repository has no commit yet.
 */
export async function gitCommitOf(dir: string): Promise<{ commit: string; dirty: boolean } | undefined> {
  if (!(await inWorkTree(dir))) return undefined;
  // --verify -q: no commit yet answers 1 and prints nothing, where plain `rev-parse HEAD` echoes "HEAD".
  const head = await git(dir, ['rev-parse', '--verify', '-q', 'HEAD^{commit}'], { okCodes: [0, 1] });
  const commit = head.stdout.trim();
  if (head.code !== 0 || commit === '') return undefined;
  const status = await git(dir, ['status', '--porcelain', '-z', '--', '.']);
  return { commit, dirty: status.stdout !== '' };
}
