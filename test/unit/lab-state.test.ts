import { describe, expect, it } from 'vitest';
import { LAB_STATES, labStateFrom } from '../../core/lab-state.js';

describe('LabState from the provider\'s word (core/lab-state.ts)', () => {
  it.each([
    ['running', 'running'],
    ['poweroff', 'stopped'], // VirtualBox
    ['saved', 'stopped'],
    ['aborted', 'stopped'],
    ['shutoff', 'stopped'], // libvirt
    ['not_created', 'absent'],
    ['preparing', 'creating'],
    ['unknown', 'broken'],
    ['something new', 'broken'],
  ] as const)('%s → %s', (vm, state) => {
    expect(labStateFrom(vm, false)).toBe(state);
  });

  it('an unfinished create is `creating` whatever the VM does, unless the VM is broken', () => {
    expect(labStateFrom('running', true)).toBe('creating');
    expect(labStateFrom('not_created', true)).toBe('creating');
    expect(labStateFrom('unknown', true)).toBe('broken');
  });

  it('names exactly the five states', () => {
    expect([...LAB_STATES]).toEqual(['absent', 'creating', 'stopped', 'running', 'broken']);
  });
});
