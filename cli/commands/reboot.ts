import { vmCommand } from '../vm-command.js';

export const command = vmCommand('reboot', 'Reboot the lab VM (vagrant reload); the stack restarts by itself', 'rebootLab', (lab) => `Lab "${lab.config.name}" rebooted.`);
