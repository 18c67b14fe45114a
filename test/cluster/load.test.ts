/**
 * A busy cluster keeps the local pool's semantics (issue #18): work queued
 * behind busy runners that answer waits, however long, and fails with
 * `RunnerUnavailable` only when no runner has been reachable for
 * `runnerTimeout`; clients that share runners each get a fair share.
 * `runnerTimeout` is 2 s here, so that every test queues work for two to
 * three times that behind 2 runners of one worker each (and a cluster that
 * loses its runners for a moment under load, as Effect Cluster does when its
 * storage is slow, is not taken for gone).
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/cluster/tasks.ts"
import { layer as clusterLayer, TestCluster } from "./helpers/cluster.ts"

const RUNNER_TIMEOUT = "2 seconds"

const naps = (n: number, ms: number) => Array.from({ length: n }, (_, i) => ({ i, ms }))

layer(clusterLayer({ runners: 2, maxWorkers: 1 }), { excludeTestServices: true, timeout: "90 seconds" })(
  "a busy cluster",
  (it) => {
    describe("work queued behind busy runners", () => {
      it.effect("a map with a fixed chunksize that takes several times runnerTimeout completes", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          // 24 × 500 ms on 2 workers: ~6 s, with most chunks queued in the client for over 2 s
          const out = yield* ProcessPool.map(T.nap, naps(24, 500), { chunksize: 1 }).pipe(
            Effect.provide(cluster.client({ runnerTimeout: RUNNER_TIMEOUT }))
          )
          assert.deepStrictEqual(
            out.map((o) => o.i),
            naps(24, 500).map((x) => x.i)
          )
        })
      )

      it.effect("30 concurrent runs on a small cluster all complete", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          const out = yield* Effect.forEach(naps(30, 300), (input) => ProcessPool.run(T.nap, input), {
            concurrency: "unbounded"
          }).pipe(Effect.provide(cluster.client({ runnerTimeout: RUNNER_TIMEOUT })))
          assert.deepStrictEqual(
            out.map((o) => o.i),
            naps(30, 300).map((x) => x.i)
          )
          // both runners took part
          assert.strictEqual(new Set(out.map((o) => o.runner)).size, 2)
        })
      )
    })

    describe("two clients sharing the runners", () => {
      it.effect("both complete, each with a fair share of the runners while both had work", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          /** when each of a client's inputs completed, in ms since the epoch */
          const completions = (client: ReturnType<typeof cluster.client>) =>
            ProcessPool.asCompleted(T.nap, naps(30, 150), { chunksize: 1 }).pipe(
              Stream.map((c) => {
                if (c.exit._tag === "Failure") throw new Error(`input ${c.index} failed`)
                return Date.now()
              }),
              Stream.runCollect,
              Effect.provide(client)
            )
          const [a, b] = yield* Effect.all(
            [
              completions(cluster.client({ runnerTimeout: RUNNER_TIMEOUT })),
              completions(cluster.client({ runnerTimeout: RUNNER_TIMEOUT }))
            ],
            { concurrency: 2 }
          )
          assert.strictEqual(a.length, 30)
          assert.strictEqual(b.length, 30)
          // while both had work (until the first finished), each got a fair share of what completed
          const both = Math.min(Math.max(...a), Math.max(...b))
          const doneA = a.filter((t) => t <= both).length
          const doneB = b.filter((t) => t <= both).length
          const share = Math.min(doneA, doneB) / (doneA + doneB)
          assert.isAtLeast(share, 0.3, `shares ${doneA}/${doneB}`)
        })
      )
    })
  }
)
