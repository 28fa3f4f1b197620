import { vmCommand } from '../vm-command.js';

// Loaded when the command runs: `labctl --help` must not load vagrant's and SSH's modules.

export const command = vmCommand('up', async () => (await import('../../usecases/up.js')).upLab, (lab) => `Lab "${lab.config.name}" is up.`);
