import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyComposeProject } from '../helpers/stack.js';

// The preparation half of compose/'s Makefile (`make env secrets`), which needs no Docker:
// srcs/.env from the example for a login, the Docker secrets and the TLS pair, all created only
// when missing (labctl writes its own before running make, and they must survive).

const MAKE_TIMEOUT_MS = 60_000;
const PASSWORD_FILES = ['db_root_password.txt', 'db_password.txt', 'wp_admin_password.txt', 'wp_user_password.txt'];

let workDir = '';
let projectDir = '';

async function makePrepare(vars: string[] = []): Promise<{ exitCode: number; output: string }> {
  const r = await execa('make', ['-C', projectDir, 'env', 'secrets', ...vars], { reject: false, all: true, timeout: MAKE_TIMEOUT_MS });
  return { exitCode: r.exitCode ?? -1, output: r.all ?? '' };
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'labctl-make-prepare-'));
  projectDir = join(workDir, 'inception');
  await copyComposeProject(projectDir);
});

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('make env secrets (compose/Makefile)', () => {
  it('refuses an invalid login and writes nothing', async () => {
    const r = await makePrepare(['LOGIN=Not_A_Login']);
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toMatch(/invalid login/);
    await expect(stat(join(projectDir, 'srcs', '.env'))).rejects.toThrow(/ENOENT/);
  });

  it('creates srcs/.env for the login and every secret, 0600, with a certificate for the domain', async () => {
    const r = await makePrepare(['LOGIN=jdoe']);
    expect(r.exitCode, r.output).toBe(0);
    const env = await readFile(join(projectDir, 'srcs', '.env'), 'utf8');
    expect(env).toMatch(/^LOGIN=jdoe$/m);
    expect(env).toMatch(/^DOMAIN_NAME=jdoe\.42\.fr$/m);
    expect(env).toMatch(/^DATA_PATH=\/home\/jdoe\/data$/m);
    expect(env).not.toContain('{{LOGIN}}');

    const secretsDir = join(projectDir, 'secrets');
    expect((await stat(secretsDir)).mode & 0o777).toBe(0o700);
    const passwords = new Set<string>();
    for (const name of [...PASSWORD_FILES, 'tls.crt', 'tls.key']) {
      expect((await stat(join(secretsDir, name))).mode & 0o777, name).toBe(0o600);
    }
    for (const name of PASSWORD_FILES) {
      const value = (await readFile(join(secretsDir, name), 'utf8')).trim();
      expect(value, name).toMatch(/^[A-Za-z0-9_-]{32}$/);
      passwords.add(value);
    }
    expect(passwords.size).toBe(PASSWORD_FILES.length);

    const cert = await execa('openssl', ['x509', '-in', join(secretsDir, 'tls.crt'), '-noout', '-subject', '-ext', 'subjectAltName']);
    expect(cert.stdout).toMatch(/CN\s*=\s*jdoe\.42\.fr/);
    expect(cert.stdout).toMatch(/DNS:jdoe\.42\.fr/);
    const certPublicKey = await execa('openssl', ['x509', '-in', join(secretsDir, 'tls.crt'), '-noout', '-pubkey']);
    const keyPublicKey = await execa('openssl', ['pkey', '-in', join(secretsDir, 'tls.key'), '-pubout']);
    expect(certPublicKey.stdout).toBe(keyPublicKey.stdout);
    expect((await execa('openssl', ['x509', '-in', join(secretsDir, 'tls.crt'), '-noout', '-checkend', '86400'])).exitCode).toBe(0);
  });

  it('never overwrites an existing srcs/.env or secret', async () => {
    const envFile = join(projectDir, 'srcs', '.env');
    const own = 'LOGIN=jdoe\nDOMAIN_NAME=jdoe.42.fr\nDATA_PATH=/home/jdoe/data\n# edited by hand\n';
    await writeFile(envFile, own);
    const secretsDir = join(projectDir, 'secrets');
    await writeFile(join(secretsDir, 'db_password.txt'), 'chosen-by-labctl\n', { mode: 0o600 });
    const before = await Promise.all(['tls.crt', 'tls.key', ...PASSWORD_FILES].map((n) => readFile(join(secretsDir, n), 'utf8')));

    const r = await makePrepare(['LOGIN=someoneelse']);
    expect(r.exitCode, r.output).toBe(0);
    expect(await readFile(envFile, 'utf8')).toBe(own);
    const after = await Promise.all(['tls.crt', 'tls.key', ...PASSWORD_FILES].map((n) => readFile(join(secretsDir, n), 'utf8')));
    expect(after).toEqual(before);
    expect(await readFile(join(secretsDir, 'db_password.txt'), 'utf8')).toBe('chosen-by-labctl\n');
  });

  it('creates only what is missing', async () => {
    const secretsDir = join(projectDir, 'secrets');
    await rm(join(secretsDir, 'wp_user_password.txt'));
    const r = await makePrepare();
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toMatch(/created .*wp_user_password\.txt/);
    expect(r.output).not.toMatch(/created .*db_password\.txt/);
    expect((await readFile(join(secretsDir, 'wp_user_password.txt'), 'utf8')).trim()).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
