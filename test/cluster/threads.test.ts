/**
 * A runner whose local pool runs threads (`workerType: "thread"`): the same
 * tasks, the same operations and the same errors through the cluster, and a
 * task that ends its thread fails one call while the runner lives on.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/cluster/tasks.ts"
import { layer as clusterLayer, TestCluster } from "./helpers/cluster.ts"

const onCluster = <A, E>(effect: Effect.Effect<A, E, ProcessPool.ProcessPool | TestCluster | Scope.Scope>) =>
  Effect.flatMap(TestCluster, (cluster) => Effect.provide(effect, cluster.client()))

layer(clusterLayer({ runners: 1, maxWorkers: 2, workerType: "thread" }), {
  excludeTestServices: true,
  timeout: "60 seconds"
})("a runner on threads", (it) => {
  describe("workerType: thread", () => {
    it.effect("runs its chunks on threads of the runner's own process", () =>
      onCluster(
        Effect.gen(function* () {
          const [runner] = (yield* TestCluster).runners
          const spins = Array.from({ length: 8 }, (_, i) => ({ i, ms: 5 }))
          const results = yield* ProcessPool.map(T.spin, spins, { chunksize: 1 })
          assert.deepStrictEqual(
            results.map((r) => r.i),
            spins.map((s) => s.i)
          )
          // a thread's process.pid is its runner's: no worker process was started
          for (const r of results) assert.strictEqual(r.worker, runner!.pid)
        })
      )
    )

    it.effect("a task that exits its thread fails with WorkerCrashed naming a thread; the runner lives on", () =>
      onCluster(
        Effect.gen(function* () {
          const [runner] = (yield* TestCluster).runners
          const error = yield* Effect.flip(ProcessPool.run(T.exits, 70))
          const reason = (error as unknown as { reason: { _tag: string; workerType: string; exitCode: number } }).reason
          assert.strictEqual(reason._tag, "WorkerCrashed")
          assert.strictEqual(reason.workerType, "thread")
          assert.strictEqual(reason.exitCode, 70)
          const after = yield* ProcessPool.run(T.spin, { i: 1, ms: 1 })
          assert.strictEqual(after.worker, runner!.pid)
        })
      )
    )
  })
})
