import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../core/errors.js';
import { COMMANDS as TABLE } from '../../cli/program.js';
import { CLI, labctl } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const COMMANDS = ['create', 'up', 'halt', 'reboot', 'destroy', 'ssh', 'status', 'provision', 'deploy', 'logs', 'render', 'hosts', 'doctor'];

describe('labctl --help', () => {
  it('lists every command', async () => {
    const r = await labctl(['--help']);
    expect(r.exitCode).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`labctl ${c}\\b`));
    for (const c of TABLE) expect(r.stdout).toContain(`labctl ${c.command}`);
    expect(r.stdout).toContain('completion');
  });

  it('prints, without yargs, what yargs prints', async () => {
    // --help alone takes the fast path (cli/help.ts); with a global flag beside it, yargs answers.
    const [fast, h, viaYargs] = await Promise.all([labctl(['--help']), labctl(['-h']), labctl(['--quiet', '--help'])]);
    expect(viaYargs.exitCode).toBe(0);
    expect(viaYargs.stdout).toContain('Commands:');
    expect(fast.stdout).toBe(viaYargs.stdout);
    expect(h.stdout).toBe(viaYargs.stdout);
  });

  it.each(TABLE.map((c) => c.command.split(' ')[0] ?? ''))('%s --help is its own help', async (c) => {
    const r = await labctl([c, '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^labctl ${c}\\b`));
    expect(r.stderr).toBe('');
  });

  it.each(COMMANDS.filter((c) => c !== 'hosts'))('%s --help has examples', async (c) => {
    const r = await labctl([c, '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Examples:');
  });

  it('hosts add --help has examples', async () => {
    const r = await labctl(['hosts', 'add', '--help']);
    expect(r.stdout).toContain('Examples:');
  });

  it('list --help is status --help (an alias loads the command it names)', async () => {
    const [list, status] = await Promise.all([labctl(['list', '--help']), labctl(['status', '--help'])]);
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toBe(status.stdout);
  });

  it('prints a completion script', async () => {
    const r = await labctl(['completion']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('_labctl_yargs_completions');
  });

  it('completes command words, and the options of the command being typed', async () => {
    const words = await labctl(['--get-yargs-completions', 'labctl', 'st']);
    expect(words.stdout.split('\n')).toEqual(expect.arrayContaining(['create', 'status', 'check', 'completion']));
    const options = await labctl(['--get-yargs-completions', 'labctl', 'create', '--lo']);
    expect(options.stdout.split('\n')).toEqual(expect.arrayContaining(['--login', '--bonus', '--verbose']));
  });

  it('an unknown command is a usage error, not a stack trace', async () => {
    const r = await labctl(['crate']);
    expect(r.exitCode).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(/Did you mean create/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an option before the command word still reaches the command', async () => {
    // --login is unknown at the top level, so yargs reads "jdoe" as its value and runs render.
    const r = await labctl(['--login', 'jdoe', 'render', '--provider', 'libvirt']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('jdoe.42.fr');
  });

  it('a word that is no command is one usage line and its fix', async () => {
    const r = await labctl(['nosuch']);
    expect(r.exitCode).toBe(ExitCode.usage);
    expect(r.stderr).toBe('labctl: Unknown argument: nosuch\n  fix: see labctl nosuch --help');
  });
});

describe('what a start loads (issue 17: only yargs and the chosen command before its handler)', () => {
  // A module loader hook (node --import) prints every module file Node loads; the real binary runs.
  async function loadedBy(args: string[], env: Record<string, string> = {}): Promise<string[]> {
    const dir = await tempDir('labctl-loads-');
    await writeFile(join(dir, 'hooks.mjs'), "export async function load(url, context, next) { if (url.startsWith('file:')) process.stderr.write(`loaded ${url}\\n`); return next(url, context); }\n");
    await writeFile(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
    const r = await execa(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, CLI, ...args], { reject: false, env: { ...env }, extendEnv: true, stdin: 'ignore' });
    expect(r.exitCode).toBe(0);
    const root = pathToFileURL(join(CLI, '..', '..', '..')).href;
    return String(r.stderr)
      .split('\n')
      .filter((l) => l.startsWith('loaded '))
      .map((l) => l.slice('loaded '.length).replace(`${root}/`, ''));
  }
  const ours = (files: string[]): string[] => files.filter((f) => f.startsWith('dist/'));

  it('--help loads neither yargs nor any command module nor use case', async () => {
    const files = await loadedBy(['--help']);
    expect(files).toContain('dist/cli/main.js');
    expect(files.filter((f) => /node_modules\//.test(f))).toEqual([]);
    expect(ours(files).filter((f) => /^dist\/(cli\/commands|usecases|adapters|provision|check|box|layers)\//.test(f))).toEqual([]);
  });

  it('status --help loads yargs and the status command, no other command and no use case', async () => {
    const files = await loadedBy(['status', '--help']);
    expect(files.some((f) => /node_modules\/yargs\//.test(f))).toBe(true);
    expect(ours(files).filter((f) => f.startsWith('dist/cli/commands/'))).toEqual(['dist/cli/commands/status.js']);
    expect(ours(files).filter((f) => /^dist\/(usecases|adapters|provision|check|box|layers)\//.test(f))).toEqual([]);
  });

  it('the commands of a command (hosts add) come with it', async () => {
    const files = await loadedBy(['hosts', 'add', '--help']);
    expect(ours(files).filter((f) => f.startsWith('dist/cli/commands/'))).toEqual(['dist/cli/commands/hosts.js']);
  });
});

describe('create with bad input fails fast, names the field, leaves no trace', () => {
  const cases: [string, string[], RegExp][] = [
    ['no login', [], /^labctl: login: is required/],
    ['bad login', ['--login', 'John'], /^labctl: login: "John" is not valid/],
    ['bad ip', ['--login', 'jdoe', '--ip', '300.1.1.1'], /^labctl: ip: /],
    ['ip outside the VirtualBox range', ['--login', 'jdoe', '--provider', 'virtualbox', '--ip', '10.1.2.3'], /^labctl: ip: .*192\.168\.56\.0\/21/],
    ['bad memory', ['--login', 'jdoe', '--memory', 'lots'], /^labctl: memory: /],
    ['bad provider', ['--login', 'jdoe', '--provider', 'hyperv'], /provider/],
  ];
  it.each(cases)('%s', async (_label, args, message) => {
    const home = await tempDir('labctl-home-');
    const hostsFile = join(home, 'hosts');
    await writeFile(hostsFile, '127.0.0.1 localhost\n');
    const r = await labctl(['create', ...args], { env: { LABCTL_HOME: join(home, 'state'), LABCTL_HOSTS_FILE: hostsFile }, cwd: home });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.ms).toBeLessThan(1000 + 500); // one second, plus Node's start-up on a loaded CI machine
    expect(existsSync(join(home, 'state'))).toBe(false);
    expect(await readFile(hostsFile, 'utf8')).toBe('127.0.0.1 localhost\n');
  });

  it('reads LABCTL_* from a .env file in the working directory, below the environment', async () => {
    const dir = await tempDir('labctl-dotenv-');
    await writeFile(join(dir, '.env'), 'LABCTL_LOGIN=fromdotenv\nLABCTL_MEMORY=3072\n');
    const r = await labctl(['render', '--provider', 'libvirt'], { cwd: dir, env: { LABCTL_MEMORY: '4096' } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('fromdotenv.42.fr');
    expect(r.stdout).toContain('lv.memory = 4096');
  });

  it('--verbose adds the stack trace', async () => {
    const r = await labctl(['render', '--login', 'X', '--verbose']);
    expect(r.exitCode).toBe(ExitCode.config);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('labctl hosts', () => {
  it('add twice then remove restores the file byte-identically', async () => {
    const dir = await tempDir('labctl-hosts-');
    const path = join(dir, 'hosts');
    const original = '127.0.0.1\tlocalhost\n# keep me\n::1 ip6-localhost';
    await writeFile(path, original);
    const env = { LABCTL_HOSTS_FILE: path };
    const a = await labctl(['hosts', 'add', '--login', 'jdoe', '--ip', '192.168.56.10'], { env });
    expect(a.exitCode).toBe(0);
    const afterFirst = await readFile(path, 'utf8');
    expect(afterFirst).toContain('192.168.56.10 jdoe.42.fr');
    const b = await labctl(['hosts', 'add', '--login', 'jdoe', '--ip', '192.168.56.10'], { env });
    expect(b.exitCode).toBe(0);
    expect(b.stderr).toMatch(/already has/);
    expect(await readFile(path, 'utf8')).toBe(afterFirst);
    const c = await labctl(['hosts', 'remove', '--login', 'jdoe'], { env });
    expect(c.exitCode).toBe(0);
    expect(await readFile(path, 'utf8')).toBe(original);
    expect(await readdir(dir)).toEqual(['hosts']);
  });

  it('refuses a domain another lab already maps', async () => {
    const dir = await tempDir('labctl-hosts-');
    const path = join(dir, 'hosts');
    await writeFile(path, '127.0.0.1 localhost\n');
    const env = { LABCTL_HOSTS_FILE: path };
    await labctl(['hosts', 'add', '--login', 'jdoe', '--ip', '192.168.56.10', '--name', 'one'], { env });
    const r = await labctl(['hosts', 'add', '--login', 'jdoe', '--ip', '192.168.56.11', '--name', 'two'], { env });
    expect(r.exitCode).toBe(ExitCode.conflict);
    expect(r.stderr).toMatch(/already mapped to 192\.168\.56\.10 by lab "one"/);
  });

  it('a read-only hosts file gives the sudo fix, not a stack trace', async () => {
    if (process.getuid?.() === 0) {
      // root ignores file modes; a directory we cannot write to is the real fault to cause instead.
      const r = await labctl(['hosts', 'add', '--login', 'jdoe', '--ip', '192.168.56.10'], { env: { LABCTL_HOSTS_FILE: '/proc/version' } });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/^labctl: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      return;
    }
    const dir = await tempDir('labctl-hosts-');
    const path = join(dir, 'hosts');
    await writeFile(path, '127.0.0.1 localhost\n', { mode: 0o444 });
    const r = await labctl(['hosts', 'add', '--login', 'jdoe', '--ip', '192.168.56.10'], { env: { LABCTL_HOSTS_FILE: path } });
    expect(r.stderr).toMatch(/permission denied[\s\S]*sudo/);
  });
});

describe('labctl doctor tells the truth', () => {
  it('reports what is installed on this machine', async () => {
    const r = await labctl(['doctor', '--json']);
    const checks = JSON.parse(r.stdout) as { id: string; verdict: string; summary: string }[];
    const byId = new Map(checks.map((c) => [c.id, c]));
    const vagrant = await execa('vagrant', ['--version'], { reject: false });
    if (vagrant.exitCode === 0) expect(byId.get('vagrant')?.summary).toBe(vagrant.stdout.trim());
    else expect(byId.get('vagrant')?.verdict).toBe('fail');
    const vbox = await execa('VBoxManage', ['--version'], { reject: false });
    expect(byId.get('virtualbox')?.verdict).toBe(vbox.exitCode === 0 ? 'ok' : 'warn');
    const cpuinfo = await readFile('/proc/cpuinfo', 'utf8');
    const hw = /\b(vmx|svm)\b/.test(cpuinfo) && existsSync('/dev/kvm');
    expect(byId.get('accelerator')?.summary).toContain(hw ? 'kvm' : 'qemu');
    expect(byId.get('node')?.summary).toContain(process.version);
    expect(r.exitCode === 0).toBe(!checks.some((c) => c.verdict === 'fail'));
  });
});
