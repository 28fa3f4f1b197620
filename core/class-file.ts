import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { LIBVIRT_DRIVERS, MAX_CPUS, MAX_MEMORY_MIB, MIN_MEMORY_MIB, NAME_SHAPE, parseInterfaceName, parseLibvirtUri, resolveConfig, type LibvirtDriverChoice, type RawConfig } from './config.js';
import { ConfigError, NotFoundError, shorten } from './errors.js';
import { expandAddresses } from './ip-range.js';
import { checkProjectLayout } from './project-layout.js';
import { parseRoster, type Student } from './roster.js';

// A class (issue 18): the libvirt hosts its labs run on, the settings every lab shares, and the
// roster of students, one lab each. The file is YAML written by a teacher; it is read as untrusted
// input, like lab.json: every field is checked here, with the rules `labctl create` applies to the
// same setting, and an error names the field as a path (`hosts[1].uri`) with its line in the file.

export type { Student } from './roster.js';

export interface ClassHost {
  /** [a-z][a-z0-9-]*, unique in the class. */
  name: string;
  /** libvirt URI: qemu:///system (this machine) or qemu+ssh://user@host[:port]/system. */
  uri: string;
  /** Labs this host runs; undefined = derived from the host's RAM and CPUs (core/class-plan.ts). */
  capacity: number | undefined;
  /** The host's lab addresses, expanded in the order written; each lab on the host gets one. */
  addresses: string[];
  /** The host interface the labs are bridged onto (students reach them on that network). */
  bridge: string | undefined;
}

export interface ClassSettings {
  box?: string;
  /** Absolute, resolved against the class file's folder. */
  project?: string;
  bonus: boolean;
  aptProxy?: string;
  memoryMiB?: number;
  cpus?: number;
  libvirtDriver?: LibvirtDriverChoice;
}

export interface ClassSpec {
  /** Absolute. */
  file: string;
  name: string;
  hosts: ClassHost[];
  settings: ClassSettings;
  /** Absolute. */
  rosterFile: string;
  roster: Student[];
}

/** A class file is a page of YAML; megabytes of it are a mistake (or an attack on the parser). */
export const MAX_CLASS_FILE_BYTES = 256 * 1024;
/** MAX_STUDENTS lines of login, name and e-mail fit well within this. */
export const MAX_ROSTER_BYTES = 1024 * 1024;
export const MAX_HOSTS = 64;
export const MAX_CAPACITY = 256;

const hostSchema = z.strictObject({
  name: z.string(),
  uri: z.string(),
  capacity: z.number().int().min(0).max(MAX_CAPACITY).optional(),
  addresses: z.union([z.string(), z.array(z.string())]),
  bridge: z.string().optional(),
});

const settingsSchema = z.strictObject({
  box: z.string().optional(),
  project: z.string().optional(),
  bonus: z.boolean().optional(),
  apt_proxy: z.string().optional(),
  memory: z.number().int().min(MIN_MEMORY_MIB).max(MAX_MEMORY_MIB).optional(),
  cpus: z.number().int().min(1).max(MAX_CPUS).optional(),
  libvirt_driver: z.enum(LIBVIRT_DRIVERS).optional(),
});

const classSchema = z.strictObject({
  name: z.string(),
  roster: z.string(),
  settings: settingsSchema.optional(),
  hosts: z.array(hostSchema).min(1).max(MAX_HOSTS),
});

/** What each key holds, for the fix of an error about it (keyed by the key's own name). */
const FIELD_HINTS: Record<string, string> = {
  name: 'use 1–32 lowercase letters, digits or \'-\', starting with a letter, e.g. name: inception-2026',
  roster: 'give the CSV file of the students (login[,name,email]), relative to the class file, e.g. roster: roster.csv',
  settings: 'settings is a mapping: box, project, bonus, apt_proxy, memory, cpus, libvirt_driver (all optional)',
  hosts: `list the hosts (1 to ${MAX_HOSTS}), each with name, uri and addresses (docs/examples/class.yaml shows one)`,
  uri: 'e.g. qemu+ssh://labctl@lab-a.example/system, or qemu:///system for this machine',
  capacity: `give the number of labs this host runs (0 to ${MAX_CAPACITY}), or leave it out to derive it from the host's RAM and CPUs`,
  addresses: 'e.g. 192.168.50.10-192.168.50.40, a list of addresses, or 192.168.50.0/24',
  bridge: 'give the host interface the labs join, as `ip link` shows it on that host, e.g. eno1',
  box: 'a Vagrant box name, e.g. labctl/trixie-baked',
  project: 'the folder of the Inception project every lab runs (Makefile and srcs/), relative to the class file',
  bonus: 'write true or false',
  apt_proxy: 'an http:// URL such as http://192.168.50.2:3142',
  memory: `MiB per lab, a whole number from ${MIN_MEMORY_MIB} to ${MAX_MEMORY_MIB}, e.g. memory: 2048`,
  cpus: `CPUs per lab, a whole number from 1 to ${MAX_CPUS}, e.g. cpus: 2`,
  libvirt_driver: `one of ${LIBVIRT_DRIVERS.join(', ')}`,
};

const KNOWN_KEYS: Record<'top' | 'settings' | 'host', readonly string[]> = {
  top: Object.keys(classSchema.shape),
  settings: Object.keys(settingsSchema.shape),
  host: Object.keys(hostSchema.shape),
};

/** Reads a class file and its roster, both checked; a ConfigError naming the field or the roster line otherwise. */
export async function loadClass(file: string): Promise<ClassSpec> {
  const path = resolve(file);
  const text = await readBounded(path, MAX_CLASS_FILE_BYTES, 'class file', () => new NotFoundError(`class file ${path} does not exist`, { hint: 'give the path of the class YAML file (docs/examples/class.yaml shows one)' }));
  const parsed = parseClassText(text, path);
  const settings = { ...parsed.settings };
  if (settings.project !== undefined) settings.project = await classProject(settings.project, dirname(path));
  const rosterFile = resolve(dirname(path), parsed.roster);
  const rosterText = await readBounded(rosterFile, MAX_ROSTER_BYTES, 'roster', () => new ConfigError('roster', `${rosterFile} does not exist`, FIELD_HINTS.roster ?? ''));
  return { file: path, name: parsed.name, hosts: parsed.hosts, settings, rosterFile, roster: parseRoster(rosterText, rosterFile) };
}

/** The class file's text checked (no roster, no file system); `file` names it in errors. */
export function parseClassText(text: string, file: string): { name: string; roster: string; hosts: ClassHost[]; settings: ClassSettings } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  const at = (path: readonly (string | number)[]) => locate(doc, lines, path, basename(file));
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0]?.line;
    throw new ConfigError(basename(file), `is not valid YAML${line === undefined ? '' : ` at line ${line}`}: ${yamlError.message.split(' at line')[0]}`, 'check the indentation and the quotes on that line (docs/examples/class.yaml shows the format)');
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) throw new ConfigError(basename(file), 'is empty', 'write the class: name, roster, settings and hosts (docs/examples/class.yaml shows one)');
  const result = classSchema.safeParse(data);
  if (!result.success) throw schemaError(result.error.issues, data, at);
  const raw = result.data;

  if (!NAME_SHAPE.test(raw.name)) throw new ConfigError('name', `"${shorten(raw.name)}" is not a class name${at(['name'])}`, FIELD_HINTS.name ?? '');
  if (raw.roster.trim() === '') throw new ConfigError('roster', `is empty${at(['roster'])}`, FIELD_HINTS.roster ?? '');
  const hosts = raw.hosts.map((h, i) => checkHost(h, i, at));
  rejectSharedHosts(hosts, at);
  return { name: raw.name, roster: raw.roster, hosts, settings: checkSettings(raw.settings ?? {}, at) };
}

type Locate = (path: readonly (string | number)[]) => string;

function checkHost(h: z.infer<typeof hostSchema>, i: number, at: Locate): ClassHost {
  const field = (key: string) => `hosts[${i}].${key}`;
  if (!NAME_SHAPE.test(h.name)) throw new ConfigError(field('name'), `"${shorten(h.name)}" is not a host name${at(['hosts', i, 'name'])}`, 'use 1–32 lowercase letters, digits or \'-\', starting with a letter, e.g. name: lab-a');
  const uri = renamed(field('uri'), at(['hosts', i, 'uri']), () => parseLibvirtUri(h.uri.trim()));
  const bridge = h.bridge === undefined ? undefined : renamed(field('bridge'), at(['hosts', i, 'bridge']), () => parseInterfaceName(h.bridge?.trim() ?? '', 'bridge'), FIELD_HINTS.bridge);
  const addresses = renamed(field('addresses'), at(['hosts', i, 'addresses']), () => expandAddresses(h.addresses, field('addresses')));
  return { name: h.name, uri, capacity: h.capacity, addresses, bridge };
}

/** Two entries for one host, or one address on two hosts, would put two labs in one place. */
function rejectSharedHosts(hosts: readonly ClassHost[], at: Locate): void {
  const names = new Map<string, number>();
  const uris = new Map<string, number>();
  const owner = new Map<string, number>();
  hosts.forEach((h, i) => {
    const sameName = names.get(h.name);
    if (sameName !== undefined) throw new ConfigError(`hosts[${i}].name`, `"${h.name}" is also the name of hosts[${sameName}]${at(['hosts', i, 'name'])}`, 'give each host its own name');
    const sameUri = uris.get(h.uri);
    if (sameUri !== undefined) throw new ConfigError(`hosts[${i}].uri`, `${h.uri} is also the URI of hosts[${sameUri}]${at(['hosts', i, 'uri'])}`, 'list each host once, with all its addresses');
    names.set(h.name, i);
    uris.set(h.uri, i);
    for (const ip of h.addresses) {
      const other = owner.get(ip);
      if (other !== undefined) throw new ConfigError(`hosts[${i}].addresses`, `${ip} is also an address of hosts[${other}] (${hosts[other]?.name ?? ''})${at(['hosts', i, 'addresses'])}`, 'give each host its own addresses: two labs cannot share one');
      owner.set(ip, i);
    }
  });
}

/**
 * The shared settings, held to `labctl create`'s own rules: they are handed to resolveConfig with a
 * stand-in login, and its error is given back under the class file's name for the field.
 */
function checkSettings(s: z.infer<typeof settingsSchema>, at: Locate): ClassSettings {
  const raw: RawConfig = { login: 'student', provider: 'libvirt', box: s.box, memory: s.memory, cpus: s.cpus, apt_proxy: s.apt_proxy, libvirt_driver: s.libvirt_driver, bonus: s.bonus };
  let resolved: ReturnType<typeof resolveConfig>;
  try {
    resolved = resolveConfig(raw, { usableProvider: 'libvirt', hardwareVirtualization: false });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(`settings.${error.field}`, `${problemOf(error)}${at(['settings', error.field])}`, error.hint ?? FIELD_HINTS[error.field] ?? '');
  }
  if (s.project !== undefined && s.project.trim() === '') throw new ConfigError('settings.project', `is empty${at(['settings', 'project'])}`, FIELD_HINTS.project ?? '');
  return {
    ...(s.box === undefined ? {} : { box: resolved.box }),
    ...(s.project === undefined ? {} : { project: s.project }),
    bonus: resolved.bonus,
    ...(resolved.apt_proxy === undefined ? {} : { aptProxy: resolved.apt_proxy }),
    ...(s.memory === undefined ? {} : { memoryMiB: resolved.memory }),
    ...(s.cpus === undefined ? {} : { cpus: resolved.cpus }),
    ...(s.libvirt_driver === undefined ? {} : { libvirtDriver: s.libvirt_driver }),
  };
}

async function classProject(project: string, classDir: string): Promise<string> {
  try {
    return (await checkProjectLayout(isAbsolute(project) ? project : resolve(classDir, project), classDir)).root;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError('settings.project', problemOf(error), `${FIELD_HINTS.project ?? ''}; ${error.hint ?? ''}`);
  }
}

/** The text of a file that must be a regular file of at most `max` bytes. */
async function readBounded(path: string, max: number, what: string, missing: () => Error): Promise<string> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw missing();
    throw error;
  });
  const field = what === 'roster' ? 'roster' : basename(path);
  if (!info.isFile()) throw new ConfigError(field, `${path} is not a file`, `give the path of the ${what} itself`);
  if (info.size > max) throw new ConfigError(field, `${path} is ${info.size} bytes, more than a ${what} holds (${max})`, `check that it is the ${what} you meant`);
  return readFile(path, 'utf8');
}

/**
 * Runs fn; a ConfigError it throws is given back under `field` (unless it names a part of it, such
 * as `addresses[2]`), with the line in the file, and `hint` instead of its own when given.
 */
function renamed<T>(field: string, where: string, fn: () => T, hint?: string): T {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(error.field.startsWith(field) ? error.field : field, `${problemOf(error)}${where}`, hint ?? error.hint ?? '');
  }
}

function problemOf(error: ConfigError): string {
  return error.message.slice(error.field.length + 2);
}

/** ` (class.yaml:9)`: where the value at `path` (or the nearest mapping that holds it) is written. */
function locate(doc: Document, lines: LineCounter, path: readonly (string | number)[], name: string): string {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return ` (${name}:${lines.linePos(range[0]).line})`;
  }
  return '';
}

type Issue = z.core.$ZodIssue;

/** The first problem in the file's order, in the class file's words. */
function schemaError(issues: readonly Issue[], data: unknown, at: Locate): ConfigError {
  const located = issues.map((issue) => {
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
    const where = at(path.filter((p): p is string | number => typeof p !== 'symbol'));
    return { issue, path, where, line: Number(/:(\d+)\)$/.exec(where)?.[1] ?? 0) };
  });
  // A misspelt key is the likely cause of a missing one: unknown keys first, then the file's order.
  const rank = (i: Issue) => (i.code === 'unrecognized_keys' ? 0 : 1);
  located.sort((a, b) => rank(a.issue) - rank(b.issue) || a.line - b.line);
  const { issue, path, where } = located[0] ?? { issue: issues[0], path: [], where: '' };
  const field = fieldName(path);
  const key = String(path.filter((p) => typeof p === 'string').at(-1) ?? '');
  if (issue?.code === 'unrecognized_keys') {
    const level = path.length === 1 ? 'top' : path[0] === 'settings' ? 'settings' : 'host';
    return new ConfigError(field, `is not a key labctl knows${where}`, `the keys here are ${KNOWN_KEYS[level].join(', ')}`);
  }
  const value = valueAt(data, path);
  const hint = FIELD_HINTS[key] ?? 'docs/examples/class.yaml shows the format';
  if (value === undefined) return new ConfigError(field || 'class file', `is missing${where}`, hint);
  if (issue?.code === 'invalid_type') return new ConfigError(field || 'class file', `is ${kindOf(value)}, not ${EXPECTED[issue.expected] ?? issue.expected}${where}`, hint);
  if (issue?.code === 'too_small' || issue?.code === 'too_big') {
    const what = Array.isArray(value) ? `has ${value.length} entries` : `${shorten(String(value))} is ${issue.code === 'too_small' ? 'too small' : 'too large'}`;
    return new ConfigError(field, `${what}${where}`, hint);
  }
  if (issue?.code === 'invalid_value') return new ConfigError(field, `"${shorten(String(value))}" is not one of ${issue.values.join(', ')}${where}`, hint);
  if (issue?.code === 'invalid_union') return new ConfigError(field, `is ${kindOf(value)}, not text or a list of text${where}`, hint);
  return new ConfigError(field || 'class file', `${issue?.message ?? 'is invalid'}${where}`, hint);
}

const EXPECTED: Record<string, string> = { string: 'text', number: 'a number', int: 'a whole number', boolean: 'true or false', array: 'a list', object: 'a mapping (key: value lines)' };

function kindOf(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `text ("${shorten(value, 30)}")`;
  if (typeof value === 'number') return Number.isInteger(value) ? `the number ${value}` : `the number ${value} (not whole)`;
  return `${typeof value} ${String(value)}`;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const p of path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[p] : undefined;
  return value;
}

/** ['hosts', 1, 'uri'] → `hosts[1].uri`. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>((name, p) => (typeof p === 'number' ? `${name}[${p}]` : name === '' ? String(p) : `${name}.${String(p)}`), '');
}

