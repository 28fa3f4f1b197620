import { guestPaths } from '../core/guest-paths.js';
import type { Lab } from '../core/state.js';
import { waitUntilReady } from '../adapters/compose.js';
import { withGuest } from '../adapters/guest.js';
import { probeSite } from '../provision/probe.js';
import type { Reporter } from './reporter.js';

/** After a boot the containers restart by themselves (M09); under emulation that takes minutes. */
export const STACK_READY_AFTER_BOOT_TIMEOUT_MS = 900_000;

/** The first WordPress page after a boot compiles every PHP file again: slow under emulation. */
export const SITE_AFTER_BOOT_TIMEOUT_MS = 300_000;

/**
 * Waits until the stack in the VM is healthy again and the site answers from the host, so that
 * `up` and `reboot` return a usable lab. A lab that was never provisioned has no stack to wait for.
 */
export async function waitForStack(lab: Lab, reporter: Reporter): Promise<void> {
  const provisioned = await withGuest(lab, async (guest) => {
    // srcs/ and not a compose file name: a student's project may use any of compose's four.
    const project = await guest.exec(['test', '-d', `${guestPaths(lab.config.login).project}/srcs`], { sudo: true, okCodes: [0, 1] });
    if (project.code !== 0) {
      reporter.info('No stack in the VM yet: run `labctl provision` to install it.');
      return false;
    }
    reporter.info('Waiting for the stack to be healthy…');
    await waitUntilReady(guest.conn, lab.config, { ...guest.callOptions, timeoutMs: STACK_READY_AFTER_BOOT_TIMEOUT_MS });
    return true;
  });
  if (!provisioned) return;
  reporter.info(`Waiting for https://${lab.config.domain} to answer…`);
  await probeSite({ domain: lab.config.domain, address: lab.config.ip, timeoutMs: SITE_AFTER_BOOT_TIMEOUT_MS });
}
