import { existsSync } from 'node:fs';
import { chmod, link, lstat, mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type LabConfig } from '../../core/config.js';
import { ExitCode } from '../../core/errors.js';
import { addBlock } from '../../core/hosts-file.js';
import { renderVagrantfile } from '../../core/vagrantfile.js';
import { writeLab } from '../../core/state.js';
import { labctl } from '../helpers/cli.js';
import { writeFakeTools } from '../helpers/fake-tools.js';
import { tempDir } from '../helpers/temp.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';

// Issue 13's table: one row = argv, environment and files before → exit code, message, files
// after. Every row runs the built binary in a sandbox of its own (LABCTL_HOME, the hosts file, the
// working directory and an "outside" folder that nothing may touch). Rows that need a hypervisor
// put fake vagrant/VBoxManage/virsh/sudo first on PATH (test/helpers/fake-tools.ts says why);
// everything else is real: the file system, the lock, the hosts writer, the parsers.

interface Ctx {
  root: string;
  home: string;
  hosts: string;
  cwd: string;
  outside: string;
  log: string;
  env: Record<string, string>;
}

interface Row {
  /** The defect number (or a label for the newcomer path). */
  defect: string;
  label: string;
  argv: (ctx: Ctx) => string[];
  env?: Record<string, string>;
  /** Use the fake hypervisor tools. */
  fakes?: boolean;
  setup?: (ctx: Ctx) => Promise<void>;
  exit: number;
  stderr?: RegExp;
  stdout?: RegExp;
  /** Without `after`, the whole sandbox must be byte-for-byte as it was (lab logs aside). */
  after?: (ctx: Ctx, r: { stdout: string; stderr: string }) => Promise<void>;
}

const HOSTS = '127.0.0.1 localhost\n192.168.1.5 nas.local\n';
const host = { usableProvider: 'libvirt' as const, hardwareVirtualization: false };
const config = (over: Record<string, string> = {}): LabConfig => resolveConfig({ login: 'jdoe', provider: 'libvirt', libvirt_driver: 'qemu', ...over }, host);

async function lab(ctx: Ctx, over: Record<string, string> = {}, opts: { block?: boolean; machine?: string } = {}): Promise<LabConfig> {
  const c = config(over);
  await writeLab(c, renderVagrantfile(c), { LABCTL_HOME: ctx.home });
  if (opts.block !== false) await writeFile(ctx.hosts, addBlock(await readFile(ctx.hosts, 'utf8'), { name: c.name, ip: c.ip, domain: c.domain }));
  if (opts.machine) {
    const dir = join(ctx.home, c.name, '.vagrant', 'machines', 'default', c.provider);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'id'), opts.machine);
  }
  return c;
}

async function escapee(ctx: Ctx): Promise<void> {
  // The reproduction of defect 1: a directory outside LABCTL_HOME that looks like a lab.
  await mkdir(join(ctx.outside, 'X', '.vagrant'), { recursive: true });
  await writeFile(join(ctx.outside, 'X', 'lab.json'), '{"name":"x"}');
}

const text = (path: string) => readFile(path, 'utf8');
const fakeLog = async (ctx: Ctx) => (existsSync(ctx.log) ? text(ctx.log) : '');
const gone = (path: string) => expect(existsSync(path), `${path} should be gone`).toBe(false);

async function failingProject(ctx: Ctx): Promise<void> {
  await mkdir(join(ctx.cwd, 'p', 'srcs'), { recursive: true });
  await writeFile(join(ctx.cwd, 'p', 'Makefile'), 'all:\n\tdocker compose -f srcs/docker-compose.yml up -d\n');
  await writeFile(join(ctx.cwd, 'p', 'srcs', 'docker-compose.yml'), 'services:\n  nginx:\n    image: nginx:latest\n    ports: ["80:80"]\n');
}

async function studentProject(ctx: Ctx, composeName = 'compose.yaml'): Promise<string> {
  const dir = join(ctx.cwd, 'mine');
  await mkdir(join(dir, 'srcs'), { recursive: true });
  await writeFile(join(dir, 'Makefile'), 'all:\n\tcd srcs && docker compose up -d --build\n');
  await writeFile(join(dir, 'srcs', composeName), 'services:\n  front:\n    build: ./front\n');
  return dir;
}

const ROWS: Row[] = [
  // Issue 15: a student's own project (--project) must be an Inception layout; the lab stores it absolute.
  {
    defect: 'project',
    label: '--project naming a folder that does not exist: exit 3, the field and the fix, nothing written',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--project', 'nowhere', '--yes'],
    fakes: true,
    exit: ExitCode.config,
    stderr: /^labctl: project: \S+\/cwd\/nowhere does not exist\n {2}fix: pass the folder that holds the Makefile and srcs\//,
  },
  {
    defect: 'project',
    label: '--project without a Makefile: exit 3, says so',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--project', 'mine', '--yes'],
    fakes: true,
    setup: async (ctx) => {
      const dir = await studentProject(ctx);
      await rm(join(dir, 'Makefile'));
    },
    exit: ExitCode.config,
    stderr: /project: \S+\/mine has no Makefile at its root/,
  },
  {
    defect: 'project',
    label: '--project without a compose file under srcs/: exit 3, lists the four names',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--project', 'mine', '--yes'],
    fakes: true,
    setup: async (ctx) => {
      await studentProject(ctx, 'docker-compose.yml.bak');
    },
    exit: ExitCode.config,
    stderr: /has no compose file under srcs\/ \(docker-compose\.yml, docker-compose\.yaml, compose\.yml, compose\.yaml\)/,
  },
  {
    defect: 'project',
    label: '--env-file without --project: exit 3, says it is for a student\'s own project',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--env-file', 'my.env', '--yes'],
    fakes: true,
    setup: async (ctx) => writeFile(join(ctx.cwd, 'my.env'), 'LOGIN=jdoe\n'),
    exit: ExitCode.config,
    stderr: /^labctl: env_file: only applies to a student's own project\n {2}fix: add --project DIR/,
  },
  {
    defect: 'project',
    label: '--secrets-dir naming a missing folder: exit 3, names the path',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--project', 'mine', '--secrets-dir', 'nope', '--yes'],
    fakes: true,
    setup: async (ctx) => {
      await studentProject(ctx);
    },
    exit: ExitCode.config,
    stderr: /^labctl: secrets_dir: \S+\/cwd\/nope is not a directory\n {2}fix: pass the folder holding your secret files/,
  },
  {
    defect: 'project',
    label: '--project that is a file: exit 3',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--project', 'f', '--yes'],
    fakes: true,
    setup: async (ctx) => writeFile(join(ctx.cwd, 'f'), 'x'),
    exit: ExitCode.config,
    stderr: /project: \S+\/f is not a directory/,
  },
  {
    defect: 'project',
    label: 'create --project (relative, srcs/compose.yaml) stores the absolute path; status shows it',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--project', './mine', '--no-provision', '--no-hosts', '--yes'],
    fakes: true,
    setup: async (ctx) => {
      await studentProject(ctx);
    },
    exit: ExitCode.ok,
    after: async (ctx) => {
      const stored = JSON.parse(await text(join(ctx.home, 'inception', 'lab.json'))) as { project?: string };
      expect(stored.project).toBe(join(ctx.cwd, 'mine'));
      const r = await labctl(['status', '--json'], { env: { ...ctx.env, PATH: `${fakeBin}:${process.env.PATH ?? ''}` }, cwd: ctx.root });
      expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ name: 'inception', project: { path: join(ctx.cwd, 'mine'), builtin: false } })]);
    },
  },
  {
    defect: 'project',
    label: 'a lab.json whose project is not absolute is a broken lab',
    argv: () => ['status', '--json'],
    setup: async (ctx) => {
      await lab(ctx);
      const path = join(ctx.home, 'inception', 'lab.json');
      await writeFile(path, JSON.stringify({ ...(JSON.parse(await text(path)) as object), project: 'relative/dir' }));
    },
    exit: ExitCode.ok,
    stdout: /"state": "broken"[\s\S]*"problem": "lab\.json: project: /,
  },

  // 1. The lab name never leaves LABCTL_HOME, whatever command and source it comes from.
  ...['destroy', 'status', 'up', 'halt', 'reboot', 'ssh', 'logs', 'provision', 'deploy', 'check'].map((cmd): Row => ({
    defect: '1',
    label: `${cmd} ../X refuses a name outside LABCTL_HOME`,
    argv: () => [cmd, '../X', ...(cmd === 'destroy' ? ['--yes'] : [])],
    fakes: true,
    setup: escapee,
    exit: ExitCode.config,
    stderr: /^labctl: name: "\.\.\/X" is not valid\n {2}fix: /,
    after: async (ctx) => {
      expect(existsSync(join(ctx.outside, 'X', 'lab.json'))).toBe(true);
      expect(await fakeLog(ctx)).toBe('');
    },
  })),
  { defect: '1', label: 'deploy --target with a shell word', argv: () => ['deploy', '--target', 'all; rm -rf ~'], fakes: true, exit: ExitCode.config, stderr: /^labctl: --target: "all; rm -rf ~" is not a make goal name\n {2}fix: / },
  { defect: '1', label: 'destroy /etc --yes', argv: () => ['destroy', '/etc', '--yes'], fakes: true, exit: ExitCode.config, stderr: /name: "\/etc" is not valid/ },
  { defect: '1', label: 'destroy a/b --yes', argv: () => ['destroy', 'a/b', '--yes'], exit: ExitCode.config, stderr: /name: "a\/b" is not valid/ },
  { defect: '1', label: 'create --name ../x', argv: () => ['create', '--name', '../x', '--login', 'jdoe'], exit: ExitCode.config, stderr: /^labctl: name: / },
  { defect: '1', label: 'create with LABCTL_NAME=../x', argv: () => ['create', '--login', 'jdoe'], env: { LABCTL_NAME: '../x' }, exit: ExitCode.config, stderr: /^labctl: name: / },
  {
    defect: '1',
    label: 'render with LABCTL_NAME=../x in .env',
    argv: () => ['render', '--login', 'jdoe', '--provider', 'libvirt'],
    setup: async (ctx) => writeFile(join(ctx.cwd, '.env'), 'LABCTL_NAME=../x\n'),
    exit: ExitCode.config,
    stderr: /^labctl: name: /,
  },
  { defect: '1', label: 'hosts add ../x', argv: () => ['hosts', 'add', '../x', '--login', 'jdoe', '--ip', '192.168.56.10'], exit: ExitCode.config, stderr: /name: "\.\.\/x" is not valid/ },
  {
    defect: '1',
    label: 'destroy of a lab directory that is a symbolic link to elsewhere',
    argv: () => ['destroy', 'evil', '--yes'],
    fakes: true,
    setup: async (ctx) => {
      await escapee(ctx);
      await mkdir(ctx.home, { recursive: true });
      await symlink(join(ctx.outside, 'X'), join(ctx.home, 'evil'));
    },
    exit: ExitCode.config,
    stderr: /symbolic link/,
    after: async (ctx) => {
      expect(existsSync(join(ctx.outside, 'X', 'lab.json'))).toBe(true);
      expect(await fakeLog(ctx)).toBe('');
    },
  },
  { defect: '1', label: 'a 5,000-character name is one short line', argv: () => ['status', 'a'.repeat(5000)], exit: ExitCode.config, stderr: /^labctl: name: "a{60}… \(5000 characters\)" is not valid\n {2}fix: [^\n]+$/ },

  // 2. A malformed block is refused with its line number; no line labctl did not write is removed.
  ...[
    ['an orphan BEGIN', `${HOSTS}# BEGIN labctl inception\n10.0.0.9 printer.lan\n`, /hosts:3/],
    ['an orphan END', `${HOSTS}# END labctl inception\n`, /hosts:3/],
    ['a duplicate block', `${HOSTS}# BEGIN labctl inception\n192.168.56.10 jdoe.42.fr\n# END labctl inception\n# BEGIN labctl inception\n192.168.56.10 jdoe.42.fr\n# END labctl inception\n`, /hosts:6/],
    ['a block holding two lines', `${HOSTS}# BEGIN labctl inception\n192.168.56.10 jdoe.42.fr\n10.0.0.9 printer.lan\n# END labctl inception\n`, /hosts:3/],
  ].flatMap(([what, content, line]): Row[] =>
    (['add', 'remove'] as const).map((verb) => ({
      defect: '2',
      label: `hosts ${verb} with ${String(what)}`,
      argv: () => ['hosts', verb, ...(verb === 'add' ? ['--login', 'jdoe', '--ip', '192.168.56.10'] : [])],
      setup: async (ctx) => writeFile(ctx.hosts, content as string),
      exit: ExitCode.conflict,
      stderr: line as RegExp,
    })),
  ),

  // 4. No control character in any setting; URLs are stored as parsed.
  {
    defect: '4',
    label: 'a line break in LABCTL_APT_MIRROR (.env)',
    argv: () => ['render', '--login', 'jdoe', '--provider', 'libvirt'],
    setup: async (ctx) => writeFile(join(ctx.cwd, '.env'), 'LABCTL_APT_MIRROR="http://m/debian\\nTrusted: yes"\n'),
    exit: ExitCode.config,
    stderr: /^labctl: apt_mirror: contains a control character \(0x0a/,
  },
  { defect: '4', label: 'a tab in LABCTL_APT_PROXY', argv: () => ['render', '--login', 'jdoe', '--provider', 'libvirt'], env: { LABCTL_APT_PROXY: 'http://p:3142/\tx' }, exit: ExitCode.config, stderr: /^labctl: apt_proxy: contains a control character \(0x09/ },
  { defect: '4', label: 'a newline in --login', argv: () => ['render', '--login', 'jdoe\nx', '--provider', 'libvirt'], exit: ExitCode.config, stderr: /^labctl: login: contains a control character/ },
  { defect: '4', label: 'a carriage return in --box', argv: () => ['render', '--login', 'jdoe', '--box', 'debian/trixie64\r', '--provider', 'libvirt'], exit: ExitCode.config, stderr: /^labctl: box: contains a control character \(0x0d/ },
  { defect: '4', label: 'DEL in --box-version', argv: () => ['render', '--login', 'jdoe', '--box-version', '13\u007f', '--provider', 'libvirt'], exit: ExitCode.config, stderr: /^labctl: box_version: contains a control character \(0x7f/ },
  { defect: '4', label: 'credentials in the mirror URL', argv: () => ['render', '--login', 'jdoe', '--apt-mirror', 'http://u:p@m/debian', '--provider', 'libvirt'], exit: ExitCode.config, stderr: /^labctl: apt_mirror: .*credentials/ },
  { defect: '4', label: 'a mirror that is not http(s)', argv: () => ['render', '--login', 'jdoe', '--apt-mirror', 'file:///etc', '--provider', 'libvirt'], exit: ExitCode.config, stderr: /^labctl: apt_mirror: .*not an http\(s\) URL/ },
  {
    defect: '4',
    label: 'the proxy URL is stored normalised',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--apt-proxy', 'HTTP://Proxy.LAN:3142', '--no-provision', '--yes'],
    fakes: true,
    exit: ExitCode.ok,
    after: async (ctx) => {
      expect(JSON.parse(await text(join(ctx.home, 'inception', 'lab.json'))).apt_proxy).toBe('http://proxy.lan:3142/');
    },
  },

  // 5. The real hosts file is edited: links stay links, bytes stay bytes.
  {
    defect: '5',
    label: 'a symlinked hosts file stays a link and its target is edited',
    argv: () => ['hosts', 'add', '--login', 'jdoe', '--ip', '192.168.56.10'],
    setup: async (ctx) => {
      await writeFile(join(ctx.outside, 'real-hosts'), HOSTS);
      await symlink(join(ctx.outside, 'real-hosts'), ctx.hosts + '.link');
      ctx.env.LABCTL_HOSTS_FILE = ctx.hosts + '.link';
    },
    exit: ExitCode.ok,
    after: async (ctx) => {
      expect((await lstat(ctx.hosts + '.link')).isSymbolicLink()).toBe(true);
      expect(await readlink(ctx.hosts + '.link')).toBe(join(ctx.outside, 'real-hosts'));
      expect(await text(join(ctx.outside, 'real-hosts'))).toContain('192.168.56.10 jdoe.42.fr');
    },
  },
  {
    defect: '5',
    label: 'a hard-linked hosts file: both names see the change',
    argv: () => ['hosts', 'add', '--login', 'jdoe', '--ip', '192.168.56.10'],
    setup: async (ctx) => link(ctx.hosts, join(ctx.outside, 'hosts-twin')),
    exit: ExitCode.ok,
    after: async (ctx) => {
      expect(await text(join(ctx.outside, 'hosts-twin'))).toBe(await text(ctx.hosts));
      expect((await lstat(ctx.hosts)).ino).toBe((await lstat(join(ctx.outside, 'hosts-twin'))).ino);
    },
  },
  {
    defect: '5',
    label: 'non-UTF-8 bytes and the mode survive add',
    argv: () => ['hosts', 'add', '--login', 'jdoe', '--ip', '192.168.56.10'],
    setup: async (ctx) => {
      await writeFile(ctx.hosts, Buffer.concat([Buffer.from('127.0.0.1 localhost # caf'), Buffer.from([0xe9, 0xff]), Buffer.from('\n')]));
      await chmod(ctx.hosts, 0o640);
    },
    exit: ExitCode.ok,
    after: async (ctx) => {
      const bytes = await readFile(ctx.hosts);
      expect(bytes.subarray(0, 27)).toEqual(Buffer.concat([Buffer.from('127.0.0.1 localhost # caf'), Buffer.from([0xe9, 0xff])]));
      expect((await lstat(ctx.hosts)).mode & 0o777).toBe(0o640);
    },
  },

  // 6. lab.json is checked; a broken lab is listed, never blocks the others, and can be removed.
  {
    defect: '6',
    label: 'a null lab.json shows as broken and the other lab as usual',
    argv: () => ['status'],
    fakes: true,
    setup: async (ctx) => {
      await lab(ctx, { name: 'good' });
      await mkdir(join(ctx.home, 'bad'), { recursive: true });
      await writeFile(join(ctx.home, 'bad', 'lab.json'), 'null');
    },
    exit: ExitCode.ok,
    stdout: /^bad\tbroken\tlab\.json: .*\ngood\trunning\tlibvirt/,
    // The running lab's SSH settings are cached as a side effect; nothing else changes.
    after: async (ctx) => expect(existsSync(join(ctx.home, 'bad', 'lab.json'))).toBe(true),
  },
  {
    defect: '6',
    label: 'a null lab.json does not block create of another lab',
    argv: () => ['create', 'second', '--login', 'jdoe2', '--ip', '192.168.56.12', '--provider', 'libvirt', '--no-provision', '--yes'],
    fakes: true,
    setup: async (ctx) => {
      await mkdir(join(ctx.home, 'bad'), { recursive: true });
      await writeFile(join(ctx.home, 'bad', 'lab.json'), 'null');
    },
    exit: ExitCode.ok,
    after: async (ctx) => {
      expect(existsSync(join(ctx.home, 'second', 'lab.json'))).toBe(true);
      expect(await text(ctx.hosts)).toContain('192.168.56.12 jdoe2.42.fr');
    },
  },
  {
    defect: '6',
    label: 'destroy of a copied lab dir removes only its own hosts block',
    argv: () => ['destroy', 'copy', '--yes'],
    fakes: true,
    setup: async (ctx) => {
      await lab(ctx, { name: 'orig' });
      await mkdir(join(ctx.home, 'copy'));
      await writeFile(join(ctx.home, 'copy', 'lab.json'), await text(join(ctx.home, 'orig', 'lab.json')));
    },
    exit: ExitCode.ok,
    after: async (ctx) => {
      gone(join(ctx.home, 'copy'));
      expect(await text(ctx.hosts)).toContain('# BEGIN labctl orig');
      expect(existsSync(join(ctx.home, 'orig', 'lab.json'))).toBe(true);
    },
  },
  {
    defect: '6',
    label: 'ssh into a broken lab says broken and how to remove it',
    argv: () => ['ssh', 'bad'],
    setup: async (ctx) => {
      await mkdir(join(ctx.home, 'bad'), { recursive: true });
      await writeFile(join(ctx.home, 'bad', 'lab.json'), '{"name": 1}');
    },
    exit: ExitCode.config,
    stderr: /^labctl: lab "bad" is broken: .*\n {2}fix: .*labctl destroy bad --force/,
  },
  {
    defect: '6',
    label: 'a garbage lab.json can be destroyed',
    argv: () => ['destroy', 'bad', '--yes'],
    fakes: true,
    setup: async (ctx) => {
      await mkdir(join(ctx.home, 'bad'), { recursive: true });
      await writeFile(join(ctx.home, 'bad', 'lab.json'), '\u0000\u0001garbage');
    },
    exit: ExitCode.ok,
    after: async (ctx) => gone(join(ctx.home, 'bad')),
  },
  {
    defect: '6',
    label: 'status --json lists a broken lab with its problem',
    argv: () => ['status', '--json'],
    setup: async (ctx) => {
      await mkdir(join(ctx.home, 'bad'), { recursive: true });
      await writeFile(join(ctx.home, 'bad', 'lab.json'), '[]');
    },
    exit: ExitCode.ok,
    stdout: /"state": "broken"[\s\S]*"problem": "lab\.json: /,
  },

  // 7. A failed create can be removed; destroy --force removes whatever exists.
  {
    defect: '7',
    label: 'create failing at vagrant up: exit 6, a lab log that exists, and the way out',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--yes'],
    fakes: true,
    env: { FAKE_VAGRANT_UP: 'fail' },
    exit: ExitCode.external,
    stderr: /`vagrant up --provider libvirt --no-provision` failed with exit code 1: Error while connecting to Libvirt[\s\S]*fix: vagrant's output is in .*labctl\.log.*labctl destroy inception/,
    after: async (ctx) => {
      expect(await text(join(ctx.home, 'inception', 'labctl.log'))).toContain('Error while connecting to Libvirt');
      // The create is unfinished: `status` says `creating` until a re-run of create completes it.
      expect(existsSync(join(ctx.home, 'inception', 'create-unfinished'))).toBe(true);
      expect(await text(join(ctx.home, 'inception', 'labctl.log'))).toMatch(/create inception: step "vagrant up": failed/);
    },
  },
  {
    defect: '7',
    label: 'destroy after a create that never made a VM',
    argv: () => ['destroy', '--yes'],
    fakes: true,
    setup: async (ctx) => {
      await lab(ctx);
      await mkdir(join(ctx.home, 'inception', '.vagrant'));
    },
    exit: ExitCode.ok,
    after: async (ctx) => {
      gone(join(ctx.home, 'inception'));
      expect(await text(ctx.hosts)).toBe(HOSTS);
      expect(await fakeLog(ctx)).not.toMatch(/vagrant destroy/);
    },
  },
  {
    defect: '7',
    label: 'destroy when vagrant cannot: stops, removes nothing, points at --force',
    argv: () => ['destroy', '--yes'],
    fakes: true,
    env: { FAKE_VAGRANT_DESTROY: 'fail' },
    setup: async (ctx) => void (await lab(ctx, {}, { machine: 'fake-1' })),
    exit: ExitCode.external,
    stderr: /fix: nothing else was removed; `labctl destroy inception --force`/,
    after: async (ctx) => {
      expect(existsSync(join(ctx.home, 'inception', 'lab.json'))).toBe(true);
      expect(await text(ctx.hosts)).toContain('# BEGIN labctl inception');
    },
  },
  {
    defect: '7',
    label: 'destroy --force when vagrant cannot: the provider tool removes the VM',
    argv: () => ['destroy', '--yes', '--force'],
    fakes: true,
    env: { FAKE_VAGRANT_DESTROY: 'fail' },
    setup: async (ctx) => void (await lab(ctx, {}, { machine: 'fake-1' })),
    exit: ExitCode.ok,
    stderr: /Removed: VM \(libvirt fake-1\), hosts block in .*, state /,
    after: async (ctx) => {
      gone(join(ctx.home, 'inception'));
      expect(await text(ctx.hosts)).toBe(HOSTS);
      expect(await fakeLog(ctx)).toMatch(/virsh -c qemu:\/\/\/system undefine fake-1 --remove-all-storage/);
    },
  },
  {
    defect: '7',
    label: 'destroy --force when nothing can remove the VM: the rest goes, the VM is listed with its command',
    argv: () => ['destroy', '--yes', '--force'],
    fakes: true,
    env: { FAKE_VAGRANT_DESTROY: 'fail', FAKE_VIRSH: 'fail' },
    setup: async (ctx) => void (await lab(ctx, {}, { machine: 'fake-1' })),
    exit: ExitCode.external,
    stderr: /still there: libvirt domain fake-1: error: failed to connect to the hypervisor; remove it with `virsh -c qemu:\/\/\/system undefine fake-1 --remove-all-storage`/,
    after: async (ctx) => {
      gone(join(ctx.home, 'inception'));
      expect(await text(ctx.hosts)).toBe(HOSTS);
    },
  },
  {
    defect: '7',
    label: 'destroy with the hosts file missing finishes',
    argv: () => ['destroy', '--yes'],
    fakes: true,
    setup: async (ctx) => {
      await lab(ctx, {}, { block: false });
      ctx.env.LABCTL_HOSTS_FILE = join(ctx.root, 'no-such-hosts');
    },
    exit: ExitCode.ok,
    after: async (ctx) => gone(join(ctx.home, 'inception')),
  },
  {
    defect: '7',
    label: 'destroy --force of a lab whose directory is gone still removes its hosts block',
    argv: () => ['destroy', 'ghost', '--yes', '--force'],
    setup: async (ctx) => writeFile(ctx.hosts, addBlock(HOSTS, { name: 'ghost', ip: '192.168.56.20', domain: 'ghost.42.fr' })),
    exit: ExitCode.ok,
    after: async (ctx) => expect(await text(ctx.hosts)).toBe(HOSTS),
  },
  { defect: '7', label: 'destroy of a lab that does not exist', argv: () => ['destroy', 'nope', '--yes'], exit: ExitCode.notFound, stderr: /^labctl: no lab named "nope"/ },

  // 8. create runs doctor's preflight before writing anything.
  {
    defect: '8',
    label: 'create with the hosts file missing stops before writing anything',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--yes'],
    fakes: true,
    setup: async (ctx) => void (ctx.env.LABCTL_HOSTS_FILE = join(ctx.root, 'no-such-hosts')),
    exit: ExitCode.notFound,
    stderr: /^labctl: 1 problem: hosts-file/,
    after: async (ctx) => {
      gone(ctx.home);
      expect(await fakeLog(ctx)).not.toMatch(/vagrant up/);
    },
  },
  {
    defect: '8',
    label: 'create when libvirt cannot be reached stops before writing anything',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--yes'],
    fakes: true,
    env: { FAKE_VIRSH: 'fail' },
    exit: ExitCode.external,
    stderr: /^labctl: 1 problem: libvirt \(cannot connect to qemu:\/\/\/system/,
    after: async (ctx) => {
      gone(ctx.home);
      expect(await fakeLog(ctx)).not.toMatch(/vagrant up/);
    },
  },
  {
    defect: '8',
    label: 'doctor with the hosts file missing: a problem, one summary line, exit 1',
    argv: () => ['doctor'],
    fakes: true,
    setup: async (ctx) => void (ctx.env.LABCTL_HOSTS_FILE = join(ctx.root, 'no-such-hosts')),
    exit: ExitCode.checkFailed,
    stdout: /FAIL {2}hosts-file/,
    stderr: /^labctl: 1 problem: hosts-file \(.*no-such-hosts does not exist\)/,
  },

  // 10. One exit-code table; enum flags are settings (exit 3, one line), not parser errors.
  ...[
    ['--provider', 'hyperv', 'provider'],
    ['--libvirt-driver', 'xen', 'libvirt_driver'],
    ['--docker-source', 'snap', 'docker_source'],
    ['--base-image', 'scratch', 'base_image'],
  ].map(([flag, value, field]): Row => ({
    defect: '10',
    label: `render ${flag} ${value}`,
    argv: () => ['render', '--login', 'jdoe', flag as string, value as string],
    exit: ExitCode.config,
    stderr: new RegExp(`^labctl: ${field}: "${value}" is not one of [^\\n]+\\n {2}fix: [^\\n]+$`),
  })),
  { defect: '10', label: 'box build --provider virtualbox', argv: () => ['box', 'build', '--provider', 'virtualbox'], exit: ExitCode.config, stderr: /^labctl: provider: labctl builds libvirt boxes only/ },
  { defect: '10', label: 'an unknown flag is one usage line', argv: () => ['status', '--colour'], exit: ExitCode.usage, stderr: /^labctl: Unknown argument: colour\n {2}fix: see labctl status --help$/ },
  { defect: '10', label: 'no command at all', argv: () => [], exit: ExitCode.usage, stderr: /^labctl: Say what to do/ },
  { defect: '10', label: 'a failed static check exits 1', argv: () => ['check', '--static', 'p'], setup: failingProject, exit: ExitCode.checkFailed, stderr: /^labctl: \d+ check\(s\) failed/ },

  // 11. Environment problems are one line naming the path, never "internal error".
  { defect: '11', label: '.env is a folder', argv: () => ['render', '--login', 'jdoe', '--provider', 'libvirt'], setup: async (ctx) => mkdir(join(ctx.cwd, '.env')), exit: ExitCode.config, stderr: /^labctl: .*\.env is a directory/ },
  { defect: '11', label: 'LABCTL_HOME is a file (status)', argv: () => ['status'], setup: async (ctx) => writeFile(ctx.home, 'x'), exit: ExitCode.config, stderr: /^labctl: LABCTL_HOME .* is not a directory/ },
  {
    defect: '11',
    label: 'LABCTL_HOME is a file (create)',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--yes'],
    fakes: true,
    setup: async (ctx) => writeFile(ctx.home, 'x'),
    exit: ExitCode.config,
    stderr: /^labctl: .*LABCTL_HOME|^labctl: 1 problem: labctl-home/,
  },
  {
    defect: '11',
    label: 'a lab directory that is a file shows as broken',
    argv: () => ['status'],
    setup: async (ctx) => {
      await mkdir(ctx.home);
      await writeFile(join(ctx.home, 'inception'), 'x');
    },
    exit: ExitCode.ok,
    stdout: /^inception\tbroken\t.* is a file/,
  },
  { defect: '11', label: 'the hosts file is a folder', argv: () => ['hosts', 'add', '--login', 'jdoe', '--ip', '192.168.56.10'], setup: async (ctx) => mkdir(ctx.hosts + '.d').then(() => void (ctx.env.LABCTL_HOSTS_FILE = ctx.hosts + '.d')), exit: ExitCode.notFound, stderr: /^labctl: hosts file .* is a directory/ },
  {
    defect: '11',
    label: 'LABCTL_HOME below a file (/dev/null/home)',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--no-hosts', '--yes'],
    fakes: true,
    env: { LABCTL_HOME: '/dev/null/home' },
    exit: ExitCode.config,
    stderr: /^labctl: [^\n]*\/dev\/null\/home is not a directory/,
  },
  {
    defect: '11',
    label: 'a compose file with services.x: null',
    argv: () => ['check', '--static', 'p'],
    setup: async (ctx) => {
      await failingProject(ctx);
      await writeFile(join(ctx.cwd, 'p', 'srcs', 'docker-compose.yml'), 'services:\n  x: null\n');
    },
    // Issue 16: the field is left out and named; every other rule still gets its verdict.
    exit: ExitCode.checkFailed,
    stdout: /✘ M01\.compose-shape +srcs\/docker-compose\.yml: services\.[a-z]+[^\n]*expected [^\n]*\n {6}fix that field/,
  },
  {
    defect: '11',
    label: 'a compose file with ports: "443"',
    argv: () => ['check', '--static', 'p'],
    setup: async (ctx) => {
      await failingProject(ctx);
      await writeFile(join(ctx.cwd, 'p', 'srcs', 'docker-compose.yml'), 'services:\n  nginx:\n    build: requirements/nginx\n    ports: "443"\n');
    },
    // Issue 16: the field is left out and named; every other rule still gets its verdict.
    exit: ExitCode.checkFailed,
    stdout: /✘ M01\.compose-shape +srcs\/docker-compose\.yml: services\.[a-z]+[^\n]*expected [^\n]*\n {6}fix that field/,
  },

  // 12. check --static on untrusted repositories (more in check-static-hostile.test.ts).
  {
    defect: '12',
    label: 'a README.md linked to a token outside the project: the token is never printed',
    argv: () => ['check', '--static', 'p', '--json'],
    setup: async (ctx) => {
      await failingProject(ctx);
      await writeFile(join(ctx.outside, 'token'), 'ghp_SECRETTOKEN1234567890\n');
      await symlink(join(ctx.outside, 'token'), join(ctx.cwd, 'p', 'README.md'));
    },
    exit: ExitCode.checkFailed,
    after: async (_ctx, r) => expect(`${r.stdout}${r.stderr}`).not.toContain('SECRETTOKEN'),
  },
  {
    defect: '12',
    label: 'a Dockerfile outside the project (dockerfile: ../../x): never read',
    argv: () => ['check', '--static', 'p', '--json'],
    setup: async (ctx) => {
      await failingProject(ctx);
      await writeFile(join(ctx.cwd, 'Dockerfile'), 'FROM debian:bookworm\nENV DB_PASSWORD=OUTSIDESECRET99\n');
      await writeFile(join(ctx.cwd, 'p', 'srcs', 'docker-compose.yml'), 'services:\n  nginx:\n    build:\n      context: .\n      dockerfile: ../../Dockerfile\n');
    },
    exit: ExitCode.checkFailed,
    after: async (_ctx, r) => expect(`${r.stdout}${r.stderr}`).not.toContain('OUTSIDESECRET'),
  },
  { defect: '12', label: 'check --static without a folder is an error', argv: () => ['check', '--static'], exit: ExitCode.usage, stderr: /^labctl: --static needs the project folder/ },
  { defect: '12', label: 'check --static on a missing folder', argv: () => ['check', '--static', 'nope'], exit: ExitCode.notFound, stderr: /^labctl: nope is not a directory/ },

  // 13. Validation gaps.
  ...[
    ['jdoe-', /not valid/],
    ['root', /system account/],
    ['vagrant', /system account/],
    ['www-data', /system account/],
    ['John', /not valid/],
    ['1jdoe', /not valid/],
    ['a'.repeat(33), /not valid/],
    ['jd_oe', /not valid/],
  ].map(([login, why]): Row => ({
    defect: '13',
    label: `login ${String(login).slice(0, 12)}`,
    argv: () => ['render', '--login', login as string, '--provider', 'libvirt'],
    exit: ExitCode.config,
    stderr: new RegExp(`^labctl: login: "[^"]*" (is|is a) ${(why as RegExp).source}`),
  })),
  { defect: '13', label: 'lab name boxes is reserved', argv: () => ['render', 'boxes', '--login', 'jdoe', '--provider', 'libvirt'], exit: ExitCode.config, stderr: /^labctl: name: "boxes" is reserved/ },
  { defect: '13', label: 'lab name ending with -', argv: () => ['status', 'lab-'], exit: ExitCode.config, stderr: /^labctl: name: "lab-" is not valid/ },
  {
    defect: '13',
    label: 'a second lab for the same login with --no-hosts',
    argv: () => ['create', 'two', '--login', 'jdoe', '--ip', '192.168.56.11', '--provider', 'libvirt', '--no-hosts', '--yes'],
    fakes: true,
    setup: async (ctx) => void (await lab(ctx, { name: 'one' })),
    exit: ExitCode.conflict,
    stderr: /^labctl: login jdoe already has lab "one"/,
  },
  {
    defect: '13',
    label: 'a CRLF-edited block still counts for the domain-conflict check',
    argv: () => ['hosts', 'add', 'other', '--login', 'jdoe', '--ip', '192.168.56.11'],
    setup: async (ctx) => writeFile(ctx.hosts, '127.0.0.1 localhost\r\n# BEGIN labctl inception\r\n192.168.56.10 jdoe.42.fr\r\n# END labctl inception\r\n'),
    exit: ExitCode.conflict,
    stderr: /jdoe\.42\.fr is already mapped to 192\.168\.56\.10 by lab "inception"/,
  },
  { defect: '13', label: 'box build --suite is validated', argv: () => ['box', 'build', '--suite', 'jessie; rm -rf /'], exit: ExitCode.config, stderr: /^labctl: suite: "jessie; rm -rf \/" is not a Debian suite/ },
  { defect: '13', label: 'box build --mirror is validated', argv: () => ['box', 'build', '--mirror', 'ftp://m/debian'], exit: ExitCode.config, stderr: /^labctl: mirror: / },

  // 14. Secrets are 0600, even when they existed with a looser mode.
  {
    defect: '14',
    label: 'a 0644 secret is tightened to 0600 and the user is told',
    argv: () => ['create', '--login', 'jdoe', '--provider', 'libvirt', '--no-provision', '--yes'],
    fakes: true,
    setup: async (ctx) => {
      await lab(ctx);
      await chmod(join(ctx.home, 'inception', 'secrets', 'db_password.txt'), 0o644);
    },
    exit: ExitCode.ok,
    stderr: /warning: tightened secrets\/db_password\.txt to mode 0600/,
    after: async (ctx) => expect((await lstat(join(ctx.home, 'inception', 'secrets', 'db_password.txt'))).mode & 0o777).toBe(0o600),
  },

  // 15. A stopped or missing VM: say the state and the command that fixes it.
  {
    defect: '15',
    label: 'ssh into a lab whose VM was never created',
    argv: () => ['ssh', '--', 'true'],
    fakes: true,
    env: { FAKE_VAGRANT_STATE: 'not_created' },
    setup: async (ctx) => void (await lab(ctx)),
    exit: ExitCode.notFound,
    stderr: /^labctl: lab "inception" has no VM \(never created, or removed outside labctl\)\n {2}fix: .*labctl create inception/,
  },
  {
    defect: '15',
    label: 'logs of a halted lab',
    argv: () => ['logs'],
    fakes: true,
    env: { FAKE_VAGRANT_STATE: 'poweroff' },
    setup: async (ctx) => void (await lab(ctx)),
    exit: ExitCode.notFound,
    stderr: /^labctl: lab "inception" is not running \(VM state: poweroff\)\n {2}fix: start it with `labctl up inception`/,
  },
  {
    defect: '15',
    label: 'halt of a VM that never existed is not a success',
    argv: () => ['halt'],
    fakes: true,
    env: { FAKE_VAGRANT_STATE: 'not_created' },
    setup: async (ctx) => void (await lab(ctx)),
    exit: ExitCode.notFound,
    stderr: /^labctl: lab "inception" has no VM to halt/,
  },
  {
    defect: '15',
    label: 'halt of a stopped VM says so and succeeds',
    argv: () => ['halt'],
    fakes: true,
    env: { FAKE_VAGRANT_STATE: 'poweroff' },
    setup: async (ctx) => void (await lab(ctx)),
    exit: ExitCode.ok,
    stderr: /already stopped \(poweroff\)/,
    after: async (ctx) => expect(await fakeLog(ctx)).not.toMatch(/vagrant halt/),
  },
  {
    defect: '15',
    label: 'reboot of a VM that never existed',
    argv: () => ['reboot'],
    fakes: true,
    env: { FAKE_VAGRANT_STATE: 'not_created' },
    setup: async (ctx) => void (await lab(ctx)),
    exit: ExitCode.notFound,
    stderr: /has no VM to reboot/,
  },

  // The newcomer path.
  { defect: 'newcomer', label: '-V prints the version', argv: () => ['-V'], exit: ExitCode.ok, stdout: /^\d+\.\d+\.\d+$/ },
  { defect: 'newcomer', label: '-v prints the version (as vagrant, docker, npm)', argv: () => ['-v'], exit: ExitCode.ok, stdout: /^\d+\.\d+\.\d+$/ },
  { defect: 'newcomer', label: '--verbose is the details switch', argv: () => ['render', '--login', 'X', '--verbose'], exit: ExitCode.config, stderr: /\n\s+at / },
  {
    defect: 'newcomer',
    label: 'check prints failures first and the summary last',
    argv: () => ['check', '--static', 'p'],
    setup: failingProject,
    exit: ExitCode.checkFailed,
    stdout: /^Failed:\n {2}✘ [\s\S]*\n\d+ passed, \d+ failed, \d+ skipped$/,
  },
  {
    defect: 'newcomer',
    label: 'the lab name is positional for create',
    argv: () => ['create', 'lab2', '--login', 'jdoe', '--provider', 'libvirt', '--no-provision', '--yes'],
    fakes: true,
    exit: ExitCode.ok,
    after: async (ctx) => expect(existsSync(join(ctx.home, 'lab2', 'lab.json'))).toBe(true),
  },
  {
    defect: 'newcomer',
    label: 'the lab name is positional for hosts remove',
    argv: () => ['hosts', 'remove', 'lab2'],
    setup: async (ctx) => writeFile(ctx.hosts, addBlock(HOSTS, { name: 'lab2', ip: '192.168.56.11', domain: 'jdoe2.42.fr' })),
    exit: ExitCode.ok,
    after: async (ctx) => expect(await text(ctx.hosts)).toBe(HOSTS),
  },
];

let fakeBin: string;

beforeAll(async () => {
  fakeBin = await writeFakeTools(await tempDir('labctl-fakes-'));
});

async function sandbox(): Promise<Ctx> {
  const root = await tempDir('labctl-hostile-');
  const ctx: Ctx = { root, home: join(root, 'home'), hosts: join(root, 'hosts'), cwd: join(root, 'cwd'), outside: join(root, 'outside'), log: join(root, 'fake.log'), env: {} };
  await mkdir(ctx.cwd);
  await mkdir(ctx.outside);
  await writeFile(ctx.hosts, HOSTS);
  ctx.env = { LABCTL_HOME: ctx.home, LABCTL_HOSTS_FILE: ctx.hosts, FAKE_LOG: ctx.log, LIBVIRT_DEFAULT_URI: '' };
  return ctx;
}

describe('issue 13: hostile and mistaken input, row by row', () => {
  it('has at least 80 rows and covers every defect', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(80);
    const covered = new Set(ROWS.map((r) => r.defect));
    for (const d of ['1', '2', '4', '5', '6', '7', '8', '10', '11', '12', '13', '14', '15', 'newcomer', 'project']) expect(covered, `defect ${d}`).toContain(d);
  });

  it.concurrent.each(ROWS.map((r) => [`${r.defect}: ${r.label}`, r] as const))('%s', async (_name, row) => {
    const ctx = await sandbox();
    await row.setup?.(ctx);
    const skipLogs = (rel: string) => rel.endsWith('labctl.log') || rel.endsWith('.lock') || rel === 'fake.log';
    const before = row.after ? undefined : await snapshotTree(ctx.root, skipLogs);
    const env = { ...ctx.env, ...row.env, ...(row.fakes ? { PATH: `${fakeBin}:${process.env.PATH ?? ''}` } : {}) };
    const r = await labctl(row.argv(ctx), { env, cwd: ctx.cwd });
    const shown = `exit ${r.exitCode}\nstdout: ${r.stdout.slice(0, 800)}\nstderr: ${r.stderr.slice(0, 800)}`;
    expect(r.exitCode, shown).toBe(row.exit);
    if (row.stderr) expect(r.stderr, shown).toMatch(row.stderr);
    if (row.stdout) expect(r.stdout, shown).toMatch(row.stdout);
    expect(r.stderr, 'never a stack trace without --verbose').not.toMatch(row.argv(ctx).includes('--verbose') ? /^$/ : /\n\s+at \S+ \(/);
    expect(r.stderr).not.toMatch(/internal error/);
    if (row.after) await row.after(ctx, r);
    else expect(await snapshotTree(ctx.root, skipLogs), 'the sandbox must be unchanged').toEqual(before);
  });
});
