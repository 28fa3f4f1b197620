import { vmCommand } from '../vm-command.js';

export const command = vmCommand('halt', 'Shut the lab VM down; data and images stay', 'haltLab', (lab) => `Lab "${lab.config.name}" is halted (start it again with labctl up).`);
