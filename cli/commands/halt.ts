import { vmCommand } from '../vm-command.js';

// Loaded when the command runs: `labctl --help` must not load vagrant's and SSH's modules.

export const command = vmCommand('halt', async () => (await import('../../usecases/halt.js')).haltLab, (lab) => `Lab "${lab.config.name}" is halted (start it again with labctl up).`);
