import { describe, expect, it } from 'vitest';
import type { LabConfig } from '../../core/config.js';
import { CREATE_STEPS, runCreateSteps, type CreateRun, type CreateStep } from '../../usecases/create.js';
import { tempDir } from '../helpers/temp.js';

// The runner of create's runbook on steps made here: order, skip, the lock, and undo up to the
// first step that keeps what exists.

async function run(steps: CreateStep[]): Promise<{ events: string[]; error?: unknown }> {
  const home = await tempDir('labctl-runbook-');
  const r: CreateRun = {
    opts: { flags: {}, env: { LABCTL_HOME: home }, cwd: home, hosts: false, yes: true, provision: false, provisionOptions: { renderer: 'silent', probeUrl: false } },
    reporter: { info: () => {}, warn: () => {}, streamTools: false },
    config: { name: 'runbook' } as LabConfig,
    existed: false,
    hostsWritten: false,
  };
  const events: string[] = [];
  try {
    await runCreateSteps(steps.map((s) => ({ ...s, run: async (x) => { events.push(`run ${s.title}`); await s.run(x); }, undo: async () => { events.push(`undo ${s.title}`); } })), r);
    return { events };
  } catch (error) {
    return { events, error };
  }
}

const step = (title: string, extra: Partial<CreateStep> = {}): CreateStep => ({ title, locked: false, skip: () => false, run: async () => {}, ...extra });
const failing = (title: string, extra: Partial<CreateStep> = {}): CreateStep => step(title, { ...extra, run: async () => { throw new Error(`${title} broke`); } });

describe('create as a runbook (usecases/create.ts)', () => {
  it('names its steps in the documented order', () => {
    expect(CREATE_STEPS.map((s) => s.title)).toEqual(['settings', 'conflicts with other labs', 'preflight', 'lab state', 'hosts entry', 'vagrant up', 'ssh target', 'provisioning']);
    // Reading and checking come before the lock; from the state on, everything holds it.
    expect(CREATE_STEPS.map((s) => s.locked)).toEqual([false, false, false, true, true, true, true, true]);
  });

  it('runs steps in order and leaves out a skipped one', async () => {
    const { events, error } = await run([step('a'), step('b', { skip: () => 'not asked' }), step('c', { locked: true })]);
    expect(error).toBeUndefined();
    expect(events).toEqual(['run a', 'run c']);
  });

  it('a failure before the VM exists undoes what was done, newest first', async () => {
    const { events, error } = await run([step('a'), step('b', { locked: true }), failing('c', { locked: true })]);
    expect((error as Error).message).toBe('c broke');
    expect(events).toEqual(['run a', 'run b', 'run c', 'undo b', 'undo a']);
  });

  it('from a step that keeps what exists on, a failure undoes nothing (create is resumable)', async () => {
    const { events, error } = await run([step('a', { locked: true }), step('up', { locked: true, keepsOnFailure: true }), failing('after', { locked: true })]);
    expect((error as Error).message).toBe('after broke');
    expect(events).toEqual(['run a', 'run up', 'run after']);
  });
});
