import { describe, expect, it } from 'vitest';
import { commandsOf, judgePid1, shellWords, type ContextFile } from '../../check/pid1.js';

// Issue 16, weakness 1: M10 was decided by script names and a grep for exec anywhere. Each case is
// a small Dockerfile + build context of the kind found in students' projects, judged by what Docker
// would really start as PID 1.

const file = (path: string, text: string): ContextFile => ({ path, text, shown: `srcs/requirements/x/${path}` });

function judge(dockerfile: string, files: ContextFile[] = [], compose: { entrypoint?: string | string[]; command?: string | string[] } = {}) {
  return judgePid1({ dockerfile, context: files, composeEntrypoint: compose.entrypoint, composeCommand: compose.command });
}

const ENTRY_EXEC = file('tools/entrypoint.sh', '#!/bin/sh\nset -e\nmkdir -p /run/php\nexec "$@"\n');

describe('what becomes PID 1', () => {
  it.each([
    ['exec form, the daemon itself', 'FROM debian:bookworm\nCMD ["nginx", "-g", "daemon off;"]\n', []],
    ['an entrypoint that ends with exec "$@", the daemon as CMD', 'FROM debian:bookworm\nCOPY tools/entrypoint.sh /usr/local/bin/\nENTRYPOINT ["entrypoint.sh"]\nCMD ["php-fpm8.2", "-F"]\n', [ENTRY_EXEC]],
    ['a setup script (any name) that ends with exec of the daemon', 'FROM debian:bookworm\nCOPY ./tools/setup.sh /setup.sh\nCMD ["/setup.sh"]\n', [file('tools/setup.sh', '#!/bin/bash\nmysqld_safe &\nsleep 5\nmysql -e "CREATE DATABASE wp"\nmysqladmin shutdown\nexec mysqld --user=mysql\n')]],
    ['exec through setpriv', 'FROM debian:bookworm\nCOPY tools/entrypoint.sh /usr/local/bin/\nENTRYPOINT ["entrypoint.sh"]\nCMD ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "redis-server"]\n', [ENTRY_EXEC]],
    ['a multi-stage build: only the last stage counts', 'FROM debian:bookworm AS build\nCMD ["sh"]\nFROM debian:bookworm\nCMD ["mariadbd"]\n', []],
  ])('passes %s', (_label, dockerfile, files) => {
    expect(judge(dockerfile, files)).toMatchObject({ verdict: 'pass' });
  });

  it.each([
    ['a script ending "$@" without exec', 'FROM debian:bookworm\nCOPY conf/script.sh /\nENTRYPOINT ["/script.sh"]\nCMD ["nginx", "-g", "daemon off;"]\n', [file('conf/script.sh', '#!/bin/sh\necho start\n"$@"\n')], /without exec/],
    ['a script ending php-fpm7.4 -F without exec', 'FROM debian:bullseye\nCOPY tools/wp_init.sh /usr/local/bin/wp_init.sh\nCMD ["wp_init.sh"]\n', [file('tools/wp_init.sh', '#!/bin/bash\nwp core install\nphp-fpm7.4 -F\n')], /php-fpm7\.4 -F` without exec/],
    ['sh -c script.sh', 'FROM debian:bookworm\nCOPY tools/boot /boot\nCMD ["sh", "-c", "/boot"]\n', [file('tools/boot', '#!/bin/sh\nexec nginx -g "daemon off;"\n')], /sh -c ends with `\/boot` without exec/],
    ['shell form with two commands', 'FROM debian:bookworm\nCOPY a.sh /tmp/a.sh\nCMD /tmp/a.sh; mysqld\n', [file('a.sh', '#!/bin/sh\ntrue\n')], /without exec/],
    ['service start, then a ps loop', 'FROM debian:bookworm\nCOPY start.sh /\nCMD ["/start.sh"]\n', [file('start.sh', '#!/bin/bash\nservice mariadb start\nwhile ps aux | grep -q mysqld; do\n  sleep 60\ndone\n')], /ends in a loop/],
    ['mysqld & left running, then wait', 'FROM debian:bookworm\nCOPY run.sh /\nCMD ["bash", "/run.sh"]\n', [file('run.sh', 'mysqld &\nwait\n')], /ends waiting/],
    ['a bare shell', 'FROM debian:bookworm\nCMD ["bash"]\n', [], /bare shell/],
    ['tail -f as the command', 'FROM debian:bookworm\nCMD ["tail", "-f", "/dev/null"]\n', [], /only waits/],
  ])('fails %s', (_label, dockerfile, files, why) => {
    const v = judge(dockerfile, files);
    expect(v.verdict).toBe('fail');
    expect(v.reason).toMatch(why);
  });

  it("compose's command: and entrypoint: override the Dockerfile", () => {
    const dockerfile = 'FROM debian:bookworm\nCMD ["mariadbd"]\n';
    expect(judge(dockerfile, [], { command: 'tail -f /dev/null' })).toMatchObject({ verdict: 'fail', reason: expect.stringMatching(/only waits: tail -f \/dev\/null/), evidence: expect.stringMatching(/^compose command/) });
    // A new entrypoint drops the image's CMD: here it gets nothing to exec.
    expect(judge('FROM debian:bookworm\nCOPY tools/entrypoint.sh /usr/local/bin/\nCMD ["mariadbd"]\n', [ENTRY_EXEC], { entrypoint: ['entrypoint.sh'] })).toMatchObject({ verdict: 'fail', reason: expect.stringMatching(/given no command/) });
  });

  it('says what it cannot see instead of guessing', () => {
    expect(judge('FROM debian:bookworm\n')).toMatchObject({ verdict: 'skip' });
    expect(judge('FROM debian:bookworm\nCMD ["/missing.sh"]\n')).toMatchObject({ verdict: 'skip', reason: expect.stringMatching(/not a file of the build context/) });
  });
});

describe('shell reading', () => {
  it('splits words with quotes and commands outside quotes', () => {
    expect(shellWords(`nginx -g 'daemon off;'`)).toEqual(['nginx', '-g', 'daemon off;']);
    expect(shellWords('exec "$@"')).toEqual(['exec', '$@']);
    expect(commandsOf(`a; nginx -g 'daemon off;' && b & c`).map((c) => [c.text, c.background])).toEqual([
      ['a', false], [`nginx -g 'daemon off;'`, false], ['b', true], ['c', false],
    ]);
    expect(commandsOf('cmd --flag >/dev/null 2>&1').map((c) => c.words)).toEqual([['cmd', '--flag']]);
    expect(commandsOf('exec nginx # and a comment; tail -f').map((c) => c.words)).toEqual([['exec', 'nginx']]);
  });
});
