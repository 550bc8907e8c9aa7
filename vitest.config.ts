import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// One project per tier, so each can be run alone (`npm run test:<tier>`) and `npm test` runs all.
// Integration tiers start real processes (kube-apiserver, etcd, moto_server): generous timeouts, and
// files run one at a time on these 2-core machines so startup does not starve running tests.
// The package's own entry points, for the provider template under examples/, which imports them as a
// plugin does (tsconfig.json maps them the same way for the type checker).
const packageEntryPoints = [
  { find: /^lb-provisioner\/providers$/, replacement: fileURLToPath(new URL("providers/index.ts", import.meta.url)) },
  {
    find: /^lb-provisioner\/providers\/conformance$/,
    replacement: fileURLToPath(new URL("providers/conformance/index.ts", import.meta.url)),
  },
];

export default defineConfig({
  resolve: { alias: packageEntryPoints },
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts", "examples/*/test/**/*.test.ts"],
          environment: "node",
          // Unit files share each worker's module cache instead of a fresh process per file: a fresh
          // one re-evaluates the Kubernetes client and the AWS SDK for every file, three quarters of the
          // tier's time. So a unit test restores whatever global it changes (env, timers, spies,
          // process.exitCode) in afterEach, as they all do; `--sequence.shuffle` shows a leak.
          isolate: false,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/harness/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "aws",
          include: ["test/aws/**/*.test.ts"],
          globalSetup: ["test/harness/global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
