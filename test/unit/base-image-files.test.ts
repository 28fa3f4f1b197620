import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASE_IMAGE_FILES, BASE_IMAGE_PRUNE, DPKG_PATH_EXCLUDES } from '../../box/base-image-files.js';
import { hostBaseImagePath } from '../../box/base-image.js';
import { packageRoot } from '../../core/paths.js';

// The base image is made in two places: on the host (box/base-image.ts, from base-image-files.ts)
// and in the guest by compose/'s own script, which a student's project carries without labctl.
// Both must give the Dockerfiles the same image, so the script is held to the TypeScript list.

const script = readFileSync(join(packageRoot(), 'compose', 'srcs', 'requirements', 'tools', 'build-base-image.sh'), 'utf8');

/** The body of the heredoc the script `tee`s into `path` (relative to the root). */
function heredocBody(path: string): string | undefined {
  const start = script.indexOf(`tee "$ROOTFS/${path}" >/dev/null <<'EOF'\n`);
  if (start === -1) return undefined;
  const from = script.indexOf('\n', start) + 1;
  return script.slice(from, script.indexOf('\nEOF\n', from) + 1);
}

describe('the debian:bookworm base image recipe', () => {
  it.each(BASE_IMAGE_FILES.map((f) => [f.path, f]))('build-base-image.sh writes %s with the same content', (_path, file) => {
    expect(heredocBody(file.path)).toBe(file.content);
  });

  it('keeps licences while leaving documentation, manual pages and translations out', () => {
    expect(DPKG_PATH_EXCLUDES).toContain('path-exclude=/usr/share/doc/*');
    expect(DPKG_PATH_EXCLUDES.indexOf('path-include=/usr/share/doc/*/copyright')).toBeGreaterThan(DPKG_PATH_EXCLUDES.indexOf('path-exclude=/usr/share/doc/*'));
    expect(BASE_IMAGE_FILES.find((f) => f.path.endsWith('labctl-unsafe-io'))?.content).toBe('force-unsafe-io\n');
  });

  it('prunes in the script what the host prunes', () => {
    for (const dir of BASE_IMAGE_PRUNE.emptied) expect(script).toContain(dir);
    for (const path of BASE_IMAGE_PRUNE.removed) expect(script).toContain(`"$ROOTFS/${path}"`);
  });

  it('names the host cache after the recipe, so an older tarball is not reused', () => {
    expect(hostBaseImagePath('/cache')).toMatch(/^\/cache\/debian-bookworm-r\d+\.tar$/);
  });
});
