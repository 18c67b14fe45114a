import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

/**
 * The pool's behaviour tests run on both kinds of worker: once as written
 * (processes), once with every pool that does not choose its kind on threads
 * (`EFFECT_PROCESS_POOL_WORKER_TYPE`, which the programs the tests start
 * inherit too). Tests of what only a process has (its fds 3 and 4, signals,
 * process groups, a parent killed with SIGKILL, spawn failures) and tests with
 * no worker at all run once.
 */
const processOnly = [
  "test/faults/channel.test.ts", // a task closing or reading the fds of a process's channel
  "test/faults/channelNoise.test.ts", // bytes written to a process's fd 4
  "test/faults/frames.test.ts", // the framing of a process's pipes
  "test/faults/inspector.test.ts", // Node's options of a child process
  "test/faults/oldNode.test.ts", // the Node that runs the program
  "test/faults/orphans.test.ts", // a parent killed with SIGKILL: threads die with their process by nature
  "test/faults/spawn.test.ts", // spawning a child process (EMFILE, E2BIG)
  "test/faults/taskChildren.test.ts", // a worker process's process group
  "test/package.test.ts", // packs and installs the package once (it runs a program on each kind itself)
  "test/examples-in-docs.test.ts", // type-checks, runs nothing
  "test/docs.test.ts",
  "test/Task.test.ts",
  "test/ProcessPoolError.test.ts",
  "test/internal/**"
]

export default defineConfig({
  // Examples import "effect-process-pool"; in the repo that is src/, not dist/. Tests run in
  // Vite's server environment, whose conditions are `ssr.resolve.conditions`: without the
  // condition there, an in-process import of an example resolves to dist/, or fails without it.
  ssr: { resolve: { conditions: ["effect-process-pool:source", ...defaultServerConditions] } },
  test: {
    // A passing run reads green: what tests provoke (a worker's crash trace, logged as an entry
    // by pools with stdio: "log"; the pool's own warnings) is shown for the tests that fail only
    silent: "passed-only",
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: "process", include: ["test/**/*.test.ts"] } },
      {
        extends: true,
        test: {
          name: "thread",
          include: ["test/**/*.test.ts"],
          exclude: ["test/cluster/**", ...processOnly],
          env: { EFFECT_PROCESS_POOL_WORKER_TYPE: "thread" }
        }
      }
    ]
  }
})
