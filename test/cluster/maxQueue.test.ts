/**
 * The cluster client's `maxQueue` bounds its own queue (chunks waiting for a
 * runner's credit) as the local pool's bounds its: callers wait for room in
 * arrival order, an interrupted waiter takes no room, closing the client
 * fails the waiters with `PoolClosed`. One runner of one worker, one chunk
 * in flight (`chunksPerWorker: 1`): a long nap holds it while the test
 * looks at who waits.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/cluster/tasks.ts"
import { eventually } from "../helpers/eventually.ts"
import { layer as clusterLayer, TestCluster } from "./helpers/cluster.ts"

const HOLD_MS = 4_000

const reasonOf = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const error = Cause.squash(exit.cause) as { _tag?: string; reason?: { _tag: string } }
  return error._tag === "ProcessPoolError" ? error.reason?._tag : error._tag
}

layer(clusterLayer({ runners: 1, maxWorkers: 1 }), { excludeTestServices: true, timeout: "60 seconds" })(
  "a cluster client with maxQueue",
  (it) => {
    describe("callers wait for room in the client's queue", () => {
      it.effect("in arrival order; an interrupted waiter leaves the line and takes no room", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          const client = cluster.client({ maxQueue: 2, chunksPerWorker: 1 })
          yield* Effect.gen(function* () {
            const held = yield* Effect.forkChild(ProcessPool.run(T.nap, { i: -1, ms: HOLD_MS }), {
              startImmediately: true
            })
            yield* eventually(ProcessPool.stats, (s) => s.busy === 1)
            const order: Array<number> = []
            const call = (n: number) =>
              ProcessPool.run(T.checked, n).pipe(
                Effect.tap(() => Effect.sync(() => order.push(n))),
                Effect.forkChild({ startImmediately: true })
              )
            const first = yield* call(1)
            const second = yield* call(2)
            const gone = yield* call(3)
            const fourth = yield* call(4)
            const full = yield* eventually(ProcessPool.stats, (s) => s.waiting === 2)
            assert.strictEqual(full.queued, 2, "the client's queue holds maxQueue inputs")
            yield* Fiber.interrupt(gone)
            assert.strictEqual((yield* ProcessPool.stats).waiting, 1)
            assert.deepStrictEqual(yield* Fiber.joinAll([first, second, fourth]), [2, 3, 5])
            yield* Fiber.join(held)
            assert.deepStrictEqual(order, [1, 2, 4], "in arrival order; the interrupted one never ran")
            assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(gone)))
          }).pipe(Effect.provide(client))
        })
      )

      it.effect("closing the client fails the waiting callers with PoolClosed", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          const scope = yield* Scope.make()
          const context = yield* Layer.buildWithScope(cluster.client({ maxQueue: 1, chunksPerWorker: 1 }), scope)
          const pool = (effect: Effect.Effect<any, any, ProcessPool.ProcessPool>) => Effect.provide(effect, context)
          const held = yield* Effect.forkChild(pool(ProcessPool.run(T.nap, { i: -1, ms: HOLD_MS })), {
            startImmediately: true
          })
          yield* eventually(pool(ProcessPool.stats), (s) => s.busy === 1)
          yield* pool(ProcessPool.submit(T.checked, 1))
          const waiting = yield* Effect.forkChild(pool(ProcessPool.run(T.checked, 2)), { startImmediately: true })
          yield* eventually(pool(ProcessPool.stats), (s) => s.waiting === 1)
          yield* Scope.close(scope, Exit.void)
          assert.strictEqual(reasonOf(yield* Fiber.await(waiting)), "PoolClosed")
          yield* Fiber.await(held)
        })
      )
    })
  }
)
