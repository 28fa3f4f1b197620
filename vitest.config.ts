import { defineConfig } from 'vitest/config';

// Projects mirror the tree: unit = pure code; integration = real programs (vagrant, sshd, the built
// binary); stack = a real dockerd building compose/; e2e = a real VM through vagrant-libvirt.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 10_000 } },
      { test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/helpers/dockerd-global-setup.ts'], testTimeout: 120_000, hookTimeout: 300_000 } },
      { test: { name: 'stack', include: ['test/stack/**/*.test.ts'], globalSetup: ['test/helpers/dockerd-global-setup.ts'], testTimeout: 900_000, hookTimeout: 1_800_000, fileParallelism: false } },
      { test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 4_500_000, hookTimeout: 3_600_000, fileParallelism: false } },
    ],
  },
});
