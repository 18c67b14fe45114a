/**
 * Task references that travel and deployment tags, on a real cluster: a
 * runner started from a copy of the code in another folder finds the task
 * under its own root; a runner of another deployment gets no work.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { assert, describe, layer } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { repoRoot } from "../../scripts/cluster/harness.ts"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/cluster/tasks.ts"
import { layer as clusterLayer, TestCluster } from "./helpers/cluster.ts"

/** A copy of what a runner needs, in a fresh folder: the sources, the runner, the task modules; node_modules linked. */
const copyOfRepo = (): string => {
  const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "epp-copy-"))
  for (const path of ["package.json", "src", "scripts", "examples/cluster", "test/fixtures/cluster"]) {
    NodeFs.cpSync(NodePath.join(repoRoot, path), NodePath.join(dir, path), { recursive: true })
  }
  NodeFs.symlinkSync(NodePath.join(repoRoot, "node_modules"), NodePath.join(dir, "node_modules"))
  return dir
}

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
      it.effect("finds the task by its path under its own root, and runs the copy's module", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          const copy = copyOfRepo()
          yield* Effect.addFinalizer(() => Effect.sync(() => NodeFs.rmSync(copy, { recursive: true, force: true })))
          const runner = yield* cluster.addRunner({ root: copy })
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
        })
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

    describe("a deployment tag that differs", () => {
      it.effect("is refused: the task fails with DeploymentMismatch, naming both tags", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
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
        })
      )
    })
  }
)
