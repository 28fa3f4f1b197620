// Ctrl-C, SIGTERM and SIGHUP during a long run (create, provision, up) stop it cleanly: the
// current step is aborted through `interruptSignal()`, child programs in their own process group
// (vagrant) get the signal forwarded and a bounded time to clean up, and labctl exits 130. A
// second signal means "now": `forceSignal()` fires, children are killed, labctl exits at once.
// cli/main.ts installs the handlers; adapters/run.ts and the provisioning steps read the signals.

const interrupt = new AbortController();
const force = new AbortController();
let installed = false;
let announce: (line: string) => void = () => {};

export function installInterruptHandlers(onFirst: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): void {
  if (installed) return;
  installed = true;
  announce = onFirst;
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(name, () => onSignal(name));
}

/** How many running steps listen to interruptSignal(); with none, a signal ends labctl at once. */
let listening = 0;

/** Runs fn as a step that stops cleanly on interruptSignal(), so that a signal waits for it. */
export async function interruptible<T>(fn: () => Promise<T>): Promise<T> {
  listening++;
  try {
    return await fn();
  } finally {
    listening--;
  }
}

function onSignal(name: NodeJS.Signals): void {
  if (listening === 0) {
    // Nothing would notice the abort (a probe, a file read): leave now, as an unhandled signal would.
    announce(`\nInterrupted (${name}).`);
    // eslint-disable-next-line no-restricted-properties -- no step listens to the abort, so cli/main.ts would never get the chance to exit
    process.exit(130);
  }
  if (!interrupt.signal.aborted) {
    announce(`\nInterrupted (${name}): stopping the current step; Ctrl-C again to stop at once.`);
    interrupt.abort(name);
    return;
  }
  if (!force.signal.aborted) {
    force.abort(name);
    // Normally the aborted run unwinds to cli/main.ts, which exits 130. Should an open handle (a
    // hung SSH socket) keep Node alive, leave anyway: the user asked twice.
    setTimeout(() => {
      // eslint-disable-next-line no-restricted-properties -- the one exit outside cli/main.ts: a second Ctrl-C must end the process even when the error path is stuck
      process.exit(130);
    }, FORCE_EXIT_AFTER_MS).unref();
  }
}

/** After a second signal, the time given to kill children and print the last line. */
const FORCE_EXIT_AFTER_MS = 5_000;

export function interruptSignal(): AbortSignal {
  return interrupt.signal;
}

export function forceSignal(): AbortSignal {
  return force.signal;
}

export function interrupted(): boolean {
  return interrupt.signal.aborted;
}
