import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Section } from '../../core/layers-parse.js';
import { assembleReport } from '../../layers/assemble.js';
import { renderLayersHtml } from '../../layers/html.js';
import { findChromium, openInChromium } from '../helpers/chromium.js';
import { targetLabConfig } from '../helpers/lab-config.js';
import { fixtureSections, layersFixture } from '../helpers/layers-fixtures.js';
import { tempDir } from '../helpers/temp.js';

// `labctl layers --html` opened in a real browser: the page made from the recorded facts of a lab
// (test/fixtures/layers/) in headless Chromium, Debian's `chromium` package (.ci/host-packages.sh).
// The VM e2e does the same with a live lab's page. Skipped, and said so, where Chromium is absent.

const chromium = await findChromium();
if (chromium === undefined) console.warn('layers-html: skipped, no chromium on PATH (apt-get install chromium)');

describe.skipIf(chromium === undefined)('the layers page in headless Chromium', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir('labctl-layers-html-');
  });

  const report = async (over: { containerName?: string } = {}) => {
    const guest = await fixtureSections('guest-trixie-lab.txt');
    if (over.containerName !== undefined) {
      const inspect = guest.get('containers.inspect') as Section;
      guest.set('containers.inspect', { ...inspect, output: inspect.output.replace('"Name": "/nginx"', `"Name": ${JSON.stringify(`/${over.containerName}`)}`) });
    }
    return assembleReport({
      config: targetLabConfig({ name: 'inception', login: 'jdoe', box: 'labctl/trixie' }),
      labJsonPath: '/home/jdoe/.labctl/inception/lab.json',
      collectedAt: '2026-12-05T10:30:00.000Z',
      host: await fixtureSections('host-debian-tcg.txt'),
      vmId: '02819abb-9112-493f-a2d6-5eec986da3e0',
      guest,
      measure: { log: await layersFixture('labctl-log.txt'), logPath: '/home/jdoe/.labctl/inception/labctl.log', boxDir: '/home/jdoe/.vagrant.d/boxes/labctl-VAGRANTSLASH-trixie', restart: { container: 'nginx', section: { output: 'running_ms=1203 healthy_ms=6410 timed_out=0\n', code: 0, error: '' } } },
    });
  };

  it('renders the diagram: each layer\'s label and facts are text of the page; a screenshot is taken', async () => {
    const file = join(dir, 'layers.html');
    await writeFile(file, renderLayersHtml(await report()));
    const page = await openInChromium(chromium ?? '', file, join(dir, 'layers.png'));
    expect(page.dom).toMatch(/<svg[^>]*role="img"/);
    for (const label of ['bare-metal host', 'VM inception', 'container mariadb', 'container nginx', 'container wordpress', 'VM kernel 6.12.57+deb13-amd64', 'host kernel 6.1.0-28-amd64']) expect(page.text).toContain(label);
    expect(page.text).toContain('PID 1 nginx · pid 4120 in the VM');
    expect(page.text).toContain("VM or container: this lab's numbers");
    expect(page.text).toContain('1.2 s to run again (docker restart nginx)');
    expect(page.png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  }, 300_000);

  it('a container name that is markup stays text: the browser builds no element from it', async () => {
    const file = join(dir, 'hostile.html');
    await writeFile(file, renderLayersHtml(await report({ containerName: '<img src=x onerror=alert(1)><b>bold</b>' })));
    const page = await openInChromium(chromium ?? '', file, join(dir, 'hostile.png'));
    expect(page.dom).not.toMatch(/<img|<b>/);
    expect(page.text).toContain('container <img src=x onerror=alert(1)><b>bold</b>');
  }, 300_000);
});
