import { renderVagrantfile } from '../core/vagrantfile.js';
import { configFromInput, type ConfigInput } from './config-input.js';

/** `labctl render`: the Vagrantfile these settings give, with no side effect. */
export async function renderLab(input: ConfigInput): Promise<string> {
  return renderVagrantfile(await configFromInput(input));
}
