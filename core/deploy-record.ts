import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { LabPaths } from './paths.js';

// What the last successful deploy did, kept in the lab's directory so that `labctl status` can say
// when the lab last got the student's files. Only written after a deploy succeeded.

const FILE = 'last-deploy.json';

const RecordSchema = z.object({
  /** ISO time the deploy finished. */
  at: z.string(),
  ms: z.number(),
  uploaded: z.number(),
  removed: z.number(),
  /** HEAD of the project's git repository at that deploy, when it is in one. */
  commit: z.string().optional(),
});
export type DeployRecord = z.infer<typeof RecordSchema>;

export function deployRecordPath(paths: Pick<LabPaths, 'dir'>): string {
  return join(paths.dir, FILE);
}

export async function writeDeployRecord(paths: Pick<LabPaths, 'dir'>, record: DeployRecord): Promise<void> {
  const path = deployRecordPath(paths);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** The record, or undefined when the lab was never deployed or the file is unreadable. */
export async function readDeployRecord(paths: Pick<LabPaths, 'dir'>): Promise<DeployRecord | undefined> {
  const text = await readFile(deployRecordPath(paths), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed = RecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
