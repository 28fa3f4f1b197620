import { posix } from 'node:path';
import { parse as parseShell } from 'shell-quote';
import { finalStage } from './dockerfile.js';

const { basename } = posix;
// M10 from the files: what becomes PID 1 of a service's container, followed the way Docker starts
// it — compose's entrypoint:/command: over the Dockerfile's ENTRYPOINT/CMD, exec form or shell
// form, into the script that COPY put at that path, down to the script's last command. PID 1 must
// be the daemon itself: a script that ends in `exec <daemon>` (or `exec "$@"` with the daemon as
// CMD) passes; a shell that stays (no exec, several commands in shell form, a loop, a wait) fails.

export interface ContextFile {
  /** Path relative to the build context, '/'-separated. */
  path: string;
  text: string;
  /** As shown to the user (relative to the project). */
  shown: string;
}

export interface Pid1Input {
  dockerfile: string;
  /** The files of the build context that were read. */
  context: readonly ContextFile[];
  /** compose's entrypoint: and command:, when set (string or list). */
  composeEntrypoint?: string | string[] | null | undefined;
  composeCommand?: string | string[] | null | undefined;
}

export interface Pid1Verdict {
  verdict: 'pass' | 'fail' | 'skip';
  reason: string;
  evidence?: string;
  /** PID 1 only waits (tail -f, sleep, wait, a loop): also a forbidden wait for M10.no-waiting-loops. */
  waits?: true;
}

const SHELLS = /^(\/usr)?(\/bin\/)?(sh|bash|dash|ash|zsh)$/;
const WAITERS: [RegExp, string][] = [
  [/^(\S*\/)?tail$/, 'tail'],
  [/^(\S*\/)?sleep$/, 'sleep'],
  [/^(\S*\/)?wait$/, 'wait'],
  [/^(\S*\/)?(cat|true|yes)$/, 'a command that only waits or ends'],
];
const INITS = /^(\S*\/)?(tini|dumb-init|catatonit)$/;
/** Programs that change user and exec their command: PID 1 is what they run. */
const USER_SWITCHERS: Record<string, number> = { setpriv: 0, gosu: 1, 'su-exec': 1, chpst: 0 };
/** Shell constructs that end a block: the command before them is what the script ends with. */
const BLOCK_END = /^(fi|esac|\}|;;|then|else|do|\))$/;
const MAX_DEPTH = 4;

/** `["a", "b"]` → [a, b]; undefined when the text is not a JSON array of strings (shell form). */
function execForm(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

// Tokens from shell-quote (a maintained POSIX-shell tokenizer): strings, and objects for the
// operators (; && || | & and redirections), globs and comments. Variables stay as written.
type Token = string | { op: string } | { op: 'glob'; pattern: string } | { comment: string };
const KEEP_VARIABLES = (name: string) => `$${name}`;
const SEPARATORS = new Set([';', '&&', '||', '|', '&', '|&', ';;']);

function tokens(text: string): Token[] {
  try {
    return parseShell(text, KEEP_VARIABLES) as Token[];
  } catch {
    // An unbalanced quote: the words as blanks split them, which is what a reader would see.
    return text.split(/\s+/).filter(Boolean);
  }
}

/** The words of each command: redirections and their targets left out, globs as written. */
function wordsOf(list: Token[]): string[] {
  const words: string[] = [];
  const isRedirect = (t: Token | undefined) => typeof t === 'object' && 'op' in t && t.op !== 'glob' && !SEPARATORS.has(t.op);
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (t === undefined) continue;
    if (typeof t === 'string') {
      // the 2 of 2>&1 is a file descriptor, not a word
      if (!(/^\d+$/.test(t) && isRedirect(list[i + 1]))) words.push(t);
    } else if ('pattern' in t) words.push(t.pattern);
    else if (isRedirect(t)) i++; // > file, >&1 …: the target is no word
  }
  return words;
}

/** Words of a command line as a POSIX shell splits them (quotes, backslashes); no expansion. */
export function shellWords(text: string): string[] {
  return wordsOf(tokens(text));
}

/** Where COPY/ADD put each file of the context in the image: image path → context file. */
function copiedFiles(stage: readonly string[], context: readonly ContextFile[]): Map<string, ContextFile> {
  const out = new Map<string, ContextFile>();
  let workdir = '/';
  for (const line of stage) {
    const wd = /^WORKDIR\s+(\S+)/i.exec(line);
    if (wd?.[1]) workdir = wd[1].startsWith('/') ? wd[1] : `${workdir.replace(/\/$/, '')}/${wd[1]}`;
    const m = /^(COPY|ADD)\s+(.*)$/i.exec(line);
    if (!m) continue;
    const args = (execForm(m[2] ?? '') ?? shellWords(m[2] ?? '')).filter((a) => !a.startsWith('--'));
    if (/--from=/i.test(m[2] ?? '') || args.length < 2) continue;
    const sources = args.slice(0, -1);
    let dest = args.at(-1) ?? '';
    if (!dest.startsWith('/')) dest = `${workdir.replace(/\/$/, '')}/${dest}`;
    const destIsDir = dest.endsWith('/') || sources.length > 1;
    for (const src of sources) {
      const clean = src.replace(/^\.\//, '').replace(/\/$/, '');
      for (const f of context) {
        if (clean === '.' || f.path === clean) {
          const inImage = f.path === clean ? (destIsDir ? `${dest.replace(/\/$/, '')}/${basename(f.path)}` : dest) : `${dest.replace(/\/$/, '')}/${f.path}`;
          out.set(inImage, f);
        } else if (f.path.startsWith(`${clean}/`)) {
          out.set(`${dest.replace(/\/$/, '')}/${f.path.slice(clean.length + 1)}`, f);
        } else if (/[*?]/.test(clean) && globMatch(clean, f.path)) {
          out.set(`${dest.replace(/\/$/, '')}/${basename(f.path)}`, f);
        }
      }
    }
  }
  return out;
}

function globMatch(pattern: string, path: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return re.test(path);
}


function composeArgv(value: string | string[] | null | undefined): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  // compose splits a string command like a shell would, but runs no shell.
  return Array.isArray(value) ? value : shellWords(value);
}

/** The argv Docker starts, and how it came to be, for the evidence. */
export function startArgv(input: Pid1Input, stage: readonly string[] = finalStage(input.dockerfile).stage): { argv: string[]; from: string } {
  const last = (kw: string) => stage.filter((l) => new RegExp(`^${kw}\\s`, 'i').test(l)).at(-1)?.replace(new RegExp(`^${kw}\\s+`, 'i'), '');
  const toArgv = (text: string | undefined) => (text === undefined ? [] : (execForm(text) ?? ['/bin/sh', '-c', text]));
  const entry = composeArgv(input.composeEntrypoint) ?? toArgv(last('ENTRYPOINT'));
  // Setting entrypoint: in compose drops the image's CMD (Docker resets it with a new entrypoint).
  const cmd = composeArgv(input.composeCommand) ?? (input.composeEntrypoint !== undefined && input.composeEntrypoint !== null ? [] : toArgv(last('CMD')));
  const from = [input.composeEntrypoint != null ? 'compose entrypoint' : last('ENTRYPOINT') ? 'ENTRYPOINT' : '', input.composeCommand != null ? 'compose command' : cmd.length > 0 ? 'CMD' : ''].filter(Boolean).join(' + ');
  // A shell-form ENTRYPOINT ignores CMD.
  const argv = entry[0] === '/bin/sh' && entry[1] === '-c' && execForm(last('ENTRYPOINT') ?? '') === undefined && input.composeEntrypoint == null && entry.length === 3 ? entry : [...entry, ...cmd];
  return { argv, from };
}

/**
 * Whether `<shell> -c 'one command'` replaces itself with that command: bash does, and so does
 * Alpine's /bin/sh (busybox ash); Debian's /bin/sh (dash) forks and stays PID 1.
 */
function execsLoneCommand(shell: string, alpine: boolean): boolean {
  const name = basename(shell);
  return name === 'bash' || (alpine && (name === 'sh' || name === 'ash'));
}

interface Walk {
  copied: ReadonlyMap<string, ContextFile>;
  alpine: boolean;
  evidence: string;
}

export function judgePid1(input: Pid1Input): Pid1Verdict {
  const last = finalStage(input.dockerfile);
  const { argv, from } = startArgv(input, last.stage);
  const shown = argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
  if (argv.length === 0) return { verdict: 'skip', reason: "no CMD/ENTRYPOINT: the base image's own (a shell) would be PID 1" };
  const walk: Walk = { copied: copiedFiles(last.stage, input.context), alpine: /\balpine\b/i.test(last.from), evidence: `${from}: ${shown}` };
  return judgeArgv(argv, walk, 0);
}

function judgeArgv(argv: readonly string[], walk: Walk, depth: number): Pid1Verdict {
  const { copied, evidence } = walk;
  const [program = '', ...args] = argv;
  if (INITS.test(program)) {
    const rest = args[0] === '--' ? args.slice(1) : args.filter((a, i) => i > 0 || !a.startsWith('-'));
    return rest.length === 0 ? { verdict: 'fail', reason: `${program} has nothing to run`, evidence } : judgeArgv(rest, walk, depth);
  }
  const switcher = USER_SWITCHERS[basename(program)];
  if (switcher !== undefined) {
    // setpriv --reuid=x … cmd; gosu user cmd: the first word after the options (and the user).
    const rest = args.filter((a) => !a.startsWith('-')).slice(switcher);
    const at = rest.length === 0 ? -1 : args.indexOf(rest[0] ?? '');
    return at === -1 ? { verdict: 'fail', reason: `${program} has nothing to run`, evidence } : judgeArgv(args.slice(at), walk, depth);
  }
  for (const [re, what] of WAITERS) {
    if (re.test(program)) return { verdict: 'fail', waits: true, reason: `PID 1 only waits: ${[program, ...args].join(' ')} (${what})`, evidence };
  }
  if (SHELLS.test(program)) {
    const c = args.indexOf('-c');
    if (c !== -1) {
      const script = args[c + 1] ?? '';
      return judgeScript({ text: script, shown: `${program} -c`, args: args.slice(c + 3), execsLone: execsLoneCommand(program, walk.alpine) }, walk, depth);
    }
    const file = args.find((a) => !a.startsWith('-'));
    if (file === undefined) return { verdict: 'fail', reason: `a bare shell is PID 1 (${program})`, evidence };
    const found = lookUp(file, copied);
    if (!found) return { verdict: 'skip', reason: `${program} runs ${file}, which is not a file of the build context that COPY puts there`, evidence };
    return judgeScript({ text: found.text, shown: found.shown, args: args.slice(args.indexOf(file) + 1), execsLone: false }, walk, depth);
  }
  const found = lookUp(program, copied);
  if (found && (/^#!/.test(found.text) || /\.(sh|bash)$/.test(found.path))) {
    const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(found.text)?.slice(1).filter(Boolean) ?? [];
    const interpreter = shebang[0] === '/usr/bin/env' ? (shebang[1] ?? '') : (shebang[0] ?? 'sh');
    if (shebang.length > 0 && !SHELLS.test(interpreter.replace(/^\/usr\/bin\/|^\/bin\//, '/bin/'))) return { verdict: 'pass', reason: `PID 1 is ${program}, a ${basename(interpreter)} program`, evidence };
    return judgeScript({ text: found.text, shown: found.shown, args, execsLone: false }, walk, depth);
  }
  if (/\.(sh|bash)$/.test(program)) return { verdict: 'skip', reason: `PID 1 is ${program}, which is not a file of the build context that COPY puts there`, evidence };
  return { verdict: 'pass', reason: `PID 1 is ${basename(program)}`, evidence };
}

function lookUp(path: string, copied: ReadonlyMap<string, ContextFile>): ContextFile | undefined {
  if (copied.has(path)) return copied.get(path);
  // A bare name is found on PATH: any COPY destination with that file name in a bin folder.
  if (!path.includes('/')) for (const [dest, f] of copied) if (basename(dest) === path && /\/s?bin\//.test(dest)) return f;
  if (path.startsWith('./')) for (const [dest, f] of copied) if (dest.endsWith(path.slice(1))) return f;
  return undefined;
}

/** Logical lines of a shell script: continuations joined, comments and blank lines dropped. */
function scriptLines(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l !== '' && !/^#!/.test(l));
}

/** The commands of a line, split on ; && || | and &; `background` for one ended by &. */
export function commandsOf(line: string): { text: string; words: string[]; background: boolean }[] {
  const out: { text: string; words: string[]; background: boolean }[] = [];
  let current: Token[] = [];
  const push = (background: boolean) => {
    const words = wordsOf(current);
    // Shown as a student wrote it, near enough: "$@" quoted, a word with blanks in quotes.
    if (words.length > 0) out.push({ text: words.map((w) => (w === '$@' ? '"$@"' : /[\s;&|]/.test(w) ? `'${w}'` : w)).join(' '), words, background });
    current = [];
  };
  for (const t of tokens(line)) {
    if (typeof t === 'object' && 'comment' in t) break;
    if (typeof t === 'object' && 'op' in t && SEPARATORS.has(t.op)) push(t.op === '&');
    else current.push(t);
  }
  push(false);
  return out;
}

/** execsLone: a `-c` string whose shell replaces itself with a lone command (see execsLoneCommand). */
function judgeScript(script: { text: string; shown: string; args: readonly string[]; execsLone: boolean }, walk: Walk, depth: number): Pid1Verdict {
  const { evidence } = walk;
  if (depth >= MAX_DEPTH) return { verdict: 'skip', reason: `${script.shown}: too many scripts deep to follow`, evidence };
  const lines = scriptLines(script.text);
  // Heredoc bodies and function bodies are not followed; the last top-level command decides.
  const commands = lines.flatMap(commandsOf).filter((c) => !BLOCK_END.test(c.text) && !/^(if|elif|while|until|for|case)\b/.test(c.text) && !/^\w+\s*\(\)\s*\{?$/.test(c.text));
  const lastLine = lines.at(-1) ?? '';
  if (/^done\b/.test(lastLine)) {
    const header = [...lines].reverse().find((l) => /^(while|until|for)\b/.test(l)) ?? 'a loop';
    return { verdict: 'fail', waits: true, reason: `${script.shown} ends in a loop (${header.slice(0, 60)}): the shell stays PID 1`, evidence };
  }
  const lastCommand = commands.at(-1);
  if (lastCommand === undefined) return { verdict: 'fail', reason: `${script.shown} runs nothing: the shell exits or stays`, evidence };
  const last = lastCommand.text;
  const words = lastCommand.words;
  if (script.execsLone && commands.length === 1 && lines.length === 1 && !lastCommand.background && words[0] !== 'exec') return judgeArgv(words, walk, depth + 1);
  if (words[0] === 'exec') {
    const target = words.slice(1);
    if (target.length === 0) return { verdict: 'fail', reason: `${script.shown} ends with a bare exec`, evidence };
    // exec "$@" runs what the script was given (CMD, or compose's command)
    const resolved = target.flatMap((w) => (w === '$@' || w === '${@}' ? [...script.args] : [w]));
    if (resolved.length === 0) return { verdict: 'fail', reason: `${script.shown} ends with exec "$@" but is given no command`, evidence };
    return judgeArgv(resolved, walk, depth + 1);
  }
  if (lastCommand.background) return { verdict: 'fail', reason: `${script.shown} ends by starting ${words[0] ?? 'a process'} in the background: the shell is PID 1`, evidence };
  for (const [re, what] of WAITERS) {
    if (re.test(words[0] ?? '')) return { verdict: 'fail', waits: true, reason: `${script.shown} ends waiting: ${last.slice(0, 60)} (${what})`, evidence };
  }
  return { verdict: 'fail', reason: `${script.shown} ends with \`${last.slice(0, 60)}\` without exec: the shell stays PID 1 and the daemon is its child`, evidence };
}
