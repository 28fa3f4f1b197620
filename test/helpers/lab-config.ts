import type { LabConfig } from '../../core/config.js';

/** The lab settings the SSH-target tests provision with; `over` names what a test changes. */
export function targetLabConfig(over: Partial<LabConfig> & Pick<LabConfig, 'name' | 'login'>): LabConfig {
  return {
    domain: `${over.login}.42.fr`,
    provider: 'libvirt',
    ip: '192.168.56.10',
    memory: 2048,
    cpus: 2,
    box: 'debian/trixie64',
    box_version: undefined,
    apt_mirror: undefined,
    apt_proxy: undefined,
    libvirt_driver: 'qemu',
    bonus: false,
    base_image: 'local',
    docker_source: 'debian',
    ...over,
  };
}
