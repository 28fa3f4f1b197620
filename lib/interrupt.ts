// Ctrl-C, SIGTERM and SIGHUP during a long run (create, provision, up) stop it cleanly: the
// current step is aborted through `interruptSignal()`, child programs in their own process group
// (vagrant) get the signal forwarded and a bounded time to clean up, and labctl exits 130. A
// second signal means "now": `forceSignal()` fires, children are killed, labctl exits at once.
// cli/main.ts installs the handlers; lib/run.ts and the provisioning steps read the signals.

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

function onSignal(name: NodeJS.Signals): void {
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
