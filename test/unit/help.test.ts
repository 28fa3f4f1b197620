import { describe, expect, it } from 'vitest';
import { commandsIn, COMMANDS, program, topLevelHelp } from '../../cli/program.js';

// `labctl --help` is printed by cli/help.ts without yargs (issue 17). It must be what yargs would
// print: compared here byte for byte at every width cli/program.ts can give yargs (1 to 110).

describe('the top-level help without yargs', () => {
  it('is byte-equal to yargs\' help at every width from 1 to 110 columns', async () => {
    const differing: number[] = [];
    for (let wrap = 1; wrap <= 110; wrap++) {
      const fromYargs = await (await program(['--help'], wrap)).getHelp();
      if (topLevelHelp(wrap) !== fromYargs) differing.push(wrap);
    }
    expect(differing).toEqual([]);
    // The comparison means something only if yargs printed the full screen.
    const help = topLevelHelp(100);
    for (const c of COMMANDS) expect(help).toContain(`labctl ${c.command}`);
    expect(help).toMatch(/labctl completion/);
    expect(help).toMatch(/-V, -v, --version/);
  });

  it('lists every command module in cli/commands/', async () => {
    const { readdir } = await import('node:fs/promises');
    const files = (await readdir(new URL('../../cli/commands/', import.meta.url))).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
    expect(COMMANDS.map((c) => c.command.split(' ')[0]).sort()).toEqual(files.sort());
  });
});

describe('the commands whose modules load', () => {
  it.each([
    [['status'], ['status']],
    [['--verbose', '-q', 'list', 'lab2'], ['status']],
    [['--login', 'jdoe', 'create'], ['create']],
    [['ssh', 'lab2', '--', 'status'], ['ssh', 'status']],
    [['--get-yargs-completions', 'labctl', 'create', '--lo'], ['create']],
    [['--help'], []],
    [['nosuch'], []],
  ])('%j → %j', (argv, words) => expect(commandsIn(argv).map((c) => c.command.split(' ')[0])).toEqual(words));
});
