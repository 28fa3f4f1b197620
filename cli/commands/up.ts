import { vmCommand } from '../vm-command.js';

export const command = vmCommand('up', 'Start (or resume) the lab VM', 'upLab', (lab) => `Lab "${lab.config.name}" is up.`);
