// Image references as Docker reads them ([registry/][namespace/]name[:tag][@digest]), and what M03
// and M04 make of a Dockerfile's FROM: the base must be the penultimate stable Debian (bookworm,
// 12) or an Alpine 3.x release, pinned; floating aliases (stable, oldstable, latest, no tag at
// all) name a different image from one month to the next.

export interface ImageRef {
  /** The repository without registry and `library/`: `debian`, `alpine`, `myuser/thing`. */
  name: string;
  /** undefined: no tag given, which Docker reads as `latest`. */
  tag: string | undefined;
  digest: string | undefined;
}

export function parseImageRef(ref: string): ImageRef {
  const [beforeDigest = '', digest] = ref.split('@', 2);
  // A colon after the last slash starts the tag; one before it belongs to a registry's port.
  const slash = beforeDigest.lastIndexOf('/');
  const colon = beforeDigest.indexOf(':', slash + 1);
  const repo = colon === -1 ? beforeDigest : beforeDigest.slice(0, colon);
  const tag = colon === -1 ? undefined : beforeDigest.slice(colon + 1);
  const parts = repo.split('/');
  // docker.io/library/debian, registry:5000/debian … → debian
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0] ?? '')) parts.shift();
  if (parts[0] === 'library' && parts.length > 1) parts.shift();
  return { name: parts.join('/').toLowerCase(), tag, digest };
}

export interface FromLine {
  image: string;
  stage: string | undefined;
}

/** `FROM [--platform=…] image [AS stage]`; undefined when the line is not one. */
export function parseFrom(instruction: string): FromLine | undefined {
  const words = instruction.trim().split(/\s+/);
  if ((words[0] ?? '').toUpperCase() !== 'FROM') return undefined;
  const rest = words.slice(1).filter((w) => !w.startsWith('--'));
  const image = rest[0];
  if (image === undefined) return undefined;
  const stage = (rest[1] ?? '').toUpperCase() === 'AS' ? rest[2] : undefined;
  return { image, stage };
}

/** Replaces ${VAR}, ${VAR:-x} and $VAR from the ARGs with defaults; names the ones it cannot. */
export function resolveArgs(text: string, args: ReadonlyMap<string, string>): { value: string; unresolved: string[] } {
  const unresolved: string[] = [];
  const value = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const known = args.get(name);
    if (known !== undefined && known !== '') return known;
    if (fallback !== undefined) return fallback;
    unresolved.push(name);
    return '';
  });
  return { value, unresolved };
}

const FLOATING = new Set(['latest', 'stable', 'oldstable', 'testing', 'unstable', 'sid', 'rc-buggy', 'experimental', 'edge']);
// bookworm, bookworm-slim, bookworm-20250407(-slim), 12, 12.10, 12-slim, 12.10-slim
const DEBIAN_BOOKWORM = /^(bookworm|12(\.\d+)?)(-\d{8})?(-slim)?$/;
const ALPINE_RELEASE = /^3\.\d+(\.\d+)?$/;

export type BaseVerdict = { ok: true } | { ok: false; why: string };

/** Is this FROM image an allowed base (or an earlier stage of the same Dockerfile)? */
export function judgeBase(image: string, stages: ReadonlySet<string>): BaseVerdict {
  if (stages.has(image.toLowerCase())) return { ok: true };
  const ref = parseImageRef(image);
  if (ref.name !== 'debian' && ref.name !== 'alpine') return { ok: false, why: `${image} is not debian:bookworm or alpine:3.x (a ready-made or other image)` };
  if (ref.tag === undefined) return { ok: false, why: `${image} has no tag, which Docker reads as latest: pin ${ref.name === 'debian' ? 'debian:bookworm' : 'alpine:3.<minor>'}` };
  if (FLOATING.has(ref.tag)) return { ok: false, why: `${image}: "${ref.tag}" is a floating alias, another release once Debian or Alpine moves on` };
  if (ref.name === 'debian' && !DEBIAN_BOOKWORM.test(ref.tag)) return { ok: false, why: `${image} is not the penultimate stable Debian (bookworm, 12)` };
  if (ref.name === 'alpine' && !ALPINE_RELEASE.test(ref.tag)) return { ok: false, why: `${image} is not an Alpine 3.x release` };
  return { ok: true };
}

/** Image references tagged latest in a line of text (`name:latest`), not words in URLs or prose. */
export function latestTags(line: string): string[] {
  return [...line.matchAll(/(?<![\w./:@-])((?:[\w.-]+(?::\d+)?\/)*[\w.-]+):latest\b(?![\w.-])/g)].map((m) => `${m[1]}:latest`);
}
