import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import { interpolate, loadProject, MAX_FILES, type Project, type ServiceSpec, type SkippedFile, type TextFile } from './project.js';
import { MANDATORY, type Role } from './role-names.js';
import { staticRoleLabel, staticRoles, type StaticRoles } from './static-roles.js';
import { judgeBase, latestTags, parseFrom, parseImageRef, resolveArgs } from './image-ref.js';
import { goalStartsStack, parseMakefile } from './makefile.js';
import { instructions } from './dockerfile.js';
import { judgePid1 } from './pid1.js';
import { fail, pass, result, skip, type CheckResult } from './types.js';
import { guestPaths } from '../core/guest-paths.js';

// `labctl check --static DIR`: everything of M01–M14 (and B01–B05) that can be read from files,
// the way graders read them before running anything.
//
// DIR is a student's repository: check/project.ts reads it safely, and every pattern here is
// linear in the length of a line (a hostile 256 KiB line used to cost tens of seconds), whatever
// the file: no quantifier is followed by another that can match the same characters unless the
// match is anchored, and where that was needed the work is done in code instead.

/** The whole static check; the rule groups not reached by then report skip "time limit". */
export const STATIC_CHECK_TIMEOUT_MS = 30_000;
/** Reasons and evidence quote the project's files: a line of them, never a whole 256 KiB one. */
const MAX_REASON_CHARS = 300;
const MAX_EVIDENCE_CHARS = 600;
/** The id of the summary of what was not read (docs/rules.md). */
export const SKIPPED_FILES_ID = 'P00.skipped-files';

export interface StaticOptions {
  /** Overrides STATIC_CHECK_TIMEOUT_MS (tests). */
  timeoutMs?: number;
  /** See LoadOptions.gitDir. */
  gitDir?: string;
}

export { MANDATORY };
export const BONUS_HINTS: Record<string, RegExp> = {
  B01: /redis/i,
  B02: /ftp/i,
  B03: /static|site|hugo|website/i,
  B04: /adminer/i,
};
const FORBIDDEN_WAITS: [RegExp, string][] = [
  [/\btail\s+-f\b/, 'tail -f'],
  [/\bsleep\s+infinity\b/, 'sleep infinity'],
  [/\bwhile\s+(true|:|\[\s*1\s*\])/, 'while true'],
  [/\bfor\s*\(\(\s*;\s*;\s*\)\)/, 'for ((;;))'],
];

export async function checkStatic(dir: string, opts: StaticOptions = {}): Promise<CheckResult[]> {
  const timeoutMs = opts.timeoutMs ?? STATIC_CHECK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const p = await loadProject(dir, { deadline, gitDir: opts.gitDir });
  const services = p.compose.services ?? {};
  const mandatory = roleServices(p);
  const bonus = Object.keys(services).filter((s) => !mandatory.has(s));
  const groups: [string, () => CheckResult[]][] = [
    ['M01', () => layout(p)],
    ['M02', () => mandatoryServices(p)],
    ['M03', () => builtLocally(p)],
    ['M04', () => imageNames(p)],
    ['M05', () => ports(p, bonus)],
    ['M06', () => noNginxBesideNginx(p)],
    ['M07', () => volumes(p)],
    ['M08', () => network(p)],
    ['M09', () => restart(p)],
    ['M10', () => pid1(p)],
    ['M11', () => wordpressUsers(p)],
    ['M12', () => secrets(p)],
    ['M14', () => docs(p)],
    ['B00', () => bonusServices(p, bonus)],
  ];
  const out: CheckResult[] = [];
  for (const [rule, run] of groups) {
    // Each group is linear in what was read, so checking between groups bounds the whole.
    if (Date.now() >= deadline) out.push(skip(`${rule}.time-limit`, `not checked: the static check reached its time limit (${timeoutMs / 1000} s)`));
    else out.push(...run());
  }
  out.push(...skippedFiles(p));
  return out.map(clipResult);
}

/** One result listing every file left unread; a fail when one lies outside the project. */
function skippedFiles(p: Project): CheckResult[] {
  if (p.skipped.length === 0) return [];
  const byReason = new Map<string, SkippedFile[]>();
  for (const s of p.skipped) byReason.set(labelOf(s), [...(byReason.get(labelOf(s)) ?? []), s]);
  const parts = [...byReason].map(([label, list]) => `${list.length} ${label} (${list[0]?.path ?? ''}${list.length > 1 ? ', …' : ''})`);
  const reason = `${p.skipped.length} file(s) skipped, not read: ${parts.join('; ')}`;
  // The files that say something about the project first; the ones past a limit after.
  const order: SkippedFile['kind'][] = ['outside', 'special', 'too-large', 'unreadable', 'file-limit', 'time-limit'];
  const evidence = [...p.skipped]
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind))
    .slice(0, 20)
    .map((s) => `${s.path}: ${s.reason}`)
    .join('; ');
  return [p.skipped.some((s) => s.kind === 'outside') ? fail(SKIPPED_FILES_ID, reason, evidence) : skip(SKIPPED_FILES_ID, reason, evidence)];
}

function labelOf(s: SkippedFile): string {
  switch (s.kind) {
    case 'outside':
      return 'outside the project';
    case 'special':
      return 'not a regular file';
    case 'too-large':
      return 'too large';
    case 'file-limit':
      return /beyond the/.test(s.reason) ? `beyond the ${MAX_FILES}-file limit` : 'past a limit of the walk';
    case 'time-limit':
      return 'past the time limit';
    default:
      return 'unreadable';
  }
}

function clipResult(r: CheckResult): CheckResult {
  return {
    ...r,
    id: clip(r.id, 120),
    reason: clip(r.reason, MAX_REASON_CHARS),
    ...(r.evidence === undefined ? {} : { evidence: clip(r.evidence, MAX_EVIDENCE_CHARS) }),
  };
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** ", not read: <why>" for a file the reader left out, '' otherwise. */
function notRead(p: Project, path: string | undefined): string {
  const why = path === undefined ? undefined : p.reader.whySkipped(path);
  return why ? `${path} is not read: ${why.reason}` : '';
}

function layout(p: Project): CheckResult[] {
  const out: CheckResult[] = [];
  out.push(p.makefile ? pass('M01.makefile', 'Makefile at the project root') : fail('M01.makefile', notRead(p, 'Makefile') || 'no Makefile at the project root'));
  if (p.makefile) {
    const mk = parseMakefile(p.makefile.text);
    const goal = mk.defaultGoal;
    const reach = goal === undefined ? undefined : goalStartsStack(mk, goal);
    out.push(
      goal === undefined || reach === undefined
        ? fail('M01.make-default', 'the Makefile has no default target')
        : reach.starts
          ? pass('M01.make-default', `default target "${goal}" builds and starts the stack`, `Makefile: ${reach.evidence}`)
          : fail('M01.make-default', `the default target "${goal}" does not start the stack: no docker compose up in it or in ${reach.visited.length - 1} goal(s) it needs`, reach.evidence),
    );
  }
  out.push(p.composePath ? pass('M01.compose-file', p.composePath) : fail('M01.compose-file', 'no srcs/docker-compose.yml'));
  // Fields of the wrong shape were left out, so that every other rule still has its verdict.
  if (p.composeProblems.length > 0) {
    const more = p.composeProblems.length > 1 ? ` (and ${p.composeProblems.length - 1} more)` : '';
    out.push(fail('M01.compose-shape', `${p.composeProblems[0]}${more}; left out of the other checks`, 'fix that field as the Compose specification has it (`docker compose config` names the same problem)'));
  }
  out.push(
    p.envSource === 'srcs/.env'
      ? pass('M01.env-file', 'srcs/.env present')
      : p.envSource && makesEnvFile(p)
        ? pass('M01.env-file', `${p.envSource} present; srcs/.env is generated from it by make`)
        : p.envSource
          ? fail('M01.env-file', `only ${p.envSource}: no srcs/.env, and the Makefile does not make one`, 'commit a srcs/.env.example and have make write srcs/.env from it')
          : fail('M01.env-file', 'no srcs/.env (nor .env.example)'),
  );
  for (const name of Object.keys(p.compose.services ?? {})) {
    const df = p.dockerfiles.get(name);
    const expected = roleServices(p).has(name) ? `srcs/requirements/${name}/` : `srcs/requirements/bonus/${name}/`;
    const unread = notRead(p, p.dockerfilePaths.get(name));
    if (!df) out.push(fail(`M01.dockerfile-${name}`, unread ? `service ${name}: ${unread}` : `service ${name} has no Dockerfile of its own`, `expected ${expected}Dockerfile`));
    else if (!df.path.startsWith(expected)) out.push(fail(`M01.dockerfile-${name}`, `${df.path} is not under ${expected}`));
    else out.push(pass(`M01.dockerfile-${name}`, df.path));
  }
  const madeBy = p.makefile ? makeRuleFor(p.makefile, 'secrets') : undefined;
  out.push(
    existsSync(join(p.dir, 'secrets'))
      ? pass('M01.secrets-dir', 'secrets/ at the root')
      : madeBy
        ? pass('M01.secrets-dir', `secrets/ is made by the Makefile (${madeBy})`)
        : fail('M01.secrets-dir', 'no secrets/ directory at the root, and no Makefile rule that makes it'),
  );
  return out;
}

function mandatoryServices(p: Project): CheckResult[] {
  const services = p.compose.services ?? {};
  return MANDATORY.map((role) => {
    const match = rolesOf(p).get(role);
    const svc = match ? services[match.service] : undefined;
    if (!match || !svc) return fail(`M02.service-${role}`, `no ${role} service in the compose file (none named ${role}, none whose Dockerfile installs it)`);
    const label = staticRoleLabel(role, match);
    if ((svc.deploy?.replicas ?? 1) !== 1) return fail(`M02.service-${role}`, `${label} runs ${svc.deploy?.replicas} replicas; one container each`);
    return pass(`M02.service-${role}`, `${label} defined`);
  });
}

function builtLocally(p: Project): CheckResult[] {
  const out: CheckResult[] = [];
  for (const [name, svc] of Object.entries(p.compose.services ?? {})) {
    out.push(svc.build ? pass(`M03.build-${name}`, `${name} is built from its own Dockerfile`) : fail(`M03.build-${name}`, `${name} has no build: it would use a ready-made image (${svc.image ?? '?'})`));
  }
  for (const [name, df] of p.dockerfiles) {
    const bases = baseImages(df, buildArgs(p.compose.services?.[name]));
    const id = `M03.from-${name}`;
    const unresolved = bases.find((b) => b.unresolved.length > 0);
    const bad = bases.filter((b) => b.unresolved.length === 0).map((b) => ({ b, verdict: judgeBase(b.image, b.stagesBefore) })).find((x) => !x.verdict.ok);
    if (bases.length === 0) out.push(fail(id, `${df.path} has no FROM`));
    else if (bad && !bad.verdict.ok) out.push(fail(id, `${df.path}: ${bad.verdict.why}`, bad.b.line));
    else if (unresolved) out.push(skip(id, `${df.path}: FROM uses $\{${unresolved.unresolved[0]}} with no default in the Dockerfile: the base is decided at build time`, unresolved.line));
    else out.push(pass(id, bases[0]?.line ?? '', df.path));
  }
  return out;
}

interface BaseImage {
  /** The image after the Dockerfile's own ARG defaults are put in. */
  image: string;
  line: string;
  unresolved: string[];
  /** Stage names defined by earlier FROM … AS lines: `FROM build` then means that stage. */
  stagesBefore: ReadonlySet<string>;
}

const BASES = new WeakMap<TextFile, BaseImage[]>();

/** compose's build: args: (a mapping, or a list of KEY=value) as they reach the Dockerfile's ARGs. */
function buildArgs(svc: ServiceSpec | undefined): Map<string, string> {
  const build = svc?.build;
  const raw = typeof build === 'object' && build !== null ? (build as { args?: unknown }).args : undefined;
  const out = new Map<string, string>();
  if (Array.isArray(raw)) for (const item of raw) {
    const m = /^([A-Za-z_]\w*)=(.*)$/.exec(String(item));
    if (m?.[1]) out.set(m[1], m[2] ?? '');
  }
  else if (raw && typeof raw === 'object') for (const [k, v] of Object.entries(raw)) if (v !== null && v !== undefined) out.set(k, String(v));
  return out;
}

function baseImages(df: TextFile, given: ReadonlyMap<string, string> = new Map()): BaseImage[] {
  const known = given.size === 0 ? BASES.get(df) : undefined;
  if (known) return known;
  // compose's build args win over the Dockerfile's defaults, as with docker build --build-arg.
  const args = new Map<string, string>(given);
  const stages = new Set<string>();
  const out: BaseImage[] = [];
  for (const line of instructions(df.text)) {
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(?:"([^"]*)"|'([^']*)'|(\S*)))?/i.exec(line);
    if (arg) {
      const value = arg[2] ?? arg[3] ?? arg[4];
      if (value !== undefined && !args.has(arg[1] ?? '')) args.set(arg[1] ?? '', value);
      continue;
    }
    const from = parseFrom(line);
    if (!from) continue;
    const { value, unresolved } = resolveArgs(from.image, args);
    out.push({ image: value, line, unresolved, stagesBefore: new Set(stages) });
    if (from.stage) stages.add(from.stage.toLowerCase());
  }
  if (given.size === 0) BASES.set(df, out);
  return out;
}

function imageNames(p: Project): CheckResult[] {
  const out: CheckResult[] = [];
  for (const [name, svc] of Object.entries(p.compose.services ?? {})) {
    const image = svc.image ?? '';
    const [repo, tag] = image.split(':');
    if (repo !== name) out.push(fail(`M04.image-${name}`, `service ${name} builds image "${image || '(unnamed)'}"; name it after the service`, `image: ${image}`));
    else out.push(pass(`M04.image-${name}`, `image ${image}`));
    if (tag === 'latest') out.push(fail(`M04.tag-${name}`, `${name} uses the latest tag`, `image: ${image}`));
  }
  // Image references only: `name:latest` in any file, and a FROM without a tag (Docker reads it as
  // latest). The word in a URL (wordpress.org/latest.tar.gz) or in prose is not a tag.
  const latest = textFiles(p).flatMap((f) =>
    linesOf(f).flatMap((l, i) => (/^\s*#/.test(l) ? [] : latestTags(l).map((ref) => `${f.path}:${i + 1}: ${ref}`))),
  );
  for (const df of p.dockerfiles.values()) {
    for (const b of baseImages(df)) {
      if (b.unresolved.length === 0 && b.image !== '' && !b.stagesBefore.has(b.image.toLowerCase()) && parseImageRef(b.image).tag === undefined && b.image !== 'scratch') latest.push(`${df.path}: ${b.line} (no tag: latest)`);
    }
  }
  out.push(latest.length === 0 ? pass('M04.no-latest', 'no image reference uses the latest tag') : fail('M04.no-latest', `the latest tag is used ${latest.length} time(s)`, latest[0]));
  return out;
}

function publishedPorts(svc: ServiceSpec): string[] {
  return (svc.ports ?? []).map((port) => {
    if (typeof port === 'object') return String(port.published ?? port.target ?? '');
    const parts = String(port).split(':');
    // "443", "443:443", "127.0.0.1:443:443" → the host side is the second-to-last part.
    return (parts.length === 1 ? parts[0] : parts[parts.length - 2]) ?? '';
  });
}

function ports(p: Project, bonus: string[]): CheckResult[] {
  const out: CheckResult[] = [];
  const services = p.compose.services ?? {};
  const web = serviceFor(p, 'nginx');
  const mandatoryPorts = MANDATORY.flatMap((role) => {
    const name = serviceFor(p, role);
    return publishedPorts(services[name] ?? {}).map((port) => `${name}:${port}`);
  });
  out.push(
    mandatoryPorts.length === 1 && mandatoryPorts[0] === `${web}:443`
      ? pass('M05.only-443', `the mandatory part publishes only ${web}:443`)
      : fail('M05.only-443', `published ports of the mandatory part: ${mandatoryPorts.join(', ') || 'none'}; expected only ${web}:443`),
  );
  for (const name of bonus) {
    const published = publishedPorts(services[name] ?? {});
    if (published.includes('80')) out.push(fail(`M05.no-http-${name}`, `${name} publishes port 80 (plain HTTP)`));
  }
  const conf = serviceFiles(p, web);
  const protocols = conf.flatMap((f) => grepLines(f, /^\s*ssl_protocols\s/));
  const unreadConf = p.skipped.filter((s) => inContext(p, web, s.path));
  if (protocols.length === 0 && unreadConf.length > 0) {
    out.push(skip('M05.tls-protocols', `no ssl_protocols line in the nginx files read; ${unreadConf.length} nginx file(s) not read (${unreadConf[0]?.path}: ${unreadConf[0]?.reason})`));
  } else if (protocols.length === 0) out.push(fail('M05.tls-protocols', 'no ssl_protocols line in the nginx configuration'));
  else if (protocols.every((l) => /ssl_protocols\s+(TLSv1\.[23]\s*)+;/.test(l))) out.push(pass('M05.tls-protocols', protocols[0]?.trim() ?? ''));
  else out.push(fail('M05.tls-protocols', 'nginx allows a protocol other than TLSv1.2/TLSv1.3', protocols.find((l) => !/ssl_protocols\s+(TLSv1\.[23]\s*)+;/.test(l))));
  const listen80 = conf.flatMap((f) => grepLines(f, /^\s*listen\s+(\[::\]:)?80\b/).map((l) => `${f.path}: ${l.trim()}`));
  out.push(listen80.length === 0 ? pass('M05.no-listen-80', 'nginx does not listen on 80') : fail('M05.no-listen-80', 'nginx listens on port 80', listen80[0]));
  return out;
}

/** Lines of RUN instructions that install packages, joined across continuations. */
function installs(df: TextFile): string {
  return instructions(df.text)
    // apt-get install, apt-get -y install, apt -y --no-install-recommends install, apk add --no-cache
    .filter((i) => /^RUN\s/i.test(i) && /\b(apt-get|apt|apk)\b(\s+-{1,2}[\w=-]+)*\s+(install|add)\b/.test(i))
    .join('\n');
}

function noNginxBesideNginx(p: Project): CheckResult[] {
  const out: CheckResult[] = [];
  for (const role of ['wordpress', 'mariadb'] as const) {
    const name = serviceFor(p, role);
    const df = p.dockerfiles.get(name);
    if (!df) {
      const unread = notRead(p, p.dockerfilePaths.get(name));
      out.push(skip(`M06.no-nginx-${role}`, `no Dockerfile for ${name}${unread ? ` (${unread})` : ''}`));
      continue;
    }
    const hasNginx = /(?<![\w-])nginx(?![\w-])/.test(installs(df));
    out.push(hasNginx ? fail(`M06.no-nginx-${role}`, `${df.path} installs nginx`) : pass(`M06.no-nginx-${role}`, `${name} image installs no nginx`));
  }
  const wpService = serviceFor(p, 'wordpress');
  const wp = p.dockerfiles.get(wpService);
  if (wp) {
    out.push(/(?<![\w-])php[\w.${}]*-fpm(?![\w-])/.test(installs(wp)) ? pass('M06.php-fpm', `${wpService} installs php-fpm`) : fail('M06.php-fpm', `${wp.path} does not install php-fpm`));
  }
  // The pool's listen line, in a pool file or written by sed in the Dockerfile or a script (the
  // replacement of `s|listen = …|listen = 9000|`).
  const fpmListen = [
    ...serviceFiles(p, wpService).flatMap((f) => grepLines(f, /^\s*listen\s*=/).map((l) => l.trim())),
    ...[...(wp ? [wp] : []), ...serviceFiles(p, wpService)].flatMap((f) => grepLines(f, /\bsed\b.*\blisten\s*=/).map((l) => `listen = ${[...l.matchAll(/listen\s*=\s*([^\s|/'"#,;]+(?::\d+)?)/g)].at(-1)?.[1] ?? ''}`)),
  ];
  if (fpmListen.length > 0) {
    // Port 9000 on every interface or the container's name; loopback cannot be reached by nginx.
    const reachable = (l: string) => /^listen\s*=\s*(\d+\.\d+\.\d+\.\d+:|\[[^\]]*\]:|[\w.-]+:)?9000\s*;?$/.test(l) && !/=\s*(127\.\d+\.\d+\.\d+|localhost|\[::1\]):/.test(l);
    const good = fpmListen.find(reachable);
    out.push(good ? pass('M06.fpm-9000', good) : fail('M06.fpm-9000', /9000/.test(fpmListen.join(' ')) ? 'php-fpm listens on 9000 on the loopback only: nginx cannot reach it' : 'php-fpm does not listen on 9000', fpmListen[0]));
  }
  return out;
}

function volumes(p: Project): CheckResult[] {
  const out: CheckResult[] = [];
  const declared = p.compose.volumes ?? {};
  const login = p.env.LOGIN ?? p.env.USER ?? '';
  const dataRoot = login ? guestPaths(login).data : '/home/';
  for (const role of ['mariadb', 'wordpress'] as const) {
    const name = serviceFor(p, role);
    const mounts = p.compose.services?.[name]?.volumes ?? [];
    const sources = mounts.map((m) => (typeof m === 'string' ? (m.split(':')[0] ?? '') : (m.source ?? '')));
    const named = sources.filter((s) => s !== '' && !s.startsWith('/') && !s.startsWith('.') && !s.startsWith('~'));
    const binds = sources.filter((s) => s.startsWith('/') || s.startsWith('.') || s.startsWith('~'));
    if (binds.length > 0) out.push(fail(`M07.named-${role}`, `${name} uses a bind mount (${binds[0]}); use a named volume`));
    else if (named.length === 0) out.push(fail(`M07.named-${role}`, `${name} has no named volume for its data`));
    else out.push(pass(`M07.named-${role}`, `${name} uses named volume ${named[0]}`));
    for (const vol of named) {
      const spec = declared[vol];
      const device = String(spec?.driver_opts?.device ?? '');
      const unset = unsetVariables(p, device);
      if (unset.length > 0) out.push(skip(`M07.location-${vol}`, `volume ${vol}'s device uses \${${unset[0]}}, which srcs/.env does not set: where the data goes is decided when make runs`));
      else if (!spec || !device) out.push(fail(`M07.location-${vol}`, `volume ${vol} does not keep its data under ${dataRoot}`, 'add driver: local with driver_opts type none, o bind, device'));
      else if ((spec.driver ?? 'local') !== 'local') out.push(fail(`M07.location-${vol}`, `volume ${vol} uses driver ${spec.driver}`));
      else if (!device.startsWith(login ? `${dataRoot}/` : dataRoot)) out.push(fail(`M07.location-${vol}`, `volume ${vol} stores data in ${device}, not under ${dataRoot}`));
      else out.push(pass(`M07.location-${vol}`, `${vol} → ${device}`));
    }
  }
  const byDevice = new Map<string, string[]>();
  for (const [vol, spec] of Object.entries(declared)) {
    const device = String(spec?.driver_opts?.device ?? '').replace(/\/+$/, '');
    if (device !== '') byDevice.set(device, [...(byDevice.get(device) ?? []), vol]);
  }
  const shared = [...byDevice].find(([, vols]) => vols.length > 1);
  if (shared) out.push(fail('M07.distinct-dirs', `volumes ${shared[1].join(' and ')} keep their data in the same folder ${shared[0]}`));
  const count = Object.keys(declared).length;
  out.push(count >= 2 ? pass('M07.two-volumes', `${count} named volumes`) : fail('M07.two-volumes', `${count} named volume(s); the database and the site files need one each`));
  return out;
}

function network(p: Project): CheckResult[] {
  const out: CheckResult[] = [];
  const nets = Object.keys(p.compose.networks ?? {});
  out.push(nets.length > 0 ? pass('M08.network', `network(s): ${nets.join(', ')}`) : fail('M08.network', 'no user-defined network in the compose file'));
  for (const [name, svc] of Object.entries(p.compose.services ?? {})) {
    const attached = Array.isArray(svc.networks) ? svc.networks : Object.keys(svc.networks ?? {});
    if (svc.network_mode) out.push(fail(`M08.network-mode-${name}`, `${name} uses network_mode: ${svc.network_mode}`));
    else if (nets.length > 0 && !attached.some((n) => nets.includes(n))) out.push(fail(`M08.attached-${name}`, `${name} is not on the project's network`));
    else if (nets.length > 0) out.push(pass(`M08.attached-${name}`, `${name} is on ${attached.filter((n) => nets.includes(n)).join(', ')}`));
    if (svc.links !== undefined) out.push(fail(`M08.links-${name}`, `${name} uses links:`));
  }
  const hits = textFiles(p).flatMap((f) => [...grepLines(f, /--link\b/), ...grepLines(f, /network_mode\s*:\s*["']?host/), ...grepLines(f, /--network[ =]host\b/)].map((l) => `${f.path}: ${l.trim()}`));
  for (const [name, svc] of Object.entries(p.compose.services ?? {})) if (svc.links !== undefined) hits.push(`${p.composePath ?? 'compose file'}: ${name}: links:`);
  out.push(hits.length === 0 ? pass('M08.forbidden', 'no host network, links or --link anywhere') : fail('M08.forbidden', 'forbidden networking found', hits[0]));
  return out;
}

function restart(p: Project): CheckResult[] {
  return Object.entries(p.compose.services ?? {}).map(([name, svc]) =>
    svc.restart && ['always', 'unless-stopped', 'on-failure'].some((r) => svc.restart?.startsWith(r))
      ? pass(`M09.restart-${name}`, `restart: ${svc.restart}`)
      : fail(`M09.restart-${name}`, `${name} has no restart policy (${svc.restart ?? 'none'})`),
  );
}

function pid1(p: Project): CheckResult[] {
  const out: CheckResult[] = [];
  const hits: string[] = [];
  // What containers run: the Dockerfiles and the files of the build contexts. A `tail -f` in the
  // Makefile's logs target is the student's terminal, not a container's PID 1.
  const inImages = [...new Map([...p.dockerfiles.values(), ...[...p.contexts.keys()].flatMap((s) => serviceFiles(p, s))].map((f) => [f.path, f])).values()];
  for (const f of inImages) {
    // A trailing comment is no command ("exec nginx  # no tail -f needed").
    for (const [re, label] of FORBIDDEN_WAITS) for (const l of grepLines(f, re).filter((line) => re.test(withoutComment(line)))) hits.push(`${f.path}: ${label}: ${l.trim()}`);
    // A loop whose body only sleeps (while ps … | grep -q mysqld; do sleep 60; done) only waits.
    const joined = linesOf(f).map(withoutComment).join('\n');
    const sleeper = /\b(while|until)\b[^\n]*?(?:;|\n)\s*do\s*(?:\n\s*)?sleep\s+[\d.]+[smhd]?\s*(?:;|\n)\s*done\b/.exec(joined);
    if (sleeper) hits.push(`${f.path}: a loop that only sleeps: ${sleeper[0].replace(/\s+/g, ' ').slice(0, 80)}`);
  }
  const pid1s: [string, ReturnType<typeof judgePid1>, string][] = [];
  for (const [name, df] of p.dockerfiles) {
    const svc = p.compose.services?.[name] ?? {};
    const context = contextOf(p, name);
    const files = serviceFiles(p, name).map((f) => ({ path: context === '.' ? f.path : f.path.slice(context.length + 1), text: f.text, shown: f.path }));
    pid1s.push([name, judgePid1({ dockerfile: df.text, context: files, composeEntrypoint: svc.entrypoint, composeCommand: svc.command }), df.path]);
  }
  // What PID 1 ends up doing counts too: compose's command: tail -f, a script ending in wait.
  for (const [name, v] of pid1s) if (v.waits) hits.push(`${name}: ${v.reason}`);
  out.push(hits.length === 0 ? pass('M10.no-waiting-loops', 'no tail -f, sleep infinity or endless loop in what the images run') : fail('M10.no-waiting-loops', `${hits.length} forbidden wait(s)`, hits[0]));
  for (const [name, v, path] of pid1s) out.push(result(`M10.pid1-${name}`, v.verdict, v.reason, v.evidence ?? path));
  return out;
}

/** The line without a shell/conf comment (a # after blank space, outside quotes roughly). */
function withoutComment(line: string): string {
  return line.replace(/(^|\s)#(?![!{]).*$/, '');
}

/**
 * `WORD = value` (or `WORD: value`) where WORD contains PASSWORD, PASSWD, PASS, PWD or SECRET and
 * the value has 3 characters or more: the first such assignment of the line, as the old
 * `\b[A-Z0-9_]*(PASSWORD|…)[A-Z0-9_]*\s*[=:]\s*["']?([^\s"'$]{3,})` found it. That pattern retried
 * the two `[A-Z0-9_]*` around the keyword at every keyword of a long word (`PASSPASS…`): quadratic.
 * Here each word is matched once and the keyword looked for inside it.
 */
export function passwordAssignment(line: string): { value: string; start: number } | undefined {
  const assignment = /\b(\w+)\s*[=:]\s*["']?/g;
  const value = /[^\s"'$]*/y;
  for (let m = assignment.exec(line); m; m = assignment.exec(line)) {
    const word = m[1] ?? '';
    if (/PASSWORD|PASSWD|PASS|PWD|SECRET/i.test(word)) {
      value.lastIndex = m.index + m[0].length;
      const v = value.exec(line)?.[0] ?? '';
      if (v.length >= 3) return { value: v, start: value.lastIndex - v.length };
    }
    // Go on right after the word: the next assignment may start inside this one's value.
    assignment.lastIndex = m.index + word.length;
  }
  return undefined;
}

function secrets(p: Project): CheckResult[] {
  const out: CheckResult[] = [];
  const leaks: string[] = [];
  // Where KEY: value and KEY=value are settings by nature: any such line is looked at.
  const loose = new Set<TextFile>([...p.dockerfiles.values(), ...(p.composeFile ? [p.composeFile] : []), ...(p.envFile ? [p.envFile] : [])]);
  for (const f of passwordCandidates(p)) {
    for (const [i, line] of linesOf(f).entries()) {
      if (/^\s*(#|--|\/\/)/.test(line)) continue;
      const leak = passwordLeak(line, !loose.has(f));
      // The evidence shows where and which, never the value itself.
      if (leak) leaks.push(`${f.path}:${i + 1}: ${leak}`);
    }
  }
  // A build argument ends up in the image's history (docker history shows it), secret or not.
  for (const df of p.dockerfiles.values()) {
    for (const [i, line] of linesOf(df).entries()) {
      const arg = /^\s*ARG\s+(\w*(PASSWORD|PASSWD|PASS|PWD|SECRET)\w*)/i.exec(line);
      if (arg) leaks.push(`${df.path}:${i + 1}: ARG ${arg[1]} (a build argument is kept in the image's history)`);
    }
  }
  out.push(
    leaks.length === 0
      ? pass('M12.no-passwords', 'no password literal in any file read (Dockerfiles, compose, .env, scripts, configs, SQL, docs)')
      : fail('M12.no-passwords', `a password is written in a file${leaks.length > 1 ? ` (${leaks.length} places)` : ''}`, leaks.slice(0, 3).join('; ')),
  );

  const declared = Object.entries(p.compose.secrets ?? {});
  out.push(
    declared.length > 0 && declared.every(([, s]) => s.file !== undefined && /(^|\/)secrets\//.test(s.file))
      ? pass('M12.docker-secrets', `${declared.length} Docker secrets from secrets/`)
      : fail('M12.docker-secrets', declared.length === 0 ? 'no Docker secrets declared' : 'a secret does not come from a file in secrets/'),
  );

  if (p.ignored === undefined) out.push(fail('M12.gitignored', 'no .gitignore: a `git add .` would commit secrets/ and srcs/.env', 'add secrets/ and srcs/.env to .gitignore'));
  else {
    const open = [...(p.ignored.secrets ? [] : ['secrets/']), ...(p.ignored.env ? [] : ['srcs/.env'])];
    out.push(open.length === 0 ? pass('M12.gitignored', 'git ignores secrets/ and srcs/.env') : fail('M12.gitignored', `git does not ignore ${open.join(' and ')}: a \`git add .\` would commit it`, `add ${open.join(' and ')} to .gitignore`));
  }
  if (p.tracked === undefined) {
    out.push(skip('M12.secrets-untracked', 'not a git work tree: cannot tell what is committed'));
  } else {
    const tracked = p.tracked.filter((f) => (/^secrets\//.test(f) && !/\/\.gitkeep$|README/.test(f)) || f === 'srcs/.env');
    out.push(tracked.length === 0 ? pass('M12.secrets-untracked', 'neither secrets/ nor srcs/.env is tracked by git') : fail('M12.secrets-untracked', `${tracked.length} secret file(s) tracked by git`, tracked[0]));
  }
  return out;
}

// Variables that name the WordPress administrator (WP_ADMIN_USER, WORDPRESS_ADMIN_LOGIN, ADMIN_NAME …)
const ADMIN_NAME_VAR = /^(?:\w*_)?ADMIN(?:ISTRATOR)?_?(?:USER(?:NAME)?|LOGIN|NAME)$/i;
const CREATES_USER = /\bwp\s+user\s+create\b|\bwp_(?:insert|create)_user\s*\(/;
const INSTALLS_SITE = /\bwp\s+core\s+install\b|\bwp_install\s*\(/;

/**
 * M11 from the files: the administrator's name, where it is written (the .env, or a literal
 * --admin_user), must not contain admin; a second user must be created (wp user create,
 * wp_insert_user), or only the administrator exists. Not found is a skip: the live check decides.
 */
// Ids of their own: the live check's M11.admin-name and M11.two-users read the database itself.
function wordpressUsers(p: Project): CheckResult[] {
  const out: CheckResult[] = [];
  const wp = serviceFiles(p, serviceFor(p, 'wordpress'));
  const named: { value: string; where: string }[] = [];
  for (const [key, value] of Object.entries(p.env)) if (ADMIN_NAME_VAR.test(key) && value.trim() !== '') named.push({ value: value.trim(), where: `${p.envSource ?? '.env'}: ${key}` });
  for (const f of wp) {
    for (const [i, line] of linesOf(f).entries()) {
      const flag = /--admin_user[= ]["']?([^\s"'$]+)/.exec(line);
      if (flag?.[1]) named.push({ value: flag[1], where: `${f.path}:${i + 1}: --admin_user` });
    }
  }
  const bad = named.find((n) => /admin/i.test(n.value));
  if (bad) out.push(fail('M11.admin-name-in-files', `the WordPress administrator is named "${bad.value}", which contains "admin"`, bad.where));
  else if (named[0]) out.push(pass('M11.admin-name-in-files', `administrator "${named[0].value}"`, named[0].where));
  else out.push(skip('M11.admin-name-in-files', "the administrator's name is not written in the .env or the wordpress files (the live check reads the database)"));
  const creates = wp.find((f) => CREATES_USER.test(f.text));
  const installs = wp.find((f) => INSTALLS_SITE.test(f.text));
  if (creates) out.push(pass('M11.creates-two-users', `a second user is created in ${creates.path}`));
  else if (installs) out.push(fail('M11.creates-two-users', `${installs.path} installs WordPress but creates no second user (wp user create)`));
  else out.push(skip('M11.creates-two-users', 'no WordPress installation found in the wordpress files (the live check counts the users)'));
  return out;
}

/**
 * The variables that a device path, as the compose file writes it, takes from outside srcs/.env
 * (the shell of whoever runs make): the raw `device:` lines are matched to the interpolated value.
 */
function unsetVariables(p: Project, interpolated: string): string[] {
  for (const line of p.composeText.split('\n')) {
    const raw = /^\s*device\s*:\s*["']?([^"'#\n]*?)["']?\s*(?:#.*)?$/.exec(line)?.[1];
    if (!raw || !raw.includes('$') || String(interpolate(raw, p.env)) !== interpolated) continue;
    return [...raw.matchAll(/\$\{?([A-Za-z_]\w*)(:?-[^}]*)?\}?/g)].filter((m) => m[2] === undefined && p.env[m[1] ?? ''] === undefined).map((m) => m[1] ?? '');
  }
  return [];
}

/** What M12 reads: every text file read, limited to what git tracks (and srcs/.env) when that is known. */
function passwordCandidates(p: Project): TextFile[] {
  const all = [...textFiles(p), ...p.docs.values(), ...p.rootFiles, ...(p.envFile ? [p.envFile] : [])];
  const unique = [...new Map(all.map((f) => [f.path, f])).values()];
  if (p.tracked === undefined) return unique;
  const tracked = new Set(p.tracked);
  return unique.filter((f) => tracked.has(f.path) || f.path === 'srcs/.env' || f === p.envFile);
}

/** Names that hold where a password is, not the password: DB_PASSWORD_FILE, PASSWORD_FILES, SECRETS_DIR. */
const NAMES_A_PATH = /_(FILES?|PATH|DIR)$/i;
// In scripts, SQL, PHP and docs an assignment must be the whole line with a literal value: prose
// ("check the secrets: section") and code that reads a file ($password = file_get_contents(…)) are not.
const SHELL_ASSIGNMENT = /^\s*(?:export\s+|readonly\s+|local\s+|declare\s+(?:-\w+\s+)?)?([A-Za-z_]\w*)=("[^"$`]{3,}"|'[^']{3,}'|[^\s"'$`(<{*]{3,})\s*(?:#.*)?$/;
const PASSWORD_NAME = /PASSWORD|PASSWD|PASS|PWD|(^|_)SECRET(_|$)/i;
const PHP_DEFINE = /define\(\s*['"](\w*(?:PASSWORD|PASS)\w*)['"]\s*,\s*['"]([^'"$]{3,})['"]/i;
const SQL_IDENTIFIED = /IDENTIFIED\s+(?:WITH\s+\w+\s+)?BY\s+(?:PASSWORD\s+)?["']([^"'$]{3,})["']/i;

/**
 * `DB_PASS=***` (which variable, value masked) when the line writes a password literally, else
 * undefined. `strict` for files that are not Dockerfiles, compose or .env (see SHELL_ASSIGNMENT).
 */
export function passwordLeak(line: string, strict = false): string | undefined {
  if (strict) {
    const a = SHELL_ASSIGNMENT.exec(line);
    if (a && PASSWORD_NAME.test(a[1] ?? '') && !NAMES_A_PATH.test(a[1] ?? '') && !/^["']?(\/|\.{1,2}\/)/.test(a[2] ?? '')) return `${a[1]}=***`;
  } else {
    const m = passwordAssignment(line);
    if (m && !/^\/run\/secrets\/|^\.{0,2}\/|_FILE$|secrets\//.test(m.value) && !/_FILES?\s*[=:]/.test(line)) {
      const name = /(\w+)\s*[=:]\s*["']?$/.exec(line.slice(0, m.start))?.[1] ?? 'a password';
      if (!NAMES_A_PATH.test(name)) return `${name}=***`;
    }
  }
  // mysql -pSECRET, mariadb-admin --password=SECRET (a variable is no literal)
  const client = /\b(?:mysql|mariadb|mysqladmin|mariadb-admin|mysqldump|mariadb-dump)\b.*?[\s"',](?:-p(?![\s"'])|--password=)["']?([^\s"'$`]{3,})/.exec(line);
  if (client) return `${/--password=/.test(line) ? '--password=' : '-p'}***`;
  const php = PHP_DEFINE.exec(line);
  if (php) return `define('${php[1]}', '***')`;
  if (SQL_IDENTIFIED.test(line)) return "IDENTIFIED BY '***'";
  return undefined;
}

function docs(p: Project): CheckResult[] {
  const out: CheckResult[] = [];
  const read = (f: string) => p.docs.get(f)?.text;
  const readme = read('README.md');
  if (readme === undefined) {
    out.push(fail('M14.readme', notRead(p, 'README.md') || 'no README.md'));
  } else {
    const first = readme.split('\n')[0]?.trim() ?? '';
    out.push(
      /^[*_]This project has been created as part of the 42 curriculum by [^*_]+\.[*_]$/.test(first)
        ? pass('M14.readme-first-line', first)
        : fail('M14.readme-first-line', 'the first line must be, in italics: This project has been created as part of the 42 curriculum by <login>.', first),
    );
    const headings = readme.split('\n').filter((l) => /^#{1,6}\s/.test(l)).map((l) => l.replace(/^#+\s*/, '').toLowerCase());
    const missing = ['description', 'instructions', 'resources'].filter((s) => !headings.some((h) => h.includes(s)));
    out.push(missing.length === 0 ? pass('M14.readme-sections', 'Description, Instructions, Resources') : fail('M14.readme-sections', `README.md lacks section(s): ${missing.join(', ')}`));
    const topics: [string, RegExp][] = [
      ['virtual machines vs Docker', /virtual machine|\bvms?\b/i],
      ['secrets vs environment variables', /secrets?[\s\S]{0,80}environment variables|environment variables[\s\S]{0,80}secrets?/i],
      ['Docker network vs host network', /host network|network_mode|docker network/i],
      ['Docker volumes vs bind mounts', /bind mount/i],
    ];
    const absent = topics.filter(([, re]) => !re.test(readme)).map(([t]) => t);
    out.push(absent.length === 0 ? pass('M14.readme-comparisons', 'compares VMs/Docker, secrets/env, networks, volumes/bind mounts') : fail('M14.readme-comparisons', `README.md does not compare: ${absent.join('; ')}`));
  }
  const userDoc = read('USER_DOC.md');
  out.push(
    userDoc === undefined
      ? fail('M14.user-doc', notRead(p, 'USER_DOC.md') || 'no USER_DOC.md')
      : /start|stop/i.test(userDoc) && /credential|password/i.test(userDoc) && /admin|wp-admin/i.test(userDoc)
        ? pass('M14.user-doc', 'USER_DOC.md covers start/stop, admin panel, credentials')
        : fail('M14.user-doc', 'USER_DOC.md must cover start/stop, site and admin access, credentials, checking services'),
  );
  const devDoc = read('DEV_DOC.md');
  out.push(
    devDoc === undefined
      ? fail('M14.dev-doc', notRead(p, 'DEV_DOC.md') || 'no DEV_DOC.md')
      : /volume/i.test(devDoc) && /build|make/i.test(devDoc) && /persist|data/i.test(devDoc)
        ? pass('M14.dev-doc', 'DEV_DOC.md covers set-up, build, containers/volumes, persistence')
        : fail('M14.dev-doc', 'DEV_DOC.md must cover set-up, build and launch, containers and volumes, where data persists'),
  );
  return out;
}

/** What each bonus image installs, when its name does not say it (a static site named custom_page). */
const BONUS_INSTALLS: Record<string, RegExp> = {
  B01: /(?<![\w-])redis(-server)?(?![\w-])/,
  B02: /(?<![\w-])(vsftpd|proftpd(-basic|-core)?|pure-ftpd)(?![\w-])/,
  B03: /(?<![\w-])(lighttpd|apache2|httpd|nginx|hugo|busybox-extras|darkhttpd|thttpd)(?![\w-])/,
  B04: /(?<![\w-])adminer(?![\w-])|adminer[\w.-]*\.php/,
};

function bonusServices(p: Project, bonus: string[]): CheckResult[] {
  if (bonus.length === 0) return [skip('B00.bonus', 'no bonus services in the compose file')];
  const out: CheckResult[] = [];
  const taken = new Set<string>();
  const installsOf = (svc: string) => {
    const df = p.dockerfiles.get(svc);
    // installed packages, and for Adminer a download of adminer…php
    return df ? `${installs(df)}\n${instructions(df.text).filter((i) => /^(RUN|ADD)\s/i.test(i) && /adminer[\w.-]*\.php/.test(i)).join('\n')}` : '';
  };
  // Every rule by name first, then the rest by what the images install (a web server, B03's sign,
  // is in many images: named services are claimed before it is looked at).
  const found = new Map<string, string>();
  for (const [rule, re] of Object.entries(BONUS_HINTS)) {
    const svc = bonus.find((b) => !taken.has(b) && re.test(b));
    if (svc) {
      found.set(rule, svc);
      taken.add(svc);
    }
  }
  for (const rule of Object.keys(BONUS_HINTS)) {
    if (found.has(rule)) continue;
    const svc = bonus.find((b) => !taken.has(b) && BONUS_INSTALLS[rule]?.test(installsOf(b)));
    if (svc) {
      found.set(rule, svc);
      taken.add(svc);
    }
  }
  for (const [rule, re] of Object.entries(BONUS_HINTS)) {
    const svc = found.get(rule);
    out.push(svc ? pass(`${rule}.service`, `bonus service ${svc}${re.test(svc) ? '' : ' (by what its image installs)'}`) : skip(`${rule}.service`, 'no such bonus service'));
  }
  const others = bonus.filter((b) => !taken.has(b));
  if (others.length === 0) out.push(skip('B05.service', "no service of the project's own choice"));
  else {
    // The subject asks for the extra service to be justified in the documentation.
    const docs = [...p.docs.values()].map((d) => d.text).join('\n');
    const unjustified = others.filter((o) => !new RegExp(`(^|[^\\w-])${o.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^\\w-]|$)`, 'i').test(docs));
    out.push(
      unjustified.length === 0
        ? pass('B05.service', `own service(s): ${others.join(', ')}, each named in the docs`)
        : fail('B05.service', `own service(s) ${unjustified.join(', ')} not explained in README.md, USER_DOC.md or DEV_DOC.md`, 'say in the docs what the service is for and why it is useful'),
    );
  }
  return out;
}

function grepLines(f: TextFile, re: RegExp): string[] {
  return linesOf(f).filter((l) => !/^\s*#/.test(l) && re.test(l));
}

const LINES = new WeakMap<TextFile, string[]>();

/** Split once per file: a dozen rules grep the same files. */
function linesOf(f: TextFile): string[] {
  let lines = LINES.get(f);
  if (!lines) {
    lines = f.text.split('\n');
    LINES.set(f, lines);
  }
  return lines;
}


/** Every file a grader greps: scripts and configs, Dockerfiles, the Makefile, the compose file. */
function textFiles(p: Project): TextFile[] {
  const all = [...p.files, ...p.dockerfiles.values(), ...(p.makefile ? [p.makefile] : []), ...(p.composeFile ? [p.composeFile] : [])];
  return [...new Map(all.map((f) => [f.path, f])).values()];
}

/**
 * The Makefile line that makes `dir` at the project root: a target `dir/…:` or a `mkdir` of it
 * (projects generate secrets/ and srcs/.env in make, and git-ignore them).
 */
function makeRuleFor(makefile: TextFile, dir: string): string | undefined {
  const lines = linesOf(makefile);
  const target = lines.find((l) => new RegExp(`^(\\$\\(\\w+\\)/)?${dir}/[^\\s:=]*\\s*:(?!=)`).test(l));
  if (target) return `target ${target.split(':')[0]?.trim()}`;
  // mkdir of the folder at the root (secrets, ./secrets, $(CURDIR)/secrets), not srcs/secrets
  const mkdir = lines.find((l) => !/^\s*#/.test(l) && new RegExp(`\\bmkdir\\b[^;&|]*\\s(\\./|\\$\\(CURDIR\\)/)?${dir}(/|\\s|$|;|&)`).test(l));
  return mkdir ? `\`${mkdir.trim().replace(/^@/, '')}\`` : undefined;
}

/** The Makefile (or a script it runs) writes srcs/.env: it names the file, not only the example. */
function makesEnvFile(p: Project): boolean {
  const texts = [p.makefile?.text ?? '', ...p.files.filter((f) => /\.(sh|bash)$/.test(f.path) && p.makefile?.text.includes(posix.basename(f.path))).map((f) => f.text)];
  return texts.some((t) => /(^|[\s/"'=(])\.env(?![\w.])/.test(t.replace(/\.env\.example/g, '')));
}


const ROLES = new WeakMap<Project, StaticRoles>();

/** Which service is the web server, WordPress and the database (see static-roles.ts); once per project. */
function rolesOf(p: Project): StaticRoles {
  let roles = ROLES.get(p);
  if (!roles) {
    roles = staticRoles(
      Object.entries(p.compose.services ?? {}).map(([name, svc]) => {
        const df = p.dockerfiles.get(name);
        return { name, installs: df ? installs(df) : '', image: svc.image ?? '' };
      }),
    );
    ROLES.set(p, roles);
  }
  return roles;
}

/** The services that play one of the three mandatory parts; every other one is a bonus service. */
function roleServices(p: Project): Set<string> {
  return new Set([...rolesOf(p).values()].map((r) => r.service));
}

/** The service playing `role`, or the role's own name when none does (its rules then fail or skip). */
function serviceFor(p: Project, role: Role): string {
  return rolesOf(p).get(role)?.service ?? role;
}

/** The folder a service is built from: its compose build context, else the subject's layout. */
function contextOf(p: Project, service: string): string {
  return p.contexts.get(service) ?? `srcs/requirements/${service}`;
}

function inContext(p: Project, service: string, path: string): boolean {
  const context = contextOf(p, service);
  return context === '.' || path.startsWith(`${context}/`);
}

/** The files read in a service's build context (srcs/nginx/, srcs/containers/web/ …). */
function serviceFiles(p: Project, service: string): TextFile[] {
  return p.files.filter((f) => inContext(p, service, f.path));
}

