import { describe, expect, it } from 'vitest';
import { NO_IMAGE, parseBuildkitPlain } from '../bench/buildkit.js';
import { parseDockerStatsMemory, provisioningSteps, sizeMiB, vagrantUpPhases } from '../bench/lab-parsers.js';

// The bench's readers of make.log (BuildKit plain progress), labctl.log and docker stats, on
// samples written for this test in the shape those tools print.

const COMPOSE_BUILD = `#0 building with "default" instance using docker driver

#1 [internal] load local bake definitions
#1 reading from stdin 1.02kB done
#1 DONE 0.0s

#2 [nginx internal] load build definition from Dockerfile
#2 transferring dockerfile: 412B done
#2 DONE 0.1s

#3 [mariadb internal] load build definition from Dockerfile
#3 transferring dockerfile: 390B done
#3 DONE 0.2s

#4 [nginx 1/4] FROM docker.io/library/debian:bookworm
#4 DONE 0.0s

#5 [nginx 2/4] RUN apt-get update && apt-get install -y --no-install-recommends nginx openssl && rm -rf /var/lib/apt/lists/*
#5 0.512 Get:1 http://deb.example/debian bookworm InRelease [151 kB]

#6 [mariadb 2/5] RUN apt-get update && apt-get install -y mariadb-server
#6 0.733 Get:1 http://deb.example/debian bookworm InRelease [151 kB]

#5 [nginx 2/4] RUN apt-get update && apt-get install -y --no-install-recommends nginx openssl && rm -rf /var/lib/apt/lists/*
#5 40.100 Setting up nginx (1.22.1-9) ...
#5 DONE 45.3s

#7 [nginx 3/4] COPY conf/nginx.conf /etc/nginx/nginx.conf
#7 CACHED

#6 [mariadb 2/5] RUN apt-get update && apt-get install -y mariadb-server
#6 DONE 61.7s

#8 [nginx] exporting to image
#8 exporting layers 1.2s done
#8 DONE 1.3s

#9 [mariadb 3/5] COPY tools/entrypoint.sh /usr/local/bin/
#9 ERROR: failed to compute cache key: "/tools/entrypoint.sh": not found
`;

describe('parseBuildkitPlain', () => {
  const images = parseBuildkitPlain(COMPOSE_BUILD);
  const byName = (name: string) => images.find((i) => i.image === name);

  it('groups the steps by the first word in the brackets, interleaved vertices included', () => {
    expect(images.map((i) => i.image)).toEqual([NO_IMAGE, 'nginx', 'mariadb']);
    expect(byName('nginx')?.steps.map((s) => [s.label, s.seconds, s.state])).toEqual([
      ['internal load build definition from Dockerfile', 0.1, 'done'],
      ['1/4 FROM docker.io/library/debian:bookworm', 0, 'done'],
      ['2/4 RUN apt-get update && apt-get install -y --no-install-r…', 45.3, 'done'],
      ['3/4 COPY conf/nginx.conf /etc/nginx/nginx.conf', 0, 'cached'],
      ['exporting to image', 1.3, 'done'],
    ]);
  });

  it("sums an image's DONE times; an error keeps the last elapsed time", () => {
    expect(byName('nginx')?.seconds).toBe(46.7);
    expect(byName('mariadb')?.seconds).toBe(61.9);
    expect(byName('mariadb')?.steps.at(-1)).toMatchObject({ state: 'error', label: '3/5 COPY tools/entrypoint.sh /usr/local/bin/' });
    expect(byName('nginx')?.wallSeconds).toBeUndefined();
  });

  it("keeps side-by-side builds apart by the Makefile's `<service> | ` prefix, though both number their steps from #1", () => {
    const text = [
      'mariadb | #1 [mariadb internal] load build definition from Dockerfile',
      'nginx | #1 [nginx internal] load build definition from Dockerfile',
      'nginx | #1 DONE 0.1s',
      'mariadb | #1 DONE 0.2s',
      'mariadb | #6 [mariadb stage-0 2/6] RUN apt-get update',
      'nginx | #6 [nginx stage-0 2/8] RUN apt-get update',
      'nginx | #6 DONE 47.9s',
      'mariadb | #6 12.5 Unpacking mariadb-server',
      'mariadb | #6 DONE 41.7s',
    ].join('\n');
    const parallel = parseBuildkitPlain(text);
    expect(parallel.map((i) => [i.image, i.seconds])).toEqual([
      ['mariadb', 41.9],
      ['nginx', 48],
    ]);
    expect(parallel[0]?.steps.map((s) => s.label)).toEqual(['internal load build definition from Dockerfile', 'stage-0 2/6 RUN apt-get update']);
  });

  it('takes a reused id after its vertex ended as a new step (a second build)', () => {
    const twice = parseBuildkitPlain('#5 [nginx 2/4] RUN a\n#5 DONE 3.0s\n#5 [nginx 2/4] RUN a\n#5 CACHED\n');
    expect(twice[0]?.steps.map((s) => s.state)).toEqual(['done', 'cached']);
    expect(twice[0]?.seconds).toBe(3);
  });

  it('gives the wall span when lines carry timestamps, and leaves an unfinished step unfinished', () => {
    const text = [
      '2026-12-05T10:00:00.000Z #4 [wordpress 2/3] RUN apt-get install -y php-fpm',
      '2026-12-05T10:00:01.000Z #5 [wordpress 3/3] COPY conf /etc/php',
      '2026-12-05T10:00:02.000Z #5 DONE 0.4s',
      '2026-12-05T10:00:30.500Z #4 29.900 done.',
      '2026-12-05T10:00:31.000Z #4 DONE 31.0s',
      '2026-12-05T10:00:32.000Z #6 [redis 1/2] RUN apt-get install -y redis',
      '2026-12-05T10:00:40.000Z #6 7.250 Unpacking redis …',
    ].join('\n');
    const [wordpress, redis] = parseBuildkitPlain(text);
    expect(wordpress).toMatchObject({ image: 'wordpress', seconds: 31.4, wallSeconds: 31 });
    expect(redis?.steps[0]).toMatchObject({ state: 'unfinished', seconds: 7.25 });
    expect(redis?.seconds).toBe(0);
  });

  it('returns nothing for text that is not BuildKit progress', () => {
    expect(parseBuildkitPlain('make: Nothing to be done for `all`.\n')).toEqual([]);
  });
});

const LAB_LOG = `2026-12-05T10:00:00.000Z step "lab state": ran in 12 ms
2026-12-05T10:00:00.100Z step "hosts entry": skipped (--no-hosts)
2026-12-05T10:00:00.200Z $ vagrant up --provider libvirt --no-provision
2026-12-05T10:00:04.200Z   Bringing machine 'default' up with 'libvirt' provider...
2026-12-05T10:00:05.000Z   ==> default: Checking if box 'labctl/trixie' version '0' is up to date...
2026-12-05T10:00:06.000Z   ==> default: Uploading base box image as volume into Libvirt storage...
2026-12-05T10:00:30.000Z   ==> default: Creating image (snapshot of base box volume).
2026-12-05T10:00:31.000Z   ==> default: Creating domain with the following settings...
2026-12-05T10:00:31.200Z   ==> default:  -- Name:              inception_default
2026-12-05T10:00:33.000Z   ==> default: Starting domain.
2026-12-05T10:00:35.000Z   ==> default: Waiting for domain to get an IP address...
2026-12-05T10:00:55.000Z   ==> default: Waiting for machine to boot. This may take a few minutes...
2026-12-05T10:00:55.500Z       default: SSH address: 192.168.121.5:22
2026-12-05T10:01:10.000Z   ==> default: Waiting for SSH to become available...
2026-12-05T10:01:40.000Z   ==> default: Machine booted and ready!
2026-12-05T10:01:41.000Z   ==> default: Setting hostname...
2026-12-05T10:01:50.000Z   ==> default: Machine not provisioned because \`--no-provision\` is specified.
2026-12-05T10:01:50.300Z vagrant up --provider libvirt --no-provision → exit 0 in 110100 ms
2026-12-05T10:01:50.400Z step "vagrant up": ran in 110200 ms
2026-12-05T10:20:00.000Z step "Build and start the stack (make)": failed after 900000 ms: make exited 2
`;

describe('labctl.log readers', () => {
  it("derives vagrant up's phases from the times of vagrant-libvirt's progress lines", () => {
    expect(vagrantUpPhases(LAB_LOG)).toEqual([
      { phase: 'vagrant start, box check', seconds: 5.8 },
      { phase: 'box upload into the libvirt pool', seconds: 24 },
      { phase: 'disk image (snapshot of the box volume)', seconds: 1 },
      { phase: 'domain creation', seconds: 2 },
      { phase: 'domain start', seconds: 2 },
      { phase: 'wait for an IP address', seconds: 20 },
      { phase: 'boot, wait for SSH', seconds: 45 },
      { phase: 'hostname, network, synced folders', seconds: 10.3 },
    ]);
  });

  it('reads the last vagrant up only, and nothing from a log without one', () => {
    const again = `${LAB_LOG}2026-12-05T11:00:00.000Z $ vagrant up --provider libvirt --no-provision\n2026-12-05T11:00:20.000Z   ==> default: Starting domain.\n2026-12-05T11:00:50.000Z vagrant up --provider libvirt --no-provision → exit 0 in 50000 ms\n`;
    expect(vagrantUpPhases(again)).toEqual([
      { phase: 'vagrant start, box check', seconds: 20 },
      { phase: 'domain start', seconds: 30 },
    ]);
    expect(vagrantUpPhases('step "lab state": ran in 1 ms\n')).toEqual([]);
  });

  it('lists the steps with their seconds, skipped and failed ones said so', () => {
    expect(provisioningSteps(LAB_LOG)).toEqual([
      { name: 'lab state', seconds: 0.012, note: '' },
      { name: 'hosts entry', seconds: 0, note: 'skipped' },
      { name: 'vagrant up', seconds: 110.2, note: '' },
      { name: 'Build and start the stack (make)', seconds: undefined, note: 'failed after 900.0 s' },
    ]);
  });
});

describe('docker stats memory', () => {
  it('sums the used part of each container, in MiB', () => {
    const rows = parseDockerStatsMemory('nginx 5.25MiB / 1.929GiB\nwordpress 98.1MiB / 1.929GiB\nmariadb 1.5GiB / 1.929GiB\nredis 512KiB / 1.929GiB\ngarbage line\n');
    expect(rows.map((r) => r.name)).toEqual(['nginx', 'wordpress', 'mariadb', 'redis']);
    expect(rows.map((r) => r.mib)).toEqual([5.25, 98.1, 1536, 0.5]);
  });

  it('reads decimal units and bytes too', () => {
    expect(sizeMiB('1MB')).toBeCloseTo(0.9537, 3);
    expect(sizeMiB('1048576B')).toBe(1);
    expect(sizeMiB('12 parsecs')).toBeUndefined();
  });
});
