import { defineConfig } from 'vitest/config';

// Three projects by what a test needs:
//  unit         next to the code, no root, no network: pure code, plus a few that
//               read or write temp files (config loading, the SQLite store)
//  integration  real vxnet processes over HTTP on loopback (test/integration)
//  e2e          root: network namespaces, real packets (testbed/)
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['src/**/*.test.ts'], exclude: ['src/**/*.case.test.ts'] } },
      { test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } },
      {
        test: {
          name: 'e2e',
          include: ['testbed/**/*.e2e.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
