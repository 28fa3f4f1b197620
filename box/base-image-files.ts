// Pure contents of the files labctl puts into the debian:bookworm base image (M03) on top of
// debootstrap's minbase. They are the conventions of Debian's own container images (no service
// starts during a build, no package cache in a layer) plus two that make every `apt-get install`
// of the lab's Dockerfiles cheaper where the guest is emulated: dpkg skips fsync, and it does not
// unpack documentation, manual pages or translations at all. compose/'s build-base-image.sh (the
// in-guest fallback) writes the same files; a unit test holds the two together.

/** Bump when a file below changes: hosts rebuild their cached tarball, and boxes their bake. */
export const BASE_IMAGE_RECIPE = 2;

export interface BaseImageFile {
  /** Relative to the image's root. */
  path: string;
  content: string;
  mode: '0644' | '0755';
}

/** The paths dpkg leaves out: what a container never reads (Debian's slim images leave out the same). */
export const DPKG_PATH_EXCLUDES = [
  'path-exclude=/usr/share/doc/*',
  // Licences stay: they are the one part of the documentation a redistributed image must keep.
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/groff/*',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
] as const;

export const BASE_IMAGE_FILES: readonly BaseImageFile[] = [
  {
    path: 'usr/sbin/policy-rc.d',
    // A build has no init system: package scripts must not try to start services.
    content: '#!/bin/sh\nexit 101\n',
    mode: '0755',
  },
  {
    path: 'etc/dpkg/dpkg.cfg.d/labctl-unsafe-io',
    // A failed build is thrown away whole, so dpkg's fsync after every file buys nothing; under
    // software emulation it is most of an install's time.
    content: 'force-unsafe-io\n',
    mode: '0644',
  },
  {
    path: 'etc/dpkg/dpkg.cfg.d/labctl-slim',
    content: `${DPKG_PATH_EXCLUDES.join('\n')}\n`,
    mode: '0644',
  },
  {
    path: 'etc/apt/apt.conf.d/docker-clean',
    content: [
      'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
      'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
      'Dir::Cache::pkgcache "";',
      'Dir::Cache::srcpkgcache "";',
      '',
    ].join('\n'),
    mode: '0644',
  },
  {
    path: 'etc/apt/apt.conf.d/labctl-no-languages',
    // `apt-get update` fetches no translated descriptions: nobody reads them in a build.
    content: 'Acquire::Languages "none";\n',
    mode: '0644',
  },
];

/**
 * What the image's root loses after debootstrap: the documentation, manual pages and translations
 * minbase already unpacked (the excludes above only apply to later installs), apt's caches and
 * lists, and what debootstrap copied from the build host. Paths relative to the root.
 */
export const BASE_IMAGE_PRUNE = {
  /** Emptied, the directory itself kept. */
  emptied: ['usr/share/man', 'usr/share/info', 'usr/share/groff', 'usr/share/lintian', 'var/lib/apt/lists', 'var/cache/apt/archives'],
  /** Removed. */
  removed: ['etc/hostname', 'etc/resolv.conf', 'debootstrap'],
} as const;
