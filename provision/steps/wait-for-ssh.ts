import { access } from 'node:fs/promises';
import type { ProvisionStep } from '../context.js';
import { errorText, missingKeyError, waitForSsh } from '../../adapters/guest.js';

// Always runs: it opens the connection every other step uses, and proves passwordless sudo so a
// box without it fails here, with a hint, instead of in the middle of the install.
export const waitForSshStep: ProvisionStep = {
  title: 'Wait for SSH',
  skip: async () => false,
  run: async (ctx) => {
    await access(ctx.target.privateKeyPath).catch((error: unknown) => {
      throw Object.assign(missingKeyError(ctx.target.privateKeyPath), { cause: error });
    });
    ctx.progress(`connecting to ${ctx.target.username}@${ctx.target.host}:${ctx.target.port}`);
    ctx.conn = await waitForSsh(ctx.target, {
      timeoutMs: ctx.timeouts.sshReadyMs,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onAttempt: (n, error) => ctx.progress(`attempt ${n}: ${errorText(error)}`),
    });
    await ctx.exec(['true'], { sudo: true });
  },
};
