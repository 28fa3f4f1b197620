// Pure contents of the files the box recipe writes into the guest and into the box archive. No I/O
// here, so each can be checked by a unit test.

/** Virtual disk size in GiB: room for Docker's images and the lab's volumes. The qcow2 stays sparse. */
export const DISK_SIZE_GIB = 20;

/** Packages on top of debootstrap's minbase: boot, SSH for Vagrant, sudo, networking. */
export const BASE_PACKAGES = [
  'systemd-sysv',
  // systemd-networkd is part of `systemd`; resolved writes /etc/resolv.conf from the DHCP answer.
  'systemd-resolved',
  'dbus',
  'linux-image-amd64',
  'grub-pc',
  'openssh-server',
  'sudo',
  'iproute2',
  'iputils-ping',
  'ca-certificates',
  'netbase',
  'kmod',
  'procps',
  'less',
  'rsync',
] as const;

/** `--bake` adds the container engine the lab's provisioning would otherwise install. */
export const BAKED_PACKAGES = ['docker.io', 'docker-cli', 'docker-buildx', 'docker-compose', 'make'] as const;

export const VAGRANT_USER = 'vagrant';

/** The base image the lab's Dockerfiles start FROM (SUBJECT M03: the penultimate stable Debian). */
export const BASE_IMAGE_SUITE = 'bookworm';
export const BASE_IMAGE_TAG = `debian:${BASE_IMAGE_SUITE}`;
/** Where a baked box keeps the base image's rootfs tarball until its first boot imports it. */
export const BASE_IMAGE_TARBALL = `/var/lib/labctl/base-images/debian-${BASE_IMAGE_SUITE}.tar`;

/**
 * `docker import` needs a running dockerd, which a build chroot does not have: the baked box
 * imports the tarball on its first boot, then deletes it. CMD matches the official image's.
 */
export function importBaseImageUnit(): string {
  return [
    '[Unit]',
    `Description=Import ${BASE_IMAGE_TAG} baked into the box (labctl)`,
    'After=docker.service',
    'Requires=docker.service',
    `ConditionPathExists=${BASE_IMAGE_TARBALL}`,
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=/usr/bin/docker import --change "CMD [\\"bash\\"]" ${BASE_IMAGE_TARBALL} ${BASE_IMAGE_TAG}`,
    `ExecStartPost=/usr/bin/rm -f ${BASE_IMAGE_TARBALL}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Keeps package maintainer scripts from starting daemons inside the build chroot. */
export const POLICY_RC_D = '#!/bin/sh\n# labctl box build: no daemons in the chroot\nexit 101\n';

/**
 * DHCP on every Ethernet NIC, whatever it is named (eth0 with net.ifnames=0, ens5/enp0s5 otherwise).
 * Named 99- so that Vagrant's own 50-vagrant-<nic>.network (written for a private_network when the
 * guest runs systemd-networkd, see vagrant's guests/debian/cap/configure_networks.rb) takes
 * precedence for the NICs it configures statically.
 */
export function dhcpNetworkUnit(): string {
  return ['[Match]', 'Name=en* eth*', '', '[Network]', 'DHCP=ipv4', 'LinkLocalAddressing=no', '', '[DHCPv4]', 'UseDomains=yes', ''].join(
    '\n',
  );
}

/**
 * Host keys are deleted from the image so that no two VMs share them; this regenerates the missing
 * ones before sshd starts. Works on any suite (trixie's own sshd-keygen.service relies on
 * ConditionFirstBoot, which bookworm lacks).
 */
export function hostKeysUnit(): string {
  return [
    '[Unit]',
    'Description=Generate missing SSH host keys (labctl box)',
    'Before=ssh.service',
    'ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key',
    '',
    '[Service]',
    'Type=oneshot',
    'ExecStart=/usr/bin/ssh-keygen -A',
    '',
    '[Install]',
    'WantedBy=ssh.service',
    '',
  ].join('\n');
}

/**
 * The DHCP unit also matches the private_network NIC, which never gets a lease (Vagrant sets its
 * address later): waiting for *any* configured link keeps network-online.target (which docker.service
 * waits for) from hanging two minutes on every boot before Vagrant's static file exists.
 */
export function waitOnlineDropIn(): string {
  return ['[Service]', 'ExecStart=', 'ExecStart=/usr/lib/systemd/systemd-networkd-wait-online --any --timeout=60', ''].join('\n');
}

export function sudoersFile(user = VAGRANT_USER): string {
  return `${user} ALL=(ALL) NOPASSWD: ALL\nDefaults:${user} !requiretty\n`;
}

export function fstab(rootUuid: string): string {
  return `UUID=${rootUuid} / ext4 errors=remount-ro 0 1\n`;
}

/** Kernel command line: serial console for `virsh console` and the libvirt log, plus the screen. */
export const KERNEL_CMDLINE = 'console=tty0 console=ttyS0,115200n8';

/**
 * /etc/default/grub, so that update-grub inside the running VM (after a kernel upgrade) produces
 * the same serial-console configuration as the one written at build time.
 */
export function grubDefaults(): string {
  return [
    'GRUB_DEFAULT=0',
    'GRUB_TIMEOUT=1',
    'GRUB_DISTRIBUTOR=Debian',
    `GRUB_CMDLINE_LINUX_DEFAULT=""`,
    `GRUB_CMDLINE_LINUX="${KERNEL_CMDLINE}"`,
    'GRUB_TERMINAL="serial console"',
    'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"',
    '',
  ].join('\n');
}

/**
 * The first grub.cfg, written by hand: grub-mkconfig in a chroot on the build host would find the
 * loop device (no udev, no /dev/disk/by-uuid) and put `root=/dev/loopNp1` on the kernel line. The
 * /vmlinuz and /initrd.img symlinks are maintained by Debian's kernel packages.
 */
export function grubConfig(rootUuid: string): string {
  return [
    'set timeout=1',
    'serial --unit=0 --speed=115200',
    'terminal_input serial console',
    'terminal_output serial console',
    `search --no-floppy --fs-uuid --set=root ${rootUuid}`,
    "menuentry 'Debian GNU/Linux' {",
    `  linux /vmlinuz root=UUID=${rootUuid} ro ${KERNEL_CMDLINE}`,
    '  initrd /initrd.img',
    '}',
    '',
  ].join('\n');
}

/** The box's metadata.json (vagrant-libvirt box format v1). `labctl_build` lets us detect a stale add. */
export function boxMetadata(buildId: string, virtualSizeGiB = DISK_SIZE_GIB): string {
  return `${JSON.stringify({ provider: 'libvirt', format: 'qcow2', virtual_size: virtualSizeGiB, labctl_build: buildId }, null, 2)}\n`;
}

/**
 * The Vagrantfile shipped inside the box. Debian images carry no NFS client and labs need no share,
 * so the default /vagrant folder is off; the lab's own Vagrantfile sets driver, CPU and networks.
 */
export function boxVagrantfile(): string {
  return [
    '# Built by labctl (box/). Defaults for every VM made from this box.',
    'Vagrant.configure("2") do |config|',
    '  config.vm.synced_folder ".", "/vagrant", disabled: true',
    '  config.vm.provider :libvirt do |libvirt|',
    '    libvirt.disk_bus = "virtio"',
    '    libvirt.graphics_type = "none"',
    '  end',
    'end',
    '',
  ].join('\n');
}

/** `labctl/trixie` or `labctl/trixie-baked`. */
export function boxName(suite: string, bake: boolean): string {
  return `labctl/${suite}${bake ? '-baked' : ''}`;
}
