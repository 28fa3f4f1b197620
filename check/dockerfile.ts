// A Dockerfile as its instructions: continuations joined, blank and comment lines dropped. The
// static rules (FROM, RUN installs) and the PID 1 walk (the last stage) read it through here.

export function instructions(dockerfile: string): string[] {
  return dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The instructions after the last FROM (the image that runs), and that FROM line itself. */
export function finalStage(dockerfile: string): { from: string; stage: string[] } {
  const lines = instructions(dockerfile);
  const lastFrom = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  return { from: lines[lastFrom] ?? '', stage: lines.slice(lastFrom + 1) };
}
