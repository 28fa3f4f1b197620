import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { LabConfig } from './config.js';
import { packageRoot } from './paths.js';
import { LABCTL_VERSION } from './version.js';

// Under software emulation (libvirt driver qemu) a Debian guest needs minutes to reach SSH.
export const BOOT_TIMEOUT_SECONDS = 900;

/** Ruby double-quoted literal: escapes what Ruby would interpolate or end the string on. */
function rubyString(value: unknown): string {
  const s = String(value);
  return `"${s.replace(/[\\"#]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}

const engine = Handlebars.create();
engine.registerHelper('rubyString', rubyString);

let compiled: Handlebars.TemplateDelegate | undefined;

function template(): Handlebars.TemplateDelegate {
  compiled ??= engine.compile(readFileSync(join(packageRoot(), 'Vagrantfile.hbs'), 'utf8'), { strict: true, noEscape: true });
  return compiled;
}

/** Name of the libvirt network that carries the lab's private_network, per /24. */
export function libvirtNetworkName(ip: string): string {
  return `labctl-${ip.split('.').slice(0, 3).join('-')}`;
}

/** The Vagrantfile for a lab. Pure: the same config always renders the same text. */
export function renderVagrantfile(config: LabConfig): string {
  return template()({
    labctlVersion: LABCTL_VERSION,
    name: config.name,
    domain: config.domain,
    box: config.box,
    box_version: config.box_version ?? '',
    hostname: `${config.login}-${config.name}`.slice(0, 63),
    bootTimeoutSeconds: BOOT_TIMEOUT_SECONDS,
    ip: config.ip,
    memory: config.memory,
    cpus: config.cpus,
    isVirtualbox: config.provider === 'virtualbox',
    isLibvirt: config.provider === 'libvirt',
    vmName: `labctl-${config.name}`,
    vmPrefix: `labctl-${config.name}-`,
    libvirtNetworkName: libvirtNetworkName(config.ip),
    libvirt_driver: config.libvirt_driver,
    isQemuDriver: config.libvirt_driver === 'qemu',
    libvirtUri: config.libvirt_uri ?? '',
    bridge: config.bridge ?? '',
  });
}
