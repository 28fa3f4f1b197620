import { isIP } from 'node:net';
import { ConfigError, shorten } from './errors.js';

// Pure configuration logic: no I/O here. Precedence is flags > LABCTL_* environment > .env file in
// the working directory > defaults; the caller reads the environment and the .env file.

export const PROVIDERS = ['virtualbox', 'libvirt'] as const;
export type Provider = (typeof PROVIDERS)[number];
export const LIBVIRT_DRIVERS = ['auto', 'kvm', 'qemu'] as const;
export type LibvirtDriverChoice = (typeof LIBVIRT_DRIVERS)[number];
export type LibvirtDriver = Exclude<LibvirtDriverChoice, 'auto'>;
export const BASE_IMAGE_MODES = ['auto', 'pull', 'local', 'host'] as const;
export type BaseImageMode = (typeof BASE_IMAGE_MODES)[number];
export const DOCKER_SOURCES = ['debian', 'docker'] as const;
export type DockerSource = (typeof DOCKER_SOURCES)[number];

/** The resolved, validated configuration of one lab; stored as lab.json. */
export interface LabConfig {
  name: string;
  login: string;
  /** `<login>.42.fr`, derived. */
  domain: string;
  provider: Provider;
  ip: string;
  memory: number;
  cpus: number;
  box: string;
  box_version: string | undefined;
  apt_mirror: string | undefined;
  apt_proxy: string | undefined;
  libvirt_driver: LibvirtDriver;
  bonus: boolean;
  base_image: BaseImageMode;
  docker_source: DockerSource;
  /**
   * The student's own Inception project (absolute path) that the lab runs; absent for labctl's
   * built-in compose/. Resolved against the working directory and its layout checked by the use case.
   */
  project?: string | undefined;
  /** With a project: the host file labctl pushes as its srcs/.env (0600); absolute. */
  env_file?: string | undefined;
  /** With a project: the host folder whose files labctl pushes into its secrets/ (0600); absolute. */
  secrets_dir?: string | undefined;
  /**
   * libvirt only: the libvirt daemon that runs the VM, when it is not this machine's (class mode:
   * `qemu+ssh://user@host/system`); vagrant-libvirt then reaches the guest through that host.
   */
  libvirt_uri?: string | undefined;
  /**
   * libvirt only: the interface of the VM's host whose network the VM joins (macvtap, bridge mode) at
   * `ip`, instead of a host-only network, so that machines on that network reach the lab.
   */
  bridge?: string | undefined;
}

/** Raw string-or-value input for each field, as it comes from flags, env or .env. */
export type RawConfig = Partial<Record<ConfigField, string | number | boolean | undefined>>;

export const CONFIG_FIELDS = [
  'name',
  'login',
  'provider',
  'ip',
  'memory',
  'cpus',
  'box',
  'box_version',
  'apt_mirror',
  'apt_proxy',
  'libvirt_driver',
  'bonus',
  'base_image',
  'docker_source',
  'project',
  'env_file',
  'secrets_dir',
  'libvirt_uri',
  'bridge',
] as const;
export type ConfigField = (typeof CONFIG_FIELDS)[number];

/** The lab a command means when it is given no name and there is not exactly one lab. */
export const DEFAULT_LAB_NAME = 'inception';

/** The one place the lab's domain is derived from the login (subject L02). */
export function domainFor(login: string): string {
  return `${login}.42.fr`;
}

/** The site's address as users type it. */
export function labUrl(config: Pick<LabConfig, 'domain'>): string {
  return `https://${config.domain}`;
}

export const DEFAULTS = {
  name: DEFAULT_LAB_NAME,
  ip: '192.168.56.10',
  memory: 2048,
  cpus: 2,
  // Debian 13 (trixie): the guest OS the provisioning steps are written for.
  box: 'debian/trixie64',
  libvirt_driver: 'auto',
  bonus: false,
  base_image: 'auto',
  docker_source: 'debian',
} as const;

export const MIN_MEMORY_MIB = 1024;
export const MAX_MEMORY_MIB = 262_144;
export const MAX_CPUS = 64;

/** Facts about the host that defaults depend on; gathered by the caller (doctor's probes). */
export interface HostFacts {
  /** The provider doctor finds usable, VirtualBox first; undefined when neither is. */
  usableProvider: Provider | undefined;
  /** True when the CPU has vmx/svm and /dev/kvm can be opened. */
  hardwareVirtualization: boolean;
  /** The providers for which `labctl box build --bake` added BAKED_BOX to Vagrant's store. */
  bakedBoxProviders?: readonly Provider[];
}

/**
 * What `labctl box build --bake` makes: Docker, Compose and the base image already inside. When it
 * is in Vagrant's store it is the default box, since provisioning then skips minutes of installs.
 */
export const BAKED_BOX = 'labctl/trixie-baked';

export interface ConfigSources {
  flags: RawConfig;
  env: NodeJS.ProcessEnv | Record<string, string | undefined>;
  dotenv: Record<string, string>;
}

/** `LABCTL_BOX_VERSION` for `box_version`. */
export function envName(field: ConfigField): string {
  return `LABCTL_${field.toUpperCase()}`;
}

/** Picks each field from the first source that sets it: flags, then environment, then .env. */
export function mergeSources(sources: ConfigSources): RawConfig {
  const raw: RawConfig = {};
  for (const field of CONFIG_FIELDS) {
    const fromFlag = sources.flags[field];
    const fromEnv = sources.env[envName(field)];
    const fromDotenv = sources.dotenv[envName(field)];
    const value = [fromFlag, fromEnv, fromDotenv].find((v) => v !== undefined && v !== '');
    if (value !== undefined) raw[field] = value;
  }
  return raw;
}

/**
 * No setting may hold a control character: values end up in apt sources, the Vagrantfile and
 * shell-free argv, where a line break would smuggle in a second line (`Trusted: yes`).
 */
export function rejectControlCharacters(raw: RawConfig): void {
  for (const field of CONFIG_FIELDS) {
    const value = raw[field];
    if (typeof value === 'string') assertNoControlCharacter(value, field, `${envName(field)} / --${field.replaceAll('_', '-')}`);
  }
}

/** `where` names how the user set the value (a flag, a variable), for the fix. */
function assertNoControlCharacter(value: string, field: string, where: string): void {
  const at = value.search(CONTROL_CHARACTER);
  if (at < 0) return;
  const code = value.charCodeAt(at).toString(16).padStart(2, '0');
  throw new ConfigError(field, `contains a control character (0x${code} at position ${at + 1})`, `remove line breaks, tabs and other control characters from ${where}`);
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

export function resolveConfig(raw: RawConfig, host: HostFacts): LabConfig {
  rejectControlCharacters(raw);
  const name = validateName(str(raw.name) ?? DEFAULTS.name, 'name');
  const loginRaw = str(raw.login);
  if (loginRaw === undefined) {
    throw new ConfigError('login', 'is required', 'pass --login <your 42 login> or set LABCTL_LOGIN');
  }
  const login = validateName(loginRaw, 'login');
  const provider = parseProvider(raw.provider, host);
  const ip = validateIp(str(raw.ip) ?? DEFAULTS.ip, provider);
  const memory = parseInteger(raw.memory, 'memory', DEFAULTS.memory, MIN_MEMORY_MIB, MAX_MEMORY_MIB, 'MiB, e.g. --memory 2048');
  const cpus = parseInteger(raw.cpus, 'cpus', DEFAULTS.cpus, 1, MAX_CPUS, 'e.g. --cpus 2');
  const box = str(raw.box) ?? (host.bakedBoxProviders?.includes(provider) ? BAKED_BOX : DEFAULTS.box);
  if (!/^[A-Za-z0-9._/-]+$/.test(box)) {
    throw new ConfigError('box', `"${box}" is not a Vagrant box name`, 'use a name like debian/trixie64 (see `vagrant box list`)');
  }
  const boxVersion = str(raw.box_version);
  if (boxVersion !== undefined && !/^[0-9A-Za-z.<>=~, -]+$/.test(boxVersion)) {
    throw new ConfigError('box_version', `"${boxVersion}" is not a version constraint`, 'use e.g. --box-version 13.1.0 or ">= 13"');
  }
  return {
    name,
    login,
    domain: domainFor(login),
    provider,
    ip,
    memory,
    cpus,
    box,
    box_version: boxVersion,
    apt_mirror: optionalUrl(raw.apt_mirror, 'apt_mirror'),
    apt_proxy: optionalUrl(raw.apt_proxy, 'apt_proxy'),
    libvirt_driver: resolveDriver(oneOf(raw.libvirt_driver, 'libvirt_driver', LIBVIRT_DRIVERS, DEFAULTS.libvirt_driver), host),
    bonus: parseBoolean(raw.bonus, 'bonus', DEFAULTS.bonus),
    base_image: oneOf(raw.base_image, 'base_image', BASE_IMAGE_MODES, DEFAULTS.base_image),
    docker_source: oneOf(raw.docker_source, 'docker_source', DOCKER_SOURCES, DEFAULTS.docker_source),
    ...(str(raw.project) === undefined ? {} : { project: str(raw.project) }),
    ...(str(raw.env_file) === undefined ? {} : { env_file: str(raw.env_file) }),
    ...(str(raw.secrets_dir) === undefined ? {} : { secrets_dir: str(raw.secrets_dir) }),
    ...libvirtPlacement(raw, provider),
  };
}

/** Where a libvirt lab's VM runs and which network it joins (class mode); empty for a local host-only lab. */
function libvirtPlacement(raw: RawConfig, provider: Provider): Pick<LabConfig, 'libvirt_uri' | 'bridge'> {
  const uri = str(raw.libvirt_uri);
  const bridge = str(raw.bridge);
  for (const [field, value] of [['libvirt_uri', uri], ['bridge', bridge]] as const) {
    if (value !== undefined && provider !== 'libvirt') {
      throw new ConfigError(field, `is a libvirt setting, but the provider is ${provider}`, `add --provider libvirt, or drop --${field.replaceAll('_', '-')}`);
    }
  }
  return {
    ...(uri === undefined ? {} : { libvirt_uri: parseLibvirtUri(uri) }),
    ...(bridge === undefined ? {} : { bridge: parseInterfaceName(bridge, 'bridge') }),
  };
}

/**
 * A libvirt URI for the system daemon, local or over SSH (qemu+ssh://user@host[:port]/system, with
 * libvirt's own keyfile/no_verify/known_hosts parameters): the only kinds vagrant-libvirt can reach a
 * guest through. Returned as given, so that lab.json keeps the user's spelling.
 */
export function parseLibvirtUri(s: string): string {
  const example = 'e.g. qemu+ssh://root@host1.example/system, or qemu:///system for this machine';
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new ConfigError('libvirt_uri', `"${shorten(s)}" is not a URI`, `give a libvirt URI, ${example}`);
  }
  if (url.protocol !== 'qemu:' && url.protocol !== 'qemu+ssh:') {
    throw new ConfigError('libvirt_uri', `"${shorten(s)}" is not a qemu:// or qemu+ssh:// URI`, `labctl drives libvirt's QEMU driver, locally or over SSH: ${example}`);
  }
  if (url.pathname !== '/system') {
    throw new ConfigError('libvirt_uri', `"${shorten(s)}" does not name the system daemon (/system)`, `end the URI with /system, ${example}`);
  }
  if (url.protocol === 'qemu+ssh:' && url.hostname === '') {
    throw new ConfigError('libvirt_uri', `"${shorten(s)}" names no host`, `put the host after //, ${example}`);
  }
  if (/['"\\\s]/.test(s)) {
    throw new ConfigError('libvirt_uri', `"${shorten(s)}" contains quotes, backslashes or spaces`, 'write the URI without them (percent-encode a path that needs them)');
  }
  return s;
}

/** A network interface name as Linux allows it (at most 15 characters, no slash or space). */
export function parseInterfaceName(s: string, field: ConfigField): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$/.test(s)) {
    throw new ConfigError(field, `"${shorten(s)}" is not a network interface name`, 'give the host interface as `ip link` shows it, e.g. --bridge eno1');
  }
  return s;
}

/** Directories of $LABCTL_HOME that are not labs. */
export const RESERVED_LAB_NAMES: readonly string[] = ['boxes'];

/**
 * Accounts that exist on a Debian guest (or that the lab itself creates): a login equal to one of
 * them would make provisioning take over that account (`root`) or clash with the lab's own users.
 */
export const RESERVED_LOGINS: readonly string[] = [
  'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data', 'backup', 'list', 'irc', 'gnats', 'nobody',
  'systemd-network', 'systemd-resolve', 'systemd-timesync', 'messagebus', 'sshd', 'polkitd', 'vagrant', 'docker', 'mysql', 'nginx', 'admin', 'administrator', 'localhost',
];

/** 1–32 of a-z0-9-, a letter first, no '-' last: a DNS label and a Linux user name. */
export const NAME_SHAPE = /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/**
 * Lab names and logins share the 42 login shape: they become DNS labels (`<login>.42.fr`, the
 * VM's host name) and Linux user names, so they start with a letter and do not end with '-'.
 */
export function validateName(value: string, field: 'name' | 'login'): string {
  if (!NAME_SHAPE.test(value)) {
    throw new ConfigError(
      field,
      `"${shorten(value)}" is not valid`,
      `use 1–32 lowercase letters, digits or '-', starting with a letter and not ending with '-' (e.g. --${field} ${field === 'login' ? 'jdoe' : 'inception'})`,
    );
  }
  if (field === 'name' && RESERVED_LAB_NAMES.includes(value)) {
    throw new ConfigError('name', `"${value}" is reserved by labctl`, 'choose another lab name');
  }
  if (field === 'login' && RESERVED_LOGINS.includes(value)) {
    throw new ConfigError('login', `"${value}" is a system account in the VM`, 'use your own 42 login (e.g. --login jdoe)');
  }
  return value;
}

export function resolveDriver(choice: LibvirtDriverChoice, host: HostFacts): LibvirtDriver {
  if (choice !== 'auto') return choice;
  return host.hardwareVirtualization ? 'kvm' : 'qemu';
}

function parseProvider(value: RawConfig['provider'], host: HostFacts): Provider {
  if (value === undefined) {
    if (host.usableProvider === undefined) {
      throw new ConfigError(
        'provider',
        'neither VirtualBox nor vagrant-libvirt is usable on this machine',
        'install one (see `labctl doctor`) or pass --provider virtualbox|libvirt',
      );
    }
    return host.usableProvider;
  }
  return oneOf(value, 'provider', PROVIDERS, PROVIDERS[0]);
}

// VirtualBox ≥ 6.1.28 refuses host-only addresses outside 192.168.56.0/21 unless
// /etc/vbox/networks.conf lists them.
const VBOX_DEFAULT_RANGE = { base: ipToInt('192.168.56.0'), bits: 21 };
const PRIVATE_RANGES = [
  { base: ipToInt('10.0.0.0'), bits: 8 },
  { base: ipToInt('172.16.0.0'), bits: 12 },
  { base: ipToInt('192.168.0.0'), bits: 16 },
];

export function validateIp(value: string, provider: Provider): string {
  if (isIP(value) !== 4 || !/^\d+\.\d+\.\d+\.\d+$/.test(value) || value.split('.').some((o) => o.length > 1 && o.startsWith('0'))) {
    throw new ConfigError('ip', `"${value}" is not an IPv4 address`, 'use a dotted quad such as --ip 192.168.56.10');
  }
  const n = ipToInt(value);
  if (!PRIVATE_RANGES.some((r) => inRange(n, r))) {
    throw new ConfigError('ip', `${value} is not a private address`, 'a host-only network needs a private address, e.g. --ip 192.168.56.10');
  }
  const last = n & 0xff;
  if (last === 0 || last === 1 || last === 255) {
    throw new ConfigError(
      'ip',
      `${value} is reserved (.0 is the network, .1 the host's own address on the host-only network, .255 broadcast)`,
      'pick a host address from .2 to .254, e.g. --ip 192.168.56.10',
    );
  }
  if (provider === 'virtualbox' && !inRange(n, VBOX_DEFAULT_RANGE)) {
    throw new ConfigError(
      'ip',
      `${value} is outside 192.168.56.0/21, the only host-only range VirtualBox allows by default`,
      `use an address in 192.168.56.2–192.168.63.254, or allow it in /etc/vbox/networks.conf (a line "* ${value.split('.').slice(0, 3).join('.')}.0/24")`,
    );
  }
  return value;
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0) >>> 0;
}

function inRange(n: number, range: { base: number; bits: number }): boolean {
  const mask = range.bits === 0 ? 0 : (0xffffffff << (32 - range.bits)) >>> 0;
  return ((n & mask) >>> 0) === ((range.base & mask) >>> 0);
}

function str(value: string | number | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  const s = String(value).trim();
  return s === '' ? undefined : s;
}

function parseInteger(
  value: string | number | boolean | undefined,
  field: ConfigField,
  fallback: number,
  min: number,
  max: number,
  example: string,
): number {
  const s = str(value);
  if (s === undefined) return fallback;
  if (!/^\d+$/.test(s)) throw new ConfigError(field, `"${s}" is not a whole number`, `give a number from ${min} to ${max} (${example})`);
  const n = Number(s);
  if (n < min || n > max) throw new ConfigError(field, `${n} is out of range`, `give a number from ${min} to ${max} (${example})`);
  return n;
}

function parseBoolean(value: string | number | boolean | undefined, field: ConfigField, fallback: boolean): boolean {
  if (typeof value === 'boolean') return value;
  const s = str(value)?.toLowerCase();
  if (s === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  throw new ConfigError(field, `"${s}" is not a boolean`, 'use true or false');
}

function oneOf<T extends string>(value: string | number | boolean | undefined, field: ConfigField, allowed: readonly T[], fallback: T): T {
  const s = str(value);
  if (s === undefined) return fallback;
  if ((allowed as readonly string[]).includes(s)) return s as T;
  throw new ConfigError(field, `"${s}" is not one of ${allowed.join(', ')}`, `use --${field.replaceAll('_', '-')} ${allowed.join('|')}`);
}

function optionalUrl(value: string | number | boolean | undefined, field: ConfigField): string | undefined {
  const s = str(value);
  return s === undefined ? undefined : parseHttpUrl(s, field);
}

/**
 * A plain http(s) URL (no credentials, query or fragment), returned as the parser understood it,
 * so that what was validated is exactly what is used. Shared by the lab settings and `box build`.
 */
export function parseHttpUrl(s: string, field: string, where = `--${field.replaceAll('_', '-')}`): string {
  assertNoControlCharacter(s, field, where);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new ConfigError(field, `"${shorten(s)}" is not a URL`, 'give an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(field, `"${shorten(s)}" is not an http(s) URL`, 'give an http:// or https:// URL');
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(field, `"${shorten(s)}" has credentials, a query or a fragment`, 'give a plain URL such as http://host:3142 or http://mirror/debian');
  }
  return url.href;
}

/** A lab runs a student's own project (--project) rather than labctl's built-in compose/. */
export function runsOwnProject(config: Pick<LabConfig, 'project'>): boolean {
  return config.project !== undefined;
}
