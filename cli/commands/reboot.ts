import { vmCommand } from '../vm-command.js';

// Loaded when the command runs: `labctl --help` must not load vagrant's and SSH's modules.

export const command = vmCommand('reboot', async () => (await import('../../usecases/reboot.js')).rebootLab, (lab) => `Lab "${lab.config.name}" rebooted.`);
