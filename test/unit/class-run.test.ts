import { describe, expect, it } from 'vitest';
import type { ClassSpec } from '../../core/class-file.js';
import { createArgs, progressLine } from '../../usecases/class-create.js';
import { childError, limiter, perKeyPool } from '../../usecases/class-run.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('class mode drivers', () => {
  it('limiter never runs more than n at once, and runs them all', async () => {
    const limit = limiter(2);
    let running = 0;
    let peak = 0;
    const done = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        limit(async () => {
          running += 1;
          peak = Math.max(peak, running);
          await tick();
          running -= 1;
          return i;
        }),
      ),
    );
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(peak).toBe(2);
  });

  it('perKeyPool bounds each key separately, keys side by side, results in order', async () => {
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const items = ['a1', 'b1', 'a2', 'a3', 'b2'];
    const out = await perKeyPool(items, (i) => i[0] ?? '', (k) => (k === 'a' ? 2 : 1), async (i) => {
      const k = i[0] ?? '';
      running.set(k, (running.get(k) ?? 0) + 1);
      peak.set(k, Math.max(peak.get(k) ?? 0, running.get(k) ?? 0));
      await tick();
      running.set(k, (running.get(k) ?? 0) - 1);
      return i.toUpperCase();
    });
    expect(out).toEqual(['A1', 'B1', 'A2', 'A3', 'B2']);
    expect(Object.fromEntries(peak)).toEqual({ a: 2, b: 1 });
  });

  it("childError takes labctl's one-line error, else the last line", () => {
    expect(childError({ ok: false, code: 6, stdout: '', stderrTail: 'step x\nlabctl: vagrant up failed with exit code 1\n  fix: see the log', seconds: 1 })).toBe('vagrant up failed with exit code 1');
    expect(childError({ ok: false, code: 139, stdout: '', stderrTail: 'Segmentation fault', seconds: 1 })).toBe('Segmentation fault');
  });

  it("createArgs is the class's settings plus the plan's host and address", () => {
    const spec = { settings: { box: 'labctl/trixie-baked', bonus: true, project: '/p/x', memoryMiB: 1536, cpus: 1, libvirtDriver: 'qemu' } } as unknown as ClassSpec;
    const args = createArgs(spec, { login: 'bob', lab: 'bob', host: 'h2', uri: 'qemu+ssh://root@h2/system', ip: '10.1.2.3', domain: 'bob.42.fr', bridge: 'eno1', kept: false });
    expect(args).toEqual([
      'create', 'bob', '--login', 'bob', '--provider', 'libvirt', '--libvirt-uri', 'qemu+ssh://root@h2/system', '--ip', '10.1.2.3', '--bridge', 'eno1',
      '--box', 'labctl/trixie-baked', '--project', '/p/x', '--bonus', '--memory', '1536', '--cpus', '1', '--libvirt-driver', 'qemu', '--yes', '--quiet',
    ]);
  });

  it("progressLine keeps a child create's step lines and drops the rest of its output", () => {
    expect(progressLine('✔ Wait for SSH [5s]')).toBe('✔ Wait for SSH [5s]');
    expect(progressLine('  ❯ Build and start the stack (make)')).toBe('❯ Build and start the stack (make)');
    expect(progressLine('↓ Configure apt (mirror, proxy) [SKIPPED: no apt_mirror]')).toMatch(/^↓ Configure apt/);
    expect(progressLine('✖ Probe the site from the host [FAILED: …]')).toMatch(/^✖ Probe/);
    for (const noise of ['#6 70.25 Get:4 libmnl0', '==> default: Starting domain.', 'make: Entering directory', '']) expect(progressLine(noise)).toBeUndefined();
  });
});
