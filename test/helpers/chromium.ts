import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';

// Headless Chromium (Debian's `chromium` package) opening a local page, for the tests of
// `labctl layers --html`: the DOM it built (--dump-dom) and a screenshot. The tests read the
// page's text, not its pixels. As root Chromium needs --no-sandbox; its profile is a throwaway
// directory, so nothing of the machine's own is read or written.

/** One page load and render, Chromium's start included (slow on a loaded 2-core machine). */
export const CHROMIUM_TIMEOUT_MS = 120_000;

export async function findChromium(): Promise<string | undefined> {
  for (const name of ['chromium', 'chromium-browser']) {
    const r = await execa('sh', ['-c', 'command -v "$1"', 'sh', name], { reject: false });
    if (r.exitCode === 0 && r.stdout.trim() !== '') return r.stdout.trim();
  }
  return undefined;
}

export interface RenderedPage {
  /** The DOM after load, serialized. */
  dom: string;
  /** The page's text: tags removed, entities decoded, spaces collapsed. */
  text: string;
  png: Buffer;
}

export async function openInChromium(chromium: string, file: string, screenshot: string): Promise<RenderedPage> {
  const profile = await mkdtemp(join(tmpdir(), 'labctl-chromium-'));
  try {
    const common = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions', `--user-data-dir=${profile}`, '--window-size=1100,1400'];
    const url = pathToFileURL(file).href;
    const shot = await execa(chromium, [...common, `--screenshot=${screenshot}`, url], { reject: false, timeout: CHROMIUM_TIMEOUT_MS, all: true });
    if (shot.exitCode !== 0) throw new Error(`chromium --screenshot exited ${shot.exitCode}: ${String(shot.all).split('\n').slice(-5).join('\n')}`);
    const dump = await execa(chromium, [...common, '--dump-dom', url], { reject: false, timeout: CHROMIUM_TIMEOUT_MS });
    if (dump.exitCode !== 0) throw new Error(`chromium --dump-dom exited ${dump.exitCode}: ${dump.stderr.split('\n').slice(-5).join('\n')}`);
    return { dom: dump.stdout, text: pageText(dump.stdout), png: await readFile(screenshot) };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };

export function pageText(dom: string): string {
  return dom
    .replace(/<(style|title)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_m, e: string) => ENTITIES[e] ?? '')
    .replace(/\s+/g, ' ')
    .trim();
}
