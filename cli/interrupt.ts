import { note } from './output.js';

// Ctrl-C during a long run (create, provision) aborts the current step cleanly: remote commands
// stop, nothing half-written is left, and re-running continues. A second Ctrl-C kills at once.

let controller: AbortController | undefined;

export function interruptSignal(): AbortSignal {
  if (!controller) {
    const c = new AbortController();
    controller = c;
    const onSigint = () => {
      if (c.signal.aborted) {
        // The user insisted: let Node's default SIGINT handling end the process (status 130).
        process.removeListener('SIGINT', onSigint);
        process.kill(process.pid, 'SIGINT');
        return;
      }
      note('\nInterrupting… the current step stops; run the same command again to continue. Ctrl-C again to kill.');
      c.abort();
    };
    process.on('SIGINT', onSigint);
  }
  return controller.signal;
}
