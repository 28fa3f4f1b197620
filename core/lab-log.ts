import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

// labctl.log in the lab's directory (0600): every vagrant, ssh and docker call of every command,
// with its outcome, and the steps of create and provisioning. Never command input (secrets travel
// as input), never the output of a successful call.

export type LogLine = (line: string) => void;

const warned = new Set<string>();

/** Appends one timestamped line; a log that cannot be written never fails the command. */
export function appendLabLog(path: string, line: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    appendFileSync(path, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
  } catch (error) {
    // Said once per file: a read-only lab dir would otherwise warn at every call.
    if (warned.has(path)) return;
    warned.add(path);
    process.emitWarning(`labctl: cannot write ${path}: ${(error as Error).message}`);
  }
}

export function labLog(path: string): LogLine {
  return (line) => appendLabLog(path, line);
}

/**
 * The log of calls made in a lab's directory (vagrant, ssh): written only while that directory
 * exists, so that a call outliving a destroy (a concurrent `status`) does not make it again.
 */
export function labCallLog(paths: { dir: string; log: string }): LogLine {
  return (line) => {
    if (existsSync(paths.dir)) appendLabLog(paths.log, line);
  };
}
