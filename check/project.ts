import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parse as parseDotenv } from 'dotenv';
import { execa } from 'execa';
import { z } from 'zod';
import { InvalidProjectError, NotFoundError } from '../core/errors.js';

// A compose project as graders read it: the compose file (parsed with a YAML library, variables
// from srcs/.env interpolated), each service's Dockerfile, every script and the Makefile.
//
// The project is a student's repository, so nothing in it is trusted (issue 13): every read goes
// through ProjectReader, which stays inside the project's real path (a symlink or a `../` path
// pointing out is not read, so its content can never become evidence), opens only regular files
// (a FIFO would block, a device never ends), reads at most a capped number of bytes, and records
// each file it left out with the reason, so that the results can say what was not looked at.

/** One file: enough for any Dockerfile, script or configuration a project needs. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** The compose file: a real one is a few KiB; YAML parsing costs a hundred times its size in memory. */
export const MAX_COMPOSE_BYTES = 1024 * 1024;
/**
 * The YAML library is not built for hostile input (`- - - …` or `[,,,…]` cost seconds to gigabytes
 * and can abort the process), so it runs in a worker thread with these bounds.
 */
export const YAML_PARSE_TIMEOUT_MS = 10_000;
export const YAML_PARSE_HEAP_MB = 256;
/** Files read under srcs/ (breadth first, so a vendored tree comes last). */
export const MAX_FILES = 2_000;
/** Directory entries looked at under srcs/, read or not: bounds the walk of a huge tree. */
export const MAX_ENTRIES = 50_000;
/** Directory levels under srcs/. */
export const MAX_DEPTH = 16;
/** Bytes read from the whole project: bounds memory whatever the number of files. */
export const MAX_TOTAL_BYTES = 64 * 1024 * 1024;
/** `git ls-files`, which a huge or broken repository could make slow. */
export const GIT_TIMEOUT_MS = 15_000;

export type SkipKind = 'outside' | 'special' | 'too-large' | 'file-limit' | 'time-limit' | 'unreadable';

export interface SkippedFile {
  /** Relative to the project root when inside it, absolute otherwise. */
  path: string;
  kind: SkipKind;
  /** Why it was not read, e.g. "outside the project" or "larger than 1024 KiB". */
  reason: string;
}

export interface TextFile {
  /** Path relative to the project root. */
  path: string;
  text: string;
}

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, { error: 'a name of letters, digits, ".", "_" or "-" (at most 128)' });
const stringList = z.array(z.string(), { error: 'a list of strings' });
const commandLike = z.union([z.string(), stringList], { error: 'a string or a list of strings' });

const serviceSchema = z.looseObject(
  {
    image: z.string({ error: 'a string' }).optional(),
    build: z.union([z.string(), z.looseObject({ context: z.string().optional(), dockerfile: z.string().optional() })], { error: 'a path or a mapping with context: (and dockerfile:)' }).optional(),
    restart: z.string({ error: 'a string' }).optional(),
    ports: z
      .array(z.union([z.string(), z.number(), z.looseObject({ published: z.union([z.string(), z.number()]).optional(), target: z.union([z.string(), z.number()]).optional() })], { error: 'a "HOST:CONTAINER" string, a number or a mapping' }), { error: 'a list such as ["443:443"]' })
      .optional(),
    volumes: z
      .array(z.union([z.string(), z.looseObject({ type: z.string().optional(), source: z.string().optional(), target: z.string().optional() })], { error: 'a "VOLUME:PATH" string or a mapping' }), { error: 'a list such as ["wordpress:/var/www/html"]' })
      .optional(),
    networks: z.union([stringList, z.record(z.string(), z.unknown())], { error: 'a list of network names or a mapping' }).optional(),
    network_mode: z.string({ error: 'a string' }).optional(),
    secrets: z.array(z.union([z.string(), z.looseObject({ source: z.string() })], { error: 'a secret name or a mapping with source:' }), { error: 'a list of secret names' }).optional(),
    environment: z
      .union([z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])), stringList], { error: 'a mapping of NAME: value or a list of "NAME=value"' })
      .optional(),
    entrypoint: commandLike.optional(),
    command: commandLike.optional(),
    deploy: z.looseObject({ replicas: z.number({ error: 'a number' }).optional() }, { error: 'a mapping' }).optional(),
    profiles: stringList.optional(),
  },
  { error: 'a mapping (image:, build:, …)' },
);

const composeSchema = z.looseObject(
  {
    services: z.record(name, serviceSchema, { error: 'a mapping of service names to their definitions' }).nullish(),
    volumes: z
      .record(z.string(), z.looseObject({ driver: z.string().optional(), driver_opts: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional() }, { error: 'a mapping (driver:, driver_opts:) or empty' }).nullable(), { error: 'a mapping of volume names' })
      .nullish(),
    networks: z.record(z.string(), z.looseObject({ driver: z.string().optional() }, { error: 'a mapping (driver:, …) or empty' }).nullable(), { error: 'a mapping of network names' }).nullish(),
    secrets: z.record(z.string(), z.looseObject({ file: z.string().optional(), environment: z.string().optional() }, { error: 'a mapping with file: (or environment:)' }), { error: 'a mapping of secret names' }).nullish(),
  },
  { error: 'a mapping with services:, volumes:, networks:, secrets:' },
);

export type ComposeSpec = z.output<typeof composeSchema>;
export type ServiceSpec = z.output<typeof serviceSchema>;

export interface Project {
  dir: string;
  composePath: string | undefined;
  /** The compose file as written (before interpolation). */
  composeText: string;
  /** The same text as a file, for the rules that grep every file. */
  composeFile: TextFile | undefined;
  compose: ComposeSpec;
  /** Variables from srcs/.env (or .env.example when there is no .env). */
  env: Record<string, string>;
  envSource: string | undefined;
  envFile: TextFile | undefined;
  /** Build context → Dockerfile, by service name (only those read). */
  dockerfiles: Map<string, TextFile>;
  /** Where each built service's Dockerfile is, read or not (relative, or absolute when outside). */
  dockerfilePaths: Map<string, string>;
  /** The compose fields of the wrong shape, left out of `compose` (one line each). */
  composeProblems: string[];
  /** Each built service's build context, as shown (`srcs/requirements/nginx`), when inside the project. */
  contexts: Map<string, string>;
  /** Text files at the project root besides the Makefile (notes, SQL, scripts), for M12. */
  rootFiles: TextFile[];
  /** Every file under srcs/ and the build contexts (scripts, configs) that was read. */
  files: TextFile[];
  makefile: TextFile | undefined;
  /** README.md, USER_DOC.md, DEV_DOC.md at the root, when present and read. */
  docs: Map<string, TextFile>;
  /**
   * Whether git would ignore secrets/ and srcs/.env: `git check-ignore` in a work tree, else the
   * root .gitignore read here; undefined when there is neither.
   */
  ignored: { secrets: boolean; env: boolean } | undefined;
  /** `git ls-files` of the project, or undefined when it is not in a git work tree. */
  tracked: string[] | undefined;
  /** Everything left unread, with the reason. */
  skipped: SkippedFile[];
  reader: ProjectReader;
}

export interface LoadOptions {
  /** Date.now() after which no more files are read (each is recorded as skipped). */
  deadline?: number;
  /**
   * The folder whose git says what is committed, when `dir` is a copy without .git (the project
   * as pushed to the VM is graded, its host checkout knows what is tracked). Default: `dir`.
   */
  gitDir?: string;
}

export const DOCS = ['README.md', 'USER_DOC.md', 'DEV_DOC.md'] as const;
const COMPOSE_NAMES = ['srcs/docker-compose.yml', 'srcs/docker-compose.yaml', 'srcs/compose.yml', 'srcs/compose.yaml'];

export async function loadProject(dirArg: string, opts: LoadOptions = {}): Promise<Project> {
  const reader = await ProjectReader.open(dirArg, opts.deadline ?? Number.POSITIVE_INFINITY);
  const dir = reader.dir;

  const composePath = await firstPresent(reader, COMPOSE_NAMES);
  const envSource = await firstPresent(reader, ['srcs/.env', 'srcs/.env.example']);
  const envFile = envSource ? await reader.read(envSource) : undefined;
  const env = envFile ? parseDotenv(envFile.text) : {};
  let compose: ComposeSpec = {};
  let composeProblems: string[] = [];
  let composeText = '';
  let composeFile: TextFile | undefined;
  if (composePath) {
    const file = await reader.read(composePath, { maxBytes: MAX_COMPOSE_BYTES, deadlineApplies: false });
    const why = reader.whySkipped(composePath);
    if (!file) throw new InvalidProjectError(`${composePath} is not read: ${why?.reason ?? 'it vanished while being read'}`, { hint: composeHint(why?.kind) });
    composeText = file.text;
    composeFile = file;
    ({ spec: compose, problems: composeProblems } = await parseCompose(composePath, composeText, env));
  }

  const dockerfiles = new Map<string, TextFile>();
  const dockerfilePaths = new Map<string, string>();
  const contexts = new Map<string, string>();
  for (const [svcName, svc] of Object.entries(compose.services ?? {})) {
    const build = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
    if (!build || !composePath) continue;
    // Compose resolves both against the compose file's folder; an absolute dockerfile stays as is.
    const context = resolve(dir, 'srcs', build.context ?? '.');
    const shownContext = context === dir ? '.' : reader.display(context);
    if (!isAbsolute(shownContext)) contexts.set(svcName, shownContext.split(sep).join('/'));
    const file = resolve(context, build.dockerfile ?? 'Dockerfile');
    const shown = reader.display(file);
    dockerfilePaths.set(svcName, shown);
    const text = await reader.read(file);
    if (text) dockerfiles.set(svcName, text);
  }

  // srcs/ whatever its inner layout (requirements/, containers/, one folder per service …), and a
  // build context outside it (build: ../services/nginx) as well.
  const files = await readTree(reader, 'srcs');
  for (const context of new Set(contexts.values())) {
    if (context === 'srcs' || context.startsWith('srcs/') || context === '.' || context === '') continue;
    const seen = new Set(files.map((f) => f.path));
    for (const f of await readTree(reader, context)) if (!seen.has(f.path)) files.push(f);
  }
  const makefile = await reader.read('Makefile');
  // Committed notes beside the Makefile (env.md, credentials.txt, init.sql) are files M12 reads.
  const rootFiles: TextFile[] = [];
  const rootEntries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of rootEntries.filter((x) => x.isFile() && /\.(md|txt|sql|sh|conf|ya?ml|php|env|ini|cfg)$|^[^.]+$/i.test(x.name) && x.name !== 'Makefile').slice(0, 50)) {
    const f = await reader.read(e.name);
    if (f) rootFiles.push(f);
  }
  const docs = new Map<string, TextFile>();
  for (const doc of DOCS) {
    const f = await reader.read(doc);
    if (f) docs.set(doc, f);
  }
  const tracked = await gitTracked(opts.gitDir ?? dir);
  return { dir, composePath, composeText, composeFile, compose, composeProblems, env, envSource, envFile, dockerfiles, dockerfilePaths, contexts, files, rootFiles, makefile, docs, tracked, ignored: await ignoredSecrets(opts.gitDir ?? dir, tracked !== undefined, await reader.read('.gitignore')), skipped: reader.skipped, reader };
}

function composeHint(kind: SkipKind | undefined): string {
  if (kind === 'outside') return 'commit the compose file itself in srcs/, not a link to a file elsewhere';
  if (kind === 'too-large') return `a compose file is a few KiB; labctl reads up to ${MAX_COMPOSE_BYTES / 1024 / 1024} MiB`;
  return 'make srcs/docker-compose.yml a regular file, then run the check again';
}

/** YAML → interpolation → shape, each failure one line naming the file and the field. */
export async function parseCompose(composePath: string, text: string, env: Record<string, string>): Promise<{ spec: ComposeSpec; problems: string[] }> {
  const yaml = await parseYamlBounded(text);
  if ('error' in yaml) throw new InvalidProjectError(`${composePath} ${yaml.error}`, { hint: 'fix the compose file, then run the check again' });
  let raw: unknown;
  try {
    raw = interpolate(yaml.value ?? {}, env);
  } catch (error) {
    // A structure nested deeper than the stack: no compose file is.
    throw new InvalidProjectError(`${composePath} is nested too deeply to be a compose file`, { hint: 'fix the compose file, then run the check again', cause: error });
  }
  return parseComposeLeniently(composePath, raw);
}

/** At most this many wrong fields are left out before the file as a whole is given up. */
const MAX_SHAPE_PROBLEMS = 50;

/**
 * The compose file with each field of the wrong shape left out (a service `extra:` with no body,
 * `ports: "443"`), and one line per field left out: the rules still get every field that is
 * right, and the report says what was not read. A file that is not a mapping at all is `{}`.
 */
export async function parseComposeLeniently(composePath: string, raw: unknown): Promise<{ spec: ComposeSpec; problems: string[] }> {
  const problems: string[] = [];
  let value = raw;
  for (let round = 0; round <= MAX_SHAPE_PROBLEMS; round++) {
    const parsed = composeSchema.safeParse(value);
    if (parsed.success) return { spec: parsed.data, problems };
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String) ?? [];
    const field = path.length > 0 ? path.join('.') : 'the file';
    problems.push(`${composePath}: ${clip(field, 120)}: expected ${issue?.message ?? 'valid compose'}, got ${describeValue(valueAt(value, path))}`);
    if (path.length === 0 || round === MAX_SHAPE_PROBLEMS) return { spec: {}, problems };
    value = withoutField(value, path);
  }
  return { spec: {}, problems };
}

/** A copy of root without the field at path (a list item is left out of its list). */
function withoutField(root: unknown, path: readonly string[]): unknown {
  if (path.length === 0 || root === null || typeof root !== 'object') return root;
  const [head = '', ...rest] = path;
  if (Array.isArray(root)) {
    const i = Number(head);
    return rest.length === 0 ? root.filter((_, j) => j !== i) : root.map((v, j) => (j === i ? withoutField(v, rest) : v));
  }
  const copy: Record<string, unknown> = { ...(root as Record<string, unknown>) };
  if (rest.length === 0) delete copy[head];
  else copy[head] = withoutField(copy[head], rest);
  return copy;
}

// Runs in the worker (CommonJS, given the library's path): one message back, a value or an error.
// uniqueKeys is done here in one pass instead: the library's own check is quadratic in the number
// of keys of a mapping (40,000 keys: 15 s). An alias bomb stops at the library's alias count.
const YAML_WORKER = `
// No stack traces: the library makes one error object per bad token, and garbage has many.
Error.stackTraceLimit = 0;
const { parentPort, workerData } = require('node:worker_threads');
const { parseDocument, visit, isScalar } = require(workerData.yaml);
const lineOf = (pos) => { let n = 1; for (let i = 0; i < pos && i < workerData.text.length; i++) if (workerData.text.charCodeAt(i) === 10) n++; return n; };
try {
  const doc = parseDocument(workerData.text, { uniqueKeys: false, prettyErrors: false, merge: true });
  const first = doc.errors[0];
  if (first) {
    parentPort.postMessage({ error: 'is not valid YAML: ' + String(first.message).split('\\n')[0].slice(0, 160) + ' (line ' + lineOf(first.pos ? first.pos[0] : 0) + ')' });
  } else {
    let dup;
    visit(doc, { Map(_, map) {
      const seen = new Set();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const k = typeof pair.key.value + ':' + String(pair.key.value);
        if (seen.has(k)) { dup = { key: String(pair.key.value), pos: pair.key.range ? pair.key.range[0] : 0 }; return visit.BREAK; }
        seen.add(k);
      }
    } });
    if (dup) parentPort.postMessage({ error: 'is not valid YAML: the key ' + JSON.stringify(dup.key.slice(0, 60)) + ' appears twice in one mapping (line ' + lineOf(dup.pos) + ')' });
    else parentPort.postMessage({ value: doc.toJS({ maxAliasCount: 100 }) });
  }
} catch (e) {
  parentPort.postMessage({ error: 'is not valid YAML: ' + String(e && e.message).split('\\n')[0].slice(0, 160) });
}
`;

async function parseYamlBounded(text: string): Promise<{ value: unknown } | { error: string }> {
  const yamlPath = createRequire(import.meta.url).resolve('yaml');
  return new Promise((resolveParse) => {
    const worker = new Worker(YAML_WORKER, {
      eval: true,
      workerData: { text, yaml: yamlPath },
      resourceLimits: { maxOldGenerationSizeMb: YAML_PARSE_HEAP_MB, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    let settled = false;
    const settle = (r: { value: unknown } | { error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolveParse(r);
    };
    const timer = setTimeout(() => settle({ error: `took more than ${YAML_PARSE_TIMEOUT_MS / 1000} s to parse as YAML: not checked` }), YAML_PARSE_TIMEOUT_MS);
    worker.on('message', (m: { value: unknown } | { error: string }) => settle(m));
    worker.on('error', (e: NodeJS.ErrnoException) =>
      settle({ error: e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `needs more than ${YAML_PARSE_HEAP_MB} MiB to parse as YAML: not checked` : `cannot be parsed as YAML: ${String(e.message).split('\n')[0]?.slice(0, 160)}` }),
    );
    worker.on('exit', () => settle({ error: 'cannot be parsed as YAML: the parser stopped' }));
  });
}

function valueAt(root: unknown, path: string[]): unknown {
  let v = root;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `a list of ${v.length} item(s)`;
  if (typeof v === 'string') return v.length <= 40 ? `the string ${JSON.stringify(v)}` : `a string of ${v.length} characters`;
  if (typeof v === 'object') return 'a mapping';
  return `the ${typeof v} ${String(v).slice(0, 40)}`;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

async function firstPresent(reader: ProjectReader, candidates: string[]): Promise<string | undefined> {
  for (const c of candidates) if (await reader.present(c)) return c;
  return undefined;
}

const KIND_OF = (s: Stats): string =>
  s.isFIFO() ? 'a FIFO' : s.isSocket() ? 'a socket' : s.isCharacterDevice() ? 'a character device' : s.isBlockDevice() ? 'a block device' : s.isDirectory() ? 'a directory' : 'not a file';

/**
 * Reads files of one project, and only those: the real path of each must lie under the real path
 * of the project, it must be a regular file, and at most a capped number of bytes is read.
 */
export class ProjectReader {
  private readonly skips = new Map<string, SkippedFile>();
  private readonly cache = new Map<string, TextFile | undefined>();
  private bytes = 0;

  private constructor(
    /** The project as given, made absolute: paths shown to the user are relative to it. */
    readonly dir: string,
    /** Its real path (symlinks resolved): every file read must be under it. */
    readonly real: string,
    readonly deadline: number,
  ) {}

  static async open(dirArg: string, deadline: number): Promise<ProjectReader> {
    const dir = resolve(dirArg);
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) throw new NotFoundError(`${dirArg} is not a directory`, { hint: 'give the root of a compose project (the folder with the Makefile and srcs/)' });
    return new ProjectReader(dir, await realpath(dir), deadline);
  }

  get skipped(): SkippedFile[] {
    return [...this.skips.values()];
  }

  whySkipped(path: string): SkippedFile | undefined {
    return this.skips.get(this.display(resolve(this.dir, path)));
  }

  /** Relative to the project when lexically inside it, absolute otherwise. */
  display(abs: string): string {
    const rel = relative(this.dir, abs);
    return rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? abs : rel;
  }

  /** Whether something (anything, even a dangling link) is at `path`: nothing is opened. */
  async present(path: string): Promise<boolean> {
    return (await lstat(resolve(this.dir, path)).catch(() => undefined)) !== undefined;
  }

  /** Whether `abs` (already a real path) is the project or under it. */
  inside(real: string): boolean {
    return real === this.real || real.startsWith(this.real.endsWith(sep) ? this.real : this.real + sep);
  }

  /** `path` is relative to the project or absolute. undefined: missing, or skipped (see whySkipped). */
  async read(path: string, opts: { maxBytes?: number; deadlineApplies?: boolean } = {}): Promise<TextFile | undefined> {
    const abs = resolve(this.dir, path);
    const shown = this.display(abs);
    if (this.cache.has(shown)) return this.cache.get(shown);
    const file = await this.readUncached(abs, shown, opts.maxBytes ?? MAX_FILE_BYTES, opts.deadlineApplies ?? true);
    this.cache.set(shown, file);
    return file;
  }

  /** Records `path` as not read (used by the walk for the files past its limits). */
  skip(path: string, kind: SkipKind, reason: string): void {
    if (!this.skips.has(path)) this.skips.set(path, { path, kind, reason });
  }

  private async readUncached(abs: string, shown: string, maxBytes: number, deadlineApplies: boolean): Promise<TextFile | undefined> {
    if (shown === abs) return this.skipAndNothing(shown, 'outside', 'outside the project');
    const link = await lstat(abs).catch(() => undefined);
    if (!link) return undefined;
    let real: string;
    try {
      real = await realpath(abs);
    } catch {
      return undefined; // a dangling link: as good as missing
    }
    if (!this.inside(real)) return this.skipAndNothing(shown, 'outside', link.isSymbolicLink() ? 'a link to a file outside the project' : 'outside the project (through a linked folder)');
    if (deadlineApplies && Date.now() > this.deadline) return this.skipAndNothing(shown, 'time-limit', 'time limit reached before it was read');
    const info = await stat(real).catch(() => undefined);
    if (!info) return this.skipAndNothing(shown, 'unreadable', 'cannot be read');
    if (!info.isFile()) return this.skipAndNothing(shown, 'special', `not a regular file (${KIND_OF(info)})`);
    if (info.size > maxBytes) return this.skipAndNothing(shown, 'too-large', `larger than ${maxBytes / 1024} KiB (${Math.ceil(info.size / 1024)} KiB)`);
    if (this.bytes + info.size > MAX_TOTAL_BYTES) return this.skipAndNothing(shown, 'file-limit', `the ${MAX_TOTAL_BYTES / 1024 / 1024} MiB read from the project so far is the limit`);
    // O_NONBLOCK: should the file have become a FIFO since the stat, open returns at once instead
    // of waiting for a writer; O_NOFOLLOW: nor can it have become a link. fstat decides again.
    let handle;
    try {
      handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch {
      return this.skipAndNothing(shown, 'unreadable', 'cannot be opened');
    }
    try {
      const now = await handle.stat();
      if (!now.isFile()) return this.skipAndNothing(shown, 'special', `not a regular file (${KIND_OF(now)})`);
      // One byte past the cap tells a file that grew since the stat from one that fits.
      const buf = Buffer.alloc(Math.min(maxBytes, Math.max(now.size, 0)) + 1);
      let n = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n === buf.length) break;
      }
      if (n > maxBytes) return this.skipAndNothing(shown, 'too-large', `larger than ${maxBytes / 1024} KiB`);
      this.bytes += n;
      return { path: shown, text: buf.toString('utf8', 0, n) };
    } catch {
      return this.skipAndNothing(shown, 'unreadable', 'cannot be read');
    } finally {
      await handle.close();
    }
  }

  private skipAndNothing(path: string, kind: SkipKind, reason: string): undefined {
    this.skip(path, kind, reason);
    return undefined;
  }
}

/**
 * Every file under `start`, breadth first (a project's own configs and scripts sit near the top;
 * a vendored tree deep below is what the file limit cuts). Linked folders are followed only when
 * they stay inside the project, each real folder once.
 */
async function readTree(reader: ProjectReader, start: string): Promise<TextFile[]> {
  const out: TextFile[] = [];
  const startAbs = resolve(reader.dir, start);
  const startReal = await realpath(startAbs).catch(() => undefined);
  if (startReal === undefined) return out;
  if (!reader.inside(startReal)) {
    reader.skip(start, 'outside', 'a link to a folder outside the project');
    return out;
  }
  const seen = new Set<string>([startReal]);
  const queue: { abs: string; depth: number }[] = [{ abs: startAbs, depth: 0 }];
  let entries = 0;
  for (let q = 0; q < queue.length; q++) {
    const { abs: d, depth } = queue[q] as { abs: string; depth: number };
    let list;
    try {
      list = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch {
      reader.skip(reader.display(d), 'unreadable', 'folder cannot be listed');
      continue;
    }
    for (const e of list) {
      entries += 1;
      if (entries > MAX_ENTRIES) {
        reader.skip(reader.display(d), 'file-limit', `the walk stopped after ${MAX_ENTRIES} entries under ${start}`);
        return out;
      }
      const p = join(d, e.name);
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        const real = await realpath(p).catch(() => undefined);
        const info = real === undefined ? undefined : await stat(real).catch(() => undefined);
        if (real !== undefined && info?.isDirectory()) {
          if (!reader.inside(real)) {
            reader.skip(reader.display(p), 'outside', 'a link to a folder outside the project');
            continue;
          }
          if (seen.has(real)) continue;
          seen.add(real);
          isDir = true;
        }
      }
      if (isDir) {
        if (depth + 1 > MAX_DEPTH) reader.skip(reader.display(p), 'file-limit', `deeper than ${MAX_DEPTH} levels under ${start}`);
        else queue.push({ abs: p, depth: depth + 1 });
        continue;
      }
      if (out.length >= MAX_FILES) {
        reader.skip(reader.display(p), 'file-limit', `beyond the ${MAX_FILES}-file limit`);
        continue;
      }
      const f = await reader.read(p);
      if (f) out.push(f);
    }
  }
  return out;
}

/** A file inside secrets/ (any name) and srcs/.env, as git's ignore rules see them. */
const IGNORE_PROBES = { secrets: 'secrets/labctl-probe', env: 'srcs/.env' } as const;

async function ignoredSecrets(dir: string, inGit: boolean, gitignore: TextFile | undefined): Promise<{ secrets: boolean; env: boolean } | undefined> {
  if (inGit) {
    // --no-index: the rules decide, even for a file that is (wrongly) tracked.
    const r = await execa('git', ['-c', 'core.fsmonitor=false', 'check-ignore', '--no-index', IGNORE_PROBES.secrets, IGNORE_PROBES.env], { cwd: dir, reject: false, timeout: GIT_TIMEOUT_MS, stdin: 'ignore' }).catch(() => undefined);
    if (r && (r.exitCode === 0 || r.exitCode === 1)) {
      const hits = String(r.stdout).split('\n').map((l) => l.trim());
      return { secrets: hits.includes(IGNORE_PROBES.secrets), env: hits.includes(IGNORE_PROBES.env) };
    }
  }
  if (!gitignore) return undefined;
  return { secrets: gitignores(gitignore.text, IGNORE_PROBES.secrets), env: gitignores(gitignore.text, IGNORE_PROBES.env) };
}

/** gitignore(5) for one root .gitignore: globs, anchoring, trailing /, ! negation, last match wins. */
export function gitignores(text: string, path: string): boolean {
  const segments = path.split('/');
  let ignored = false;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\s+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    let pattern = negate ? line.slice(1) : line;
    const dirOnly = pattern.endsWith('/');
    if (dirOnly) pattern = pattern.slice(0, -1);
    const anchored = pattern.includes('/');
    pattern = pattern.replace(/^\//, '');
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\/?/g, '\uE000').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\uE000/g, '(.*/)?')}$`);
    // A pattern matches the path or one of its folders (a folder's rule covers what is inside).
    let hit = false;
    for (let end = segments.length; end >= 1 && !hit; end--) {
      const isDir = end < segments.length;
      if (dirOnly && !isDir) continue;
      const prefix = segments.slice(0, end);
      if (anchored) hit = re.test(prefix.join('/'));
      else hit = re.test(prefix.at(-1) ?? '');
    }
    if (hit) ignored = !negate;
  }
  return ignored;
}

async function gitTracked(dir: string): Promise<string[] | undefined> {
  // core.fsmonitor off: the repository's own .git/config must not get a command of its run.
  const git = (args: string[]) =>
    execa('git', ['-c', 'core.fsmonitor=false', ...args], { cwd: dir, reject: false, timeout: GIT_TIMEOUT_MS, maxBuffer: 32 * 1024 * 1024, stdin: 'ignore' }).catch(() => undefined);
  const r = await git(['ls-files', '--full-name', '.']);
  if (!r || r.exitCode !== 0) return undefined;
  const prefix = await git(['rev-parse', '--show-prefix']);
  const p = String(prefix?.stdout ?? '').trim();
  return String(r.stdout)
    .split('\n')
    .filter(Boolean)
    .map((f) => (p && f.startsWith(p) ? f.slice(p.length) : f));
}

/**
 * Compose-style `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$VAR`, on every string. A scan
 * rather than one regular expression: `[^}]*` retried at each of many unclosed `${A-` was
 * quadratic in the length of the string.
 */
export function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') return interpolateString(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}

const VAR_NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

function varNameAt(s: string, at: number): string | undefined {
  VAR_NAME.lastIndex = at;
  return VAR_NAME.exec(s)?.[0];
}

function interpolateString(s: string, env: Record<string, string>): string {
  if (!s.includes('$')) return s;
  const lastBrace = s.lastIndexOf('}');
  let out = '';
  let i = 0;
  while (i < s.length) {
    const dollar = s.indexOf('$', i);
    if (dollar < 0) break;
    out += s.slice(i, dollar);
    i = dollar;
    if (s[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (s[i + 1] === '{') {
      const nameText = varNameAt(s, i + 2);
      if (nameText !== undefined) {
        const j = i + 2 + nameText.length;
        const v = env[nameText];
        if (s[j] === '}') {
          out += v ?? '';
          i = j + 1;
          continue;
        }
        const op = s.startsWith(':-', j) ? ':-' : s[j] === '-' ? '-' : undefined;
        const close = op && lastBrace >= j + op.length ? s.indexOf('}', j + op.length) : -1;
        if (op && close >= 0) {
          const fallback = s.slice(j + op.length, close);
          out += op === ':-' ? (v === undefined || v === '' ? fallback : v) : v === undefined ? fallback : v;
          i = close + 1;
          continue;
        }
      }
      out += '$';
      i += 1;
      continue;
    }
    const bare = varNameAt(s, i + 1);
    if (bare !== undefined) {
      out += env[bare] ?? '';
      i += 1 + bare.length;
      continue;
    }
    out += '$';
    i += 1;
  }
  return out + s.slice(i);
}
