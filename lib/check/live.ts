import { LabctlError } from '../errors.js';
import type { CheckResult } from './types.js';

export async function checkLive(name: string, _opts: { destructive: boolean }): Promise<CheckResult[]> {
  throw new LabctlError(`live checks of lab "${name}" are not implemented yet`, { hint: 'use labctl check --static <dir> for now' });
}
