import { interruptSignal as signal } from '../core/interrupt.js';

// The handlers are installed once by cli/main.ts (core/interrupt.ts); commands pass this signal to
// the use cases that run long steps.
export function interruptSignal(): AbortSignal {
  return signal();
}
