import { cp, mkdir, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { labctl } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

// `labctl check --static DIR` on untrusted student repositories (issue 13): each row is labctl's
// own compose/ made hostile in one way, checked with the built binary. Whatever the project does,
// the run ends, prints no file from outside the project, and never fails as an internal error.

const COMPOSE = resolve(import.meta.dirname, '..', '..', 'compose');
const FILE = 'srcs/docker-compose.yml';
const TOKEN = 'ghp_TOKEN_must_never_be_printed_4242';

interface Case {
  name: string;
  /** Makes the project (dir) hostile; outside is a folder beside it, not part of the project. */
  make: (dir: string, outside: string) => Promise<void>;
  /** What the output must say (a regular expression over stdout + stderr). */
  says: RegExp;
  /** undefined: any non-zero code (the check-failed code or a usage error, never a crash). */
  exit?: 'zero' | 'any';
}

async function copyProject(): Promise<{ dir: string; outside: string }> {
  const base = await tempDir('labctl-hostile-');
  const dir = join(base, 'project');
  const outside = join(base, 'outside');
  await cp(COMPOSE, dir, { recursive: true, filter: (src) => !src.includes(`${COMPOSE}/secrets/`) });
  await mkdir(join(dir, 'secrets'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'token.txt'), `${TOKEN}\n`);
  await writeFile(join(outside, 'Dockerfile'), `FROM debian:bookworm\n# ${TOKEN}\nRUN echo ${TOKEN}\nENV API_PASSWORD=${TOKEN}\n`);
  return { dir, outside };
}

async function editCompose(dir: string, change: (text: string) => string): Promise<void> {
  const path = join(dir, FILE);
  const before = await readFile(path, 'utf8');
  const after = change(before);
  if (after === before) throw new Error('fixture edit changed nothing');
  await writeFile(path, after);
}

/** A compose file that is only `services:` with the given YAML under it (indented by the caller). */
const composeOf = (dir: string, yaml: string) => writeFile(join(dir, FILE), yaml);

const cases: Case[] = [
  {
    name: 'dockerfile: ../../outside/Dockerfile holding a token',
    // As filed: relative to srcs/, two levels up is the folder that holds the project.
    make: (d) => editCompose(d, (t) => t.replace('context: ./requirements/nginx', 'context: .\n      dockerfile: ../../outside/Dockerfile')),
    says: /M01\.dockerfile-nginx.*outside the project/,
  },
  {
    name: 'build.context: ../../outside',
    make: (d) => editCompose(d, (t) => t.replace('context: ./requirements/mariadb', 'context: ../../outside')),
    says: /M01\.dockerfile-mariadb.*outside the project/,
  },
  {
    name: 'an absolute dockerfile path (/etc/passwd)',
    make: (d) => editCompose(d, (t) => t.replace('context: ./requirements/wordpress', 'context: ./requirements/wordpress\n      dockerfile: /etc/passwd')),
    says: /M01\.dockerfile-wordpress.*outside the project/,
  },
  {
    name: 'README.md a symlink to a token file outside',
    make: async (d, o) => {
      await rm(join(d, 'README.md'));
      await symlink(join(o, 'token.txt'), join(d, 'README.md'));
    },
    says: /M14\.readme .*README\.md is not read: a link to a file outside the project/,
  },
  {
    name: 'a script under srcs/requirements linked to a token file outside',
    make: (d, o) => symlink(join(o, 'token.txt'), join(d, 'srcs/requirements/nginx/tools/leak.sh')),
    says: /P00\.skipped-files.*outside the project.*leak\.sh/,
  },
  {
    name: 'srcs/requirements/nginx/conf a linked folder outside',
    make: async (d, o) => {
      await mkdir(join(o, 'conf'));
      await writeFile(join(o, 'conf', 'secret.conf'), `ssl_protocols TLSv1.2; # ${TOKEN}\n`);
      await rm(join(d, 'srcs/requirements/nginx/conf'), { recursive: true });
      await symlink(join(o, 'conf'), join(d, 'srcs/requirements/nginx/conf'));
    },
    says: /P00\.skipped-files.*outside the project/,
  },
  {
    name: 'the compose file a link to a file outside',
    make: async (d, o) => {
      await writeFile(join(o, 'compose.yml'), `services: {}\n# ${TOKEN}\n`);
      await rm(join(d, FILE));
      await symlink(join(o, 'compose.yml'), join(d, FILE));
    },
    says: /docker-compose\.yml is not read: a link to a file outside the project/,
  },
  {
    name: 'the Makefile a FIFO',
    make: async (d) => {
      await rm(join(d, 'Makefile'));
      await execa('mkfifo', [join(d, 'Makefile')]);
    },
    says: /M01\.makefile .*not a regular file \(a FIFO\)/,
  },
  {
    name: 'a FIFO among the nginx files',
    make: (d) => execa('mkfifo', [join(d, 'srcs/requirements/nginx/conf/pipe.conf')]).then(() => undefined),
    says: /P00\.skipped-files.*not a regular file/,
    exit: 'zero',
  },
  {
    name: 'the Dockerfile a link to /dev/zero',
    make: async (d) => {
      await rm(join(d, 'srcs/requirements/nginx/Dockerfile'));
      await symlink('/dev/zero', join(d, 'srcs/requirements/nginx/Dockerfile'));
    },
    says: /M01\.dockerfile-nginx.*is not read: a link to a file outside the project/,
  },
  {
    name: 'a 200 MB compose file (sparse)',
    make: async (d) => {
      const fh = await open(join(d, FILE), 'w');
      await fh.truncate(200 * 1024 * 1024);
      await fh.close();
    },
    says: /docker-compose\.yml is not read: larger than 1024 KiB/,
  },
  {
    name: 'a 2 MB script (too large, skipped and said so)',
    make: (d) => writeFile(join(d, 'srcs/requirements/nginx/tools/big.sh'), `#!/bin/sh\n${'# padding\n'.repeat(210_000)}`),
    says: /P00\.skipped-files.*too large.*big\.sh/,
    exit: 'zero',
  },
  {
    name: 'a compose file of one 512 KiB line',
    make: (d) => composeOf(d, `{x-pad: ${JSON.stringify('PASS'.repeat(128 * 1024))}, services: {}}`),
    says: /M02\.service-nginx/,
  },
  {
    name: 'a Dockerfile with one 256 KiB line',
    make: (d) => writeFile(join(d, 'srcs/requirements/nginx/Dockerfile'), `FROM debian:bookworm\nRUN ${'PASS'.repeat(64 * 1024)}\nENV X=${'${A-'.repeat(16 * 1024)}\n`),
    says: /M03\.from-nginx/,
    exit: 'zero',
  },
  {
    name: 'an entrypoint with one 256 KiB line of blanks',
    make: (d) => writeFile(join(d, 'srcs/requirements/nginx/tools/entrypoint.sh'), `#!/bin/sh\n${' '.repeat(256 * 1024)}x\nexec nginx -g 'daemon off;'\n`),
    says: /M10\.pid1-nginx/,
    exit: 'zero',
  },
  { name: 'services.x: null', make: (d) => composeOf(d, 'services:\n  x: null\n'), says: /docker-compose\.yml: services\.x: expected a mapping/ },
  { name: 'services a list', make: (d) => composeOf(d, 'services: [a, b]\n'), says: /docker-compose\.yml: services: expected a mapping of service names/ },
  { name: 'ports: "443"', make: (d) => composeOf(d, 'services:\n  nginx:\n    ports: "443"\n'), says: /services\.nginx\.ports: expected a list.*got the string "443"/ },
  { name: 'build: 5', make: (d) => composeOf(d, 'services:\n  nginx:\n    build: 5\n'), says: /services\.nginx\.build: expected a path or a mapping.*got the number 5/ },
  { name: 'volumes: 3', make: (d) => composeOf(d, 'services:\n  mariadb:\n    volumes: 3\n'), says: /services\.mariadb\.volumes: expected a list/ },
  { name: 'image: a number', make: (d) => composeOf(d, 'services:\n  nginx:\n    image: 1.5\n'), says: /services\.nginx\.image: expected a string/ },
  { name: 'the compose file a scalar', make: (d) => composeOf(d, '"just a string"\n'), says: /docker-compose\.yml: the file: expected a mapping/ },
  { name: 'a duplicate key', make: (d) => composeOf(d, 'services: {}\nservices: {}\n'), says: /the key "services" appears twice/ },
  { name: 'nested block sequences 128k deep', make: (d) => composeOf(d, '- '.repeat(128 * 1024)), says: /docker-compose\.yml is not valid YAML/ },
  {
    name: 'an alias bomb',
    make: (d) => composeOf(d, ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${'bcdefghij'[i]}: &${'bcdefghij'[i]} [${Array.from({ length: 9 }, () => `*${i === 0 ? 'a' : 'bcdefghij'[i - 1]}`).join(',')}]`)].join('\n')),
    says: /docker-compose\.yml is not valid YAML/,
  },
  {
    name: 'nginx.conf beyond the 2,000-file limit',
    make: async (d) => {
      // Shallower than nginx/conf/nginx.conf, so the breadth-first walk reads these first.
      const many = join(d, 'srcs/requirements/aaa');
      await mkdir(many);
      await Promise.all(Array.from({ length: 2_050 }, (_, i) => writeFile(join(many, `f${String(i).padStart(4, '0')}.txt`), 'x\n')));
    },
    says: /P00\.skipped-files +\d+ file\(s\) skipped, not read: \d+ beyond the 2000-file limit/,
    exit: 'any',
  },
];

describe('labctl check --static on hostile projects', () => {
  it.each(cases)('$name', async ({ make, says, exit }) => {
    const { dir, outside } = await copyProject();
    await make(dir, outside);
    const r = await labctl(['check', '--static', dir]);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).not.toContain(TOKEN);
    expect(out).not.toMatch(/internal error/);
    expect(out).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/); // no stack trace
    expect(out).toMatch(says);
    if (exit === 'zero') expect(r.exitCode).toBe(0);
    else if (exit === undefined) expect(r.exitCode).not.toBe(0);
    expect(r.exitCode).toBeGreaterThanOrEqual(0); // not killed by the timeout
    // Every line the user reads stays a line, whatever a file held.
    expect(Math.max(...out.split('\n').map((l) => l.length))).toBeLessThan(2_000);
    await rm(dir, { recursive: true, force: true });
  });

  it('still passes labctl\'s own compose/', async () => {
    const r = await labctl(['check', '--static', COMPOSE]);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(r.exitCode).toBe(0);
  });
});
