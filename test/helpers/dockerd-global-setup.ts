import { ensureDockerd } from './dockerd.js';

// One dockerd for a whole vitest project: test files that each started and stopped their own
// raced, a new daemon starting while the last one was still shutting down.
export default async function setup(): Promise<() => Promise<void>> {
  const dockerd = await ensureDockerd();
  return () => dockerd.stop();
}
