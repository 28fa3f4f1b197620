import { guestPaths } from '../core/guest-paths.js';
import type { Lab } from '../core/state.js';
import { waitUntilReady } from '../adapters/compose.js';
import { withGuest } from '../adapters/guest.js';
import type { Reporter } from './reporter.js';

/** After a boot the containers restart by themselves (M09); under emulation that takes minutes. */
export const STACK_READY_AFTER_BOOT_TIMEOUT_MS = 900_000;

/**
 * Waits until the stack in the VM is healthy again, so that `up` and `reboot` return a usable lab.
 * A lab that was never provisioned has no stack to wait for.
 */
export async function waitForStack(lab: Lab, reporter: Reporter): Promise<void> {
  await withGuest(lab, async (guest) => {
    const project = await guest.exec(['test', '-f', guestPaths(lab.config.login).composeFile], { sudo: true, okCodes: [0, 1] });
    if (project.code !== 0) {
      reporter.info('No stack in the VM yet: run `labctl provision` to install it.');
      return;
    }
    reporter.info('Waiting for the stack to be healthy…');
    await waitUntilReady(guest.conn, lab.config, { ...guest.callOptions, timeoutMs: STACK_READY_AFTER_BOOT_TIMEOUT_MS });
  });
}
