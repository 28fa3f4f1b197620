import { describe, expect, it } from 'vitest';
import { machineIdPath, parseVBoxVmState, parseVirshDomstate } from '../../adapters/provider-state.js';
import { labStateFrom } from '../../core/lab-state.js';
import { labPaths, sshControlPath, UNIX_SOCKET_PATH_MAX } from '../../core/paths.js';
import { sshControlOptions } from '../../core/ssh-control.js';

// Recorded output, written for this repository from virsh 9 and VBoxManage 7 as they print it.

const VBOX_RUNNING = `name="inception-labctl"
Encryption=off
groups="/"
ostype="Debian (64-bit)"
UUID="0b3b7f0e-2a57-4f3e-9a0c-6f1c2d3e4f50"
memory=2048
VMState="running"
VMStateChangeTime="2026-01-10T09:12:44.123000000"
GraphicsControllerType="vmsvga"
`;

describe('virsh domstate → vagrant-libvirt words', () => {
  it.each([
    ['running\n\n', 'running'],
    ['shut off\n\n', 'shutoff'],
    ['paused\n', 'paused'],
    ['in shutdown\n', 'shutting_down'],
    ['crashed\n', 'crashed'],
    ['pmsuspended\n', 'pmsuspended'],
    ['running (booted)\n', 'running'],
    ['shut off (destroyed)\n', 'shutoff'],
  ])('%j → %s', (output, word) => {
    expect(parseVirshDomstate(output)).toBe(word);
  });

  it('words vagrant is left to interpret (idle, no state) and noise are undefined', () => {
    expect(parseVirshDomstate('idle\n')).toBeUndefined();
    expect(parseVirshDomstate('no state\n')).toBeUndefined();
    expect(parseVirshDomstate('')).toBeUndefined();
    expect(parseVirshDomstate('qemu:///system\n')).toBeUndefined();
  });

  it('each word maps to the lab state vagrant status would give', () => {
    expect(labStateFrom(parseVirshDomstate('shut off\n') ?? '', false)).toBe('stopped');
    expect(labStateFrom(parseVirshDomstate('in shutdown\n') ?? '', false)).toBe('stopped');
    expect(labStateFrom(parseVirshDomstate('running\n') ?? '', false)).toBe('running');
  });
});

describe('VBoxManage showvminfo --machinereadable → VMState', () => {
  it('reads VMState, not VMStateChangeTime', () => {
    expect(parseVBoxVmState(VBOX_RUNNING)).toBe('running');
    expect(parseVBoxVmState(VBOX_RUNNING.replace('VMState="running"', 'VMState="poweroff"'))).toBe('poweroff');
    expect(parseVBoxVmState(VBOX_RUNNING.replace('VMState="running"', 'VMState="saved"'))).toBe('saved');
  });

  it('transient or unknown states and missing lines are undefined (vagrant is asked)', () => {
    expect(parseVBoxVmState(VBOX_RUNNING.replace('VMState="running"', 'VMState="starting"'))).toBeUndefined();
    expect(parseVBoxVmState('name="<inaccessible>"\n')).toBeUndefined();
  });
});

describe('where the machine id and the control socket live', () => {
  it('the id is where vagrant keeps machine "default" in the lab directory', () => {
    expect(machineIdPath({ dir: '/h/lab' }, 'libvirt')).toBe('/h/lab/.vagrant/machines/default/libvirt/id');
  });

  it('the control socket is in the lab directory, and absent when the path would not fit sun_path', () => {
    expect(labPaths('lab', { LABCTL_HOME: '/h' }).sshControl).toBe('/h/lab/ssh.sock');
    const long = `/${'d'.repeat(UNIX_SOCKET_PATH_MAX)}`;
    expect(labPaths('lab', { LABCTL_HOME: long }).sshControl).toBeUndefined();
    // ssh binds <path>.<16 random characters> first: the limit counts that suffix.
    const fits = (n: number) => sshControlPath(`/${'d'.repeat(n)}`);
    const lengths = Array.from({ length: 120 }, (_, n) => n).filter((n) => fits(n) !== undefined);
    expect(Buffer.byteLength(fits(lengths.at(-1) ?? 0) ?? '') + 17).toBe(UNIX_SOCKET_PATH_MAX - 1);
    expect(sshControlPath('/a"b')).toBeUndefined();
  });

  it('no socket: no multiplexing options; a path with % and spaces is quoted for ssh', () => {
    expect(sshControlOptions({ sshControl: undefined })).toEqual([]);
    expect(sshControlOptions({ sshControl: '/h/50% x/ssh.sock' })).toContain('ControlPath="/h/50%% x/ssh.sock"');
  });
});
