import type { Argv, CommandModule } from 'yargs';
import { BASE_IMAGE_MODES, DOCKER_SOURCES, LIBVIRT_DRIVERS, PROVIDERS, type RawConfig } from '../core/config.js';

// Lab settings shared by create and render. Every flag is read as a string and validated by
// core/config.ts, so a bad value gets the same one-line error (exit 3) whichever source it came
// from: the choices are listed in the help text, not given to yargs, whose own check would answer
// with a multi-line usage error instead.

export interface ConfigArgs {
  name?: string;
  login?: string;
  provider?: string;
  ip?: string;
  memory?: string;
  cpus?: string;
  box?: string;
  'box-version'?: string;
  'apt-mirror'?: string;
  'apt-proxy'?: string;
  'libvirt-driver'?: string;
  bonus?: boolean;
  'base-image'?: string;
  'docker-source'?: string;
  project?: string;
  'env-file'?: string;
  'secrets-dir'?: string;
  'libvirt-uri'?: string;
  bridge?: string;
}

export function withConfigOptions<T>(y: Argv<T>): Argv<T & ConfigArgs> {
  return y
    .positional('name', { type: 'string', describe: 'lab name; its state lives in $LABCTL_HOME/<name> [default: inception]' })
    // --name is what older scripts and LABCTL_NAME's docs use; the positional name wins when both are given.
    .option('name', { type: 'string', describe: 'the lab name, as an option (same as the positional name)', group: 'Lab:', hidden: true })
    .option('login', { type: 'string', describe: 'your 42 login: the site is https://<login>.42.fr (required)', group: 'Lab:' })
    .option('provider', { type: 'string', describe: `hypervisor: ${PROVIDERS.join('|')} [default: the one \`labctl doctor\` finds, VirtualBox first]`, group: 'Lab:' })
    .option('ip', { type: 'string', describe: 'fixed host-only IP of the VM [default: 192.168.56.10]', group: 'Lab:' })
    .option('env-file', { type: 'string', describe: "with --project: push this file as the project's srcs/.env (0600 in the VM) instead of leaving it to its make", group: 'Lab:' })
    .option('secrets-dir', { type: 'string', describe: "with --project: push this folder's files into the project's secrets/ (0600 in the VM)", group: 'Lab:' })
    .option('project', { type: 'string', describe: 'your own Inception project (the folder with Makefile and srcs/) instead of labctl\'s built-in one; pushed as git sees it, never secrets/ or srcs/.env', group: 'Lab:' })
    .option('bonus', { type: 'boolean', describe: 'also run the bonus services (B01–B05): Redis cache, FTPS on 21, static site at /site/, Adminer at /adminer/, status at /status/ [default: false]', group: 'Lab:' })
    .option('memory', { type: 'string', describe: 'VM memory in MiB [default: 2048]', group: 'VM:' })
    .option('cpus', { type: 'string', describe: 'VM CPUs [default: 2]', group: 'VM:' })
    .option('box', { type: 'string', describe: 'Vagrant box [default: debian/trixie64; offline: labctl box build]', group: 'VM:' })
    .option('box-version', { type: 'string', describe: 'box version constraint', group: 'VM:' })
    .option('libvirt-driver', { type: 'string', describe: `libvirt accelerator: ${LIBVIRT_DRIVERS.join('|')}; auto = kvm with hardware virtualization, else qemu [default: auto]`, group: 'VM:' })
    .option('libvirt-uri', { type: 'string', describe: "libvirt: run the VM on another machine's libvirt, e.g. qemu+ssh://root@host1/system (labctl class does this per student) [default: this machine's]", group: 'VM:' })
    .option('bridge', { type: 'string', describe: "libvirt: join the VM to the network of this interface of its host (macvtap) at --ip, instead of a host-only network, so that others on that network reach the lab", group: 'VM:' })
    .option('apt-mirror', { type: 'string', describe: 'Debian mirror URL for the guest [default: the box\'s own]', group: 'Guest:' })
    .option('apt-proxy', { type: 'string', describe: 'HTTP proxy for the guest\'s apt', group: 'Guest:' })
    .option('docker-source', { type: 'string', describe: `Docker from Debian packages or Docker's own apt repository: ${DOCKER_SOURCES.join('|')} [default: debian]`, group: 'Guest:' })
    .option('base-image', { type: 'string', describe: `debian:bookworm base: ${BASE_IMAGE_MODES.join('|')} (pull; build in the VM with debootstrap; pull else build in the VM; build once on this Linux host with debootstrap, as root or with sudo, and load it: the fastest under emulation) [default: auto]`, group: 'Guest:' }) as Argv<T & ConfigArgs>;
}

export function rawConfigFromArgs(args: ConfigArgs): RawConfig {
  return {
    name: args.name,
    login: args.login,
    provider: args.provider,
    ip: args.ip,
    memory: args.memory,
    cpus: args.cpus,
    box: args.box,
    box_version: args['box-version'],
    apt_mirror: args['apt-mirror'],
    apt_proxy: args['apt-proxy'],
    libvirt_driver: args['libvirt-driver'],
    bonus: args.bonus,
    base_image: args['base-image'],
    docker_source: args['docker-source'],
    project: args.project,
    env_file: args['env-file'],
    secrets_dir: args['secrets-dir'],
    libvirt_uri: args['libvirt-uri'],
    bridge: args.bridge,
  };
}

export interface GlobalArgs {
  verbose?: boolean;
  quiet?: boolean;
}

/** What a command module exports: its flags and its handler. Its word, aliases and description are
 * in cli/program.ts's table, so that listing the commands loads none of their modules. */
export type CommandHandlers<A> = Required<Pick<CommandModule<GlobalArgs, A>, 'builder' | 'handler'>>;

export function withLabName<T>(y: Argv<T>): Argv<T & { name?: string }> {
  return y.positional('name', { type: 'string', describe: 'lab name [default: the only lab, or inception]' }) as Argv<T & { name?: string }>;
}
