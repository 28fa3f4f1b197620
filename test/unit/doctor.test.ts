import { describe, expect, it } from 'vitest';
import { type Check, libvirtUri, preflightError, summaryLine, virshError } from '../../adapters/host-probes.js';
import { HostNotReadyError, NotFoundError } from '../../core/errors.js';

const ok: Check = { id: 'node', verdict: 'ok', summary: 'Node.js v22' };
const warn: Check = { id: 'accelerator', verdict: 'warn', summary: 'no kvm', fix: 'enable VT-x' };
const libvirt: Check = { id: 'libvirt', verdict: 'fail', summary: 'cannot connect to qemu:///system: Permission denied', fix: 'start libvirtd' };
const hosts: Check = { id: 'hosts-file', verdict: 'fail', summary: '/etc/hosts does not exist', fix: 'create it', missing: true };

describe('summaryLine', () => {
  it('no problems, warnings counted apart', () => {
    expect(summaryLine([ok])).toBe('no problems: create can run here');
    expect(summaryLine([ok, warn])).toBe('no problems: create can run here (1 warning: accelerator)');
  });

  it('problems with their summaries, in order', () => {
    expect(summaryLine([ok, libvirt, warn, hosts])).toBe(
      '2 problems: libvirt (cannot connect to qemu:///system: Permission denied), hosts-file (/etc/hosts does not exist); 1 warning: accelerator',
    );
    expect(summaryLine([hosts])).toBe('1 problem: hosts-file (/etc/hosts does not exist)');
  });
});

describe('preflightError', () => {
  it('nothing failed: no error, warnings do not stop create', () => {
    expect(preflightError([ok, warn])).toBeUndefined();
  });

  it('only missing things: NotFoundError with the first fix', () => {
    const error = preflightError([ok, hosts]);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error?.message).toBe('1 problem: hosts-file (/etc/hosts does not exist)');
    expect(error?.hint).toBe('create it');
  });

  it('any other failure: HostNotReadyError, warnings left out of the message', () => {
    const error = preflightError([libvirt, warn, hosts]);
    expect(error).toBeInstanceOf(HostNotReadyError);
    expect(error?.message).toBe('2 problems: libvirt (cannot connect to qemu:///system: Permission denied), hosts-file (/etc/hosts does not exist)');
    expect(error?.hint).toBe('start libvirtd');
  });
});

describe('virshError', () => {
  it('skips the generic first line for the cause', () => {
    expect(virshError("error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/run/libvirt/libvirt-sock': Permission denied\n")).toBe(
      "Failed to connect socket to '/run/libvirt/libvirt-sock': Permission denied",
    );
    expect(virshError('error: failed to connect to the hypervisor\n')).toBe('failed to connect to the hypervisor');
    expect(virshError('')).toBeUndefined();
  });
});

describe('libvirtUri', () => {
  it('LIBVIRT_DEFAULT_URI wins, as in vagrant-libvirt; empty means unset', () => {
    expect(libvirtUri({})).toBe('qemu:///system');
    expect(libvirtUri({ LIBVIRT_DEFAULT_URI: '' })).toBe('qemu:///system');
    expect(libvirtUri({ LIBVIRT_DEFAULT_URI: 'qemu:///session' })).toBe('qemu:///session');
  });
});
