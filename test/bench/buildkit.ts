// BuildKit's plain progress (BUILDKIT_PROGRESS=plain), as provisioning's make step saves it in
// $LABCTL_HOME/<lab>/make.log, read back into the time of each image build and of each Dockerfile
// step. Pure: the bench reads the file, this only reads text.
//
// The format: a vertex (one step of one build) is announced by `#<id> [<image> <n>/<m>] <instruction>`
// (compose puts the service name first inside the brackets: `[nginx 2/6]`, `[nginx internal] load
// build definition`); its output lines are `#<id> <elapsed> <text>`, and it ends with `#<id> DONE 4.5s`,
// `#<id> CACHED`, `#<id> ERROR: …` or `#<id> CANCELED`. When compose builds images in parallel the
// vertices interleave and BuildKit repeats a vertex's header line each time it switches back to it;
// a later build (a second `make`, a deploy) starts counting ids again, so an id whose vertex has
// ended and is announced again is a new vertex. Lines may carry a leading ISO timestamp (a log
// written by labctl's own line copier does): then each image's wall span is known too.
// compose/'s Makefile builds each service in its own `docker compose build` (side by side, since
// compose alone builds in depends_on order, one at a time) and prefixes every line with
// `<service> | `: each build numbers its vertices from #1, so the prefix is part of a vertex's key
// and names its image.

export type StepState = 'done' | 'cached' | 'error' | 'canceled' | 'unfinished';

export interface BuildStep {
  /** What the step does: `2/6 RUN apt-get update && …` (shortened), `internal load build definition …`. */
  label: string;
  /** The DONE time; for an error or an unfinished step, the last elapsed time it printed. */
  seconds: number | undefined;
  state: StepState;
}

export interface ImageBuild {
  /** The first word inside the brackets: compose's service name, or the image's stage. */
  image: string;
  /** Sum of the steps' times. Parallel steps make it larger than the wall time. */
  seconds: number;
  /** From the first line of its first step to the end of its last one, when lines carry timestamps. */
  wallSeconds: number | undefined;
  steps: BuildStep[];
}

/** Steps without an image of their own (`[internal] load .dockerignore`, a bare `[1/4] FROM …`). */
export const NO_IMAGE = '(no image)';
const LABEL_MAX = 60;

interface Vertex {
  id: string;
  name: string;
  image: string;
  step: BuildStep;
  firstAt: number | undefined;
  lastAt: number | undefined;
  ended: boolean;
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)\s/;
const HEADER = /^#(\d+) \[([^\]]*)\] ?(.*)$/;
const LINE = /^#(\d+) (.*)$/;
/** `wordpress | #6 DONE 4.5s`: the Makefile's prefix for one service's build. */
const BUILD_PREFIX = /^([A-Za-z0-9][A-Za-z0-9_.-]*) \| /;

export function parseBuildkitPlain(text: string): ImageBuild[] {
  const open = new Map<string, Vertex>();
  const all: Vertex[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw;
    const ts = TIMESTAMP.exec(line);
    const at = ts?.[1] === undefined ? undefined : Date.parse(ts[1]);
    if (ts !== null) line = line.slice(ts[0].length);
    const prefix = BUILD_PREFIX.exec(line);
    if (prefix !== null) line = line.slice(prefix[0].length);
    const build = prefix?.[1];
    const header = HEADER.exec(line);
    if (header !== null) {
      const [, number = '', bracket = '', rest = ''] = header;
      const id = build === undefined ? number : `${build}#${number}`;
      const name = `[${bracket}] ${rest}`;
      const current = open.get(id);
      // A repeated header of a running vertex is BuildKit switching back to it, not a new step.
      if (current !== undefined && !current.ended && current.name === name) {
        touch(current, at);
        continue;
      }
      const vertex: Vertex = { id, name, image: build ?? imageOf(bracket), step: { label: labelOf(bracket, rest), seconds: undefined, state: 'unfinished' }, firstAt: at, lastAt: at, ended: false };
      open.set(id, vertex);
      all.push(vertex);
      continue;
    }
    const m = LINE.exec(line);
    if (m === null) continue;
    const [, number = '', body = ''] = m;
    const vertex = open.get(build === undefined ? number : `${build}#${number}`);
    if (vertex === undefined || vertex.ended) continue;
    touch(vertex, at);
    const done = /^DONE (\d+(?:\.\d+)?)s\b/.exec(body);
    if (done !== null) {
      end(vertex, 'done', Number(done[1]));
    } else if (/^CACHED\b/.test(body)) {
      end(vertex, 'cached', 0);
    } else if (/^ERROR\b/.test(body)) {
      end(vertex, 'error', vertex.step.seconds);
    } else if (/^CANCELED\b/.test(body)) {
      end(vertex, 'canceled', vertex.step.seconds);
    } else {
      // `#7 12.345 Get:1 …`: seconds since the vertex started; kept for a step that never ends.
      const elapsed = /^(\d+\.\d+) /.exec(body);
      if (elapsed !== null) vertex.step.seconds = Number(elapsed[1]);
    }
  }
  const images = new Map<string, Vertex[]>();
  for (const v of all) images.set(v.image, [...(images.get(v.image) ?? []), v]);
  return [...images].map(([image, vertices]) => {
    const starts = vertices.map((v) => v.firstAt).filter((t): t is number => t !== undefined);
    const ends = vertices.map((v) => v.lastAt).filter((t): t is number => t !== undefined);
    return {
      image,
      seconds: round(vertices.reduce((sum, v) => sum + (v.step.state === 'done' ? (v.step.seconds ?? 0) : 0), 0)),
      wallSeconds: starts.length === 0 || ends.length === 0 ? undefined : round((Math.max(...ends) - Math.min(...starts)) / 1000),
      steps: vertices.map((v) => v.step),
    };
  });
}

function touch(v: Vertex, at: number | undefined): void {
  if (at === undefined) return;
  v.firstAt ??= at;
  v.lastAt = at;
}

function end(v: Vertex, state: StepState, seconds: number | undefined): void {
  v.ended = true;
  v.step.state = state;
  v.step.seconds = seconds;
}

/** `nginx 2/6` → nginx; `internal`, `1/4`, `stage-0 1/2` with no service name → NO_IMAGE. */
function imageOf(bracket: string): string {
  const first = bracket.trim().split(/\s+/)[0] ?? '';
  if (first === '' || first === 'internal' || /^\d+\/\d+$/.test(first)) return NO_IMAGE;
  return first;
}

/** `nginx 2/6` + `RUN apt-get …` → `2/6 RUN apt-get …`, whitespace folded, at most LABEL_MAX characters. */
function labelOf(bracket: string, rest: string): string {
  const words = bracket.trim().split(/\s+/);
  const qualifier = imageOf(bracket) === NO_IMAGE ? words.join(' ') : words.slice(1).join(' ');
  return shorten(`${qualifier} ${rest}`.replace(/\s+/g, ' ').trim());
}

export function shorten(text: string, max = LABEL_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
