/**
 * Task references that travel and deployment tags, on a real cluster: a
 * runner started from a copy of the code in another folder finds the task
 * under its own root; a runner of another deployment gets no work.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as NodeUrl from "node:url"
import { assert, describe, layer } from "@effect/vitest"
import { Cause, Effect, Exit, Schema } from "effect"
import { repoRoot } from "../../scripts/cluster/harness.ts"
import { ProcessPool, Task } from "../../src/index.ts"
import * as T from "../fixtures/cluster/tasks.ts"
import { layer as clusterLayer, TestCluster } from "./helpers/cluster.ts"

/** Tests that start runners: a runner's start and its join take 2 s on a quiet machine, 10–15 s beside two busy loops. */
const RUNNER_TEST_MS = 90_000

/**
 * A copy of what a runner needs, in a fresh folder (removed with the test's scope): the sources,
 * the runner, the task modules (`without` those paths); node_modules linked.
 */
const copyOfRepo = (options?: { readonly without?: ReadonlyArray<string> }) =>
  Effect.gen(function* () {
    const outer = yield* scratchDir("epp-copy-")
    const dir = NodePath.join(outer, "app")
    for (const path of ["package.json", "src", "scripts", "examples/cluster", "test/fixtures/cluster"]) {
      NodeFs.cpSync(NodePath.join(repoRoot, path), NodePath.join(dir, path), { recursive: true })
    }
    for (const path of options?.without ?? []) NodeFs.rmSync(NodePath.join(dir, path))
    NodeFs.symlinkSync(NodePath.join(repoRoot, "node_modules"), NodePath.join(dir, "node_modules"))
    return { dir, outer }
  })

/** A fresh folder, removed with the test's scope. */
const scratchDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), prefix))),
    (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
  )

/** A runner of the file's cluster for this test only: stopped when the test ends, so that the next test's client does not find it. */
const runnerFor = (root: string) =>
  Effect.flatMap(TestCluster, (cluster) => Effect.acquireRelease(cluster.addRunner({ root }), (runner) => runner.stop))

const failureReason = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const fail = exit.cause.reasons.find((r) => r._tag === "Fail") as { error: { reason?: { _tag: string } } } | undefined
  return fail?.error.reason?._tag
}

// no runner of this file's own: each test starts the one it needs
layer(clusterLayer({ runners: 0, maxWorkers: 1 }), { excludeTestServices: true, timeout: "60 seconds" })(
  "deployments",
  (it) => {
    describe("a runner whose copy of the code lives in another folder", () => {
      it.effect(
        "finds the task by its path under its own root, and runs the copy's module",
        () =>
          Effect.gen(function* () {
            const cluster = yield* TestCluster
            const { dir: copy } = yield* copyOfRepo()
            const runner = yield* runnerFor(copy)
            const pool = cluster.client()
            const where = yield* ProcessPool.run(T.spin, { i: 1, ms: 1 }).pipe(Effect.provide(pool))
            assert.strictEqual(where.runner, runner.pid)
            const args = NodeFs.readFileSync(`/proc/${where.worker}/cmdline`, "utf8")
            assert.include(args, `${copy}/src/internal/workerMain.ts`)
            // the worker imported the copy's task module, not the client's: its frames say so
            const exit = yield* Effect.exit(ProcessPool.run(T.die, "where").pipe(Effect.provide(pool)))
            assert.isTrue(Exit.isFailure(exit))
            if (Exit.isFailure(exit)) {
              assert.include(Cause.pretty(exit.cause), `${copy}/test/fixtures/cluster/tasks.ts`)
            }
          }),
        RUNNER_TEST_MS
      )

      it.effect("a task outside the client's root cannot travel: TaskNotFound at the client", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          const exit = yield* Effect.exit(
            ProcessPool.run(T.checked, 1).pipe(Effect.provide(cluster.client({ root: NodePath.join(repoRoot, "src") })))
          )
          assert.strictEqual(failureReason(exit), "TaskNotFound")
        })
      )
    })

    describe("a runner that cannot find the task's module under its root", () => {
      it.effect(
        "fails the task with WorkerStartError naming the path it tried",
        () =>
          Effect.gen(function* () {
            const cluster = yield* TestCluster
            // the runner's copy lacks the module (an older or partial deployment of the same tag)
            const { dir: copy } = yield* copyOfRepo({ without: ["test/fixtures/cluster/tasks.ts"] })
            yield* runnerFor(copy)
            const exit = yield* Effect.exit(ProcessPool.run(T.checked, 1).pipe(Effect.provide(cluster.client())))
            assert.strictEqual(failureReason(exit), "WorkerStartError")
            if (Exit.isFailure(exit)) {
              assert.include(Cause.pretty(exit.cause), `${copy}/test/fixtures/cluster/tasks.ts`)
            }
          }),
        RUNNER_TEST_MS
      )
    })

    describe("a package reference", () => {
      it.effect(
        "resolves only in the runner's own node_modules: a package above its root is refused, never imported",
        () =>
          Effect.gen(function* () {
            const cluster = yield* TestCluster
            const { dir: copy, outer } = yield* copyOfRepo()
            // installed above the runner's root; importing it would run its top-level code
            const pkg = NodePath.join(outer, "node_modules", "epp-outside")
            const imported = NodePath.join(outer, "imported")
            NodeFs.mkdirSync(pkg, { recursive: true })
            NodeFs.writeFileSync(
              NodePath.join(pkg, "package.json"),
              JSON.stringify({ name: "epp-outside", type: "module" })
            )
            NodeFs.writeFileSync(
              NodePath.join(pkg, "task.js"),
              `import { writeFileSync } from "node:fs"\nwriteFileSync(${JSON.stringify(imported)}, "top-level code ran")\n`
            )
            yield* runnerFor(copy)
            const outside = Task.make("outside", {
              module: NodeUrl.pathToFileURL(NodePath.join(pkg, "task.js")).href,
              payload: Schema.Number,
              success: Schema.Number,
              run: (n) => Effect.succeed(n)
            })
            const exit = yield* Effect.exit(ProcessPool.run(outside, 1).pipe(Effect.provide(cluster.client())))
            assert.strictEqual(failureReason(exit), "TaskNotFound")
            if (Exit.isFailure(exit)) {
              assert.include(
                Cause.pretty(exit.cause),
                `the package epp-outside is not installed in the runner's ${copy}/node_modules`
              )
            }
            assert.isFalse(NodeFs.existsSync(imported), "the runner imported a module from above its root")
          }),
        RUNNER_TEST_MS
      )
    })

    describe("a deployment tag that differs", () => {
      it.effect(
        "is refused: the task fails with DeploymentMismatch, naming both tags",
        () =>
          Effect.gen(function* () {
            const cluster = yield* TestCluster
            yield* runnerFor(repoRoot)
            const exit = yield* Effect.exit(
              ProcessPool.run(T.checked, 1).pipe(
                Effect.provide(cluster.client({ deployment: "other", runnerTimeout: "2 seconds" }))
              )
            )
            assert.strictEqual(failureReason(exit), "DeploymentMismatch")
            if (Exit.isFailure(exit)) {
              const message = (exit.cause.reasons[0] as { error: Error }).error.message
              assert.match(message, /runs deployment "test", not the client's "other"/)
            }
          }),
        RUNNER_TEST_MS
      )
    })
  }
)
