import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The shell scripts of compose/ (entrypoints, health checks, the Makefile's tools) through the real
// shellcheck, and the rule that keeps the helpers they copy from one another in step (DEV_DOC.md,
// "Entrypoint helpers"): no Docker needed, but shellcheck must be installed.

const COMPOSE_DIR = fileURLToPath(new URL('../../compose/', import.meta.url));
const SRCS = join(COMPOSE_DIR, 'srcs');
const MANDATORY_SERVICES = ['nginx', 'wordpress', 'mariadb'] as const;
// Helpers that several scripts carry: if this list shrank the identity rule could pass on nothing.
const KNOWN_SHARED_HELPERS = ['die', 'log', 'read_secret'];
// sh, bash or dash, directly or through env; any other interpreter is not shellcheck's business.
const SHELL_SHEBANG = /^#!\s*(?:\/usr\/bin\/env\s+)?(?:\/\S*\/)?(?:ba|da)?sh(?:\s|$)/;

/** Every regular file under dir, recursively, except the secrets (never read by tests). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (relative(COMPOSE_DIR, path) === 'secrets') return [];
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

const firstLine = (path: string): string => readFileSync(path, 'utf8').split('\n', 1)[0]!;
const rel = (path: string): string => relative(COMPOSE_DIR, path);

const allFiles = filesUnder(COMPOSE_DIR);
const scripts = allFiles.filter((path) => SHELL_SHEBANG.test(firstLine(path))).sort();
const scriptNames = scripts.map(rel);

/** The build contexts of every service of the compose file, bonus ones included. */
function buildContexts(): string[] {
  const compose = parse(readFileSync(join(SRCS, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { build?: string | { context?: string } }> };
  return Object.values(compose.services).map((service) => {
    const context = typeof service.build === 'string' ? service.build : service.build?.context;
    if (!context) throw new Error('every service of compose/ is built from its own folder');
    return join(SRCS, context);
  });
}

interface FunctionDefinition {
  name: string;
  text: string;
}

/**
 * The functions a script defines, as written: `name() { ...; }` on one line, or `name() {` at the
 * start of a line up to the next line that is exactly `}`.
 */
function functionsOf(text: string): FunctionDefinition[] {
  const lines = text.split('\n');
  const found: FunctionDefinition[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^([A-Za-z_]\w*)\(\) \{(.*)$/.exec(lines[i]!);
    if (!match) continue;
    if (match[2]!.trimEnd().endsWith('}')) {
      found.push({ name: match[1]!, text: lines[i]! });
      continue;
    }
    const end = lines.indexOf('}', i + 1);
    if (end < 0) throw new Error(`function ${match[1]} has no closing brace at the start of a line`);
    found.push({ name: match[1]!, text: lines.slice(i, end + 1).join('\n') });
    i = end;
  }
  return found;
}

describe('the shell scripts of compose/', () => {
  it('are found by their shebang, and include every entrypoint and health check', () => {
    expect(scripts.length).toBeGreaterThan(0);
    for (const name of MANDATORY_SERVICES) {
      expect(scriptNames).toContain(`srcs/requirements/${name}/tools/entrypoint.sh`);
    }
    for (const context of buildContexts()) {
      expect(scriptNames).toContain(rel(join(context, 'tools', 'entrypoint.sh')));
      expect(scriptNames).toContain(rel(join(context, 'tools', 'healthcheck.sh')));
    }
  });

  it('include every .sh file (a script without a shebang would escape shellcheck\'s dialect check)', () => {
    const shFiles = allFiles.filter((path) => path.endsWith('.sh')).map(rel).sort();
    expect(shFiles.length).toBeGreaterThan(0);
    expect(shFiles.filter((name) => !scriptNames.includes(name))).toEqual([]);
  });

  it('include every script the Makefile runs', () => {
    const makefile = readFileSync(join(COMPOSE_DIR, 'Makefile'), 'utf8');
    // make itself expands $(TOOLS), so the test follows however the Makefile composes it.
    const tools = execFileSync('make', ['-s', '--no-print-directory', '-C', COMPOSE_DIR, '--eval', 'labctl-print-tools: ; @echo $(TOOLS)', 'labctl-print-tools'], {
      encoding: 'utf8',
      env: { ...process.env, MAKEFLAGS: '' },
    }).trim();
    expect(tools).not.toBe('');
    const invoked = [...makefile.matchAll(/\b(?:ba)?sh \$\(TOOLS\)\/(\S+\.sh)\b/g)].map((m) => join(tools, m[1]!));
    expect(invoked.length).toBeGreaterThan(0);
    expect(invoked.filter((name) => !scriptNames.includes(name))).toEqual([]);
  });

  it('pass shellcheck', () => {
    // --norc: a ~/.shellcheckrc of whoever runs the tests must not switch checks off.
    const result = spawnSync('shellcheck', ['--norc', '--format=gcc', ...scripts], { cwd: COMPOSE_DIR, encoding: 'utf8' });
    if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      expect.fail('shellcheck is not installed: install the Debian package shellcheck (apt-get install shellcheck; .ci/host-packages.sh does it)');
    }
    expect(result.error).toBeUndefined();
    expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({ status: 0, output: '' });
  });
});

describe('helpers copied between scripts (DEV_DOC.md, "Entrypoint helpers")', () => {
  const definitions = new Map<string, { script: string; text: string }[]>();
  for (const script of scripts) {
    for (const fn of functionsOf(readFileSync(script, 'utf8'))) {
      definitions.set(fn.name, [...(definitions.get(fn.name) ?? []), { script: rel(script), text: fn.text }]);
    }
  }
  const shared = [...definitions].filter(([, copies]) => copies.length > 1);

  it('defines every function in the one shape the copies are compared in', () => {
    for (const script of scripts) {
      const text = readFileSync(script, 'utf8');
      const looksLikeOne = text.split('\n').filter((line) => /^\s*(?:function\s+[A-Za-z_]|[A-Za-z_]\w*\s*\(\s*\))/.test(line));
      expect(looksLikeOne.length, rel(script)).toBe(functionsOf(text).length);
    }
  });

  it('finds the known shared helpers in several scripts', () => {
    expect(shared.map(([name]) => name)).toEqual(expect.arrayContaining(KNOWN_SHARED_HELPERS));
  });

  it('keeps every function that more than one script defines byte-identical', () => {
    const differing = shared
      .filter(([, copies]) => new Set(copies.map((c) => c.text)).size > 1)
      .map(([name, copies]) => `${name}:\n${copies.map((c) => `  ${c.script}:\n    ${c.text.split('\n').join('\n    ')}`).join('\n')}`);
    expect(differing, 'copies differ; make them identical again (one edit, applied to every copy)').toEqual([]);
  });
});
