/**
 * A task that replaces what the worker's own machinery uses (JSON, Buffer,
 * fs.writeSync, process.exit, a toJSON on Object.prototype) must not change
 * what later callers on that worker are answered, nor make them wait: the
 * worker's runtime uses references taken before any task ran
 * (src/internal/primordials.ts). A retiring worker that cannot exit is killed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as G from "../fixtures/hostileGlobals.ts"
import { framings } from "../helpers/kind.ts"
import { waitGone } from "../helpers/processes.ts"

/** A bound on each call: a worker that hangs fails the test instead of the run. */
const bounded = <A, E>(effect: Effect.Effect<A, E>) =>
  effect.pipe(Effect.timeoutOrElse({ duration: "20 seconds", orElse: () => Effect.die(new Error("the call hung")) }))

describe("a task that replaces a global the worker's machinery uses", () => {
  for (const serialization of framings) {
    for (const replaces of G.Replaces.literals) {
      it.live(`${replaces} (${serialization}): its own and every later caller on the worker get their answers`, () =>
        Effect.scoped(
          Effect.gen(function* () {
            const pool = yield* ProcessPool.make({ maxWorkers: 1, ...(serialization ? { serialization } : {}) })
            assert.strictEqual(yield* bounded(pool.run(G.replacesThenDoubles, { n: 2, replaces })), 4)
            const first = yield* bounded(pool.run(G.doubles, 2))
            assert.strictEqual(first.n, 4)
            for (let n = 0; n < 5; n++) {
              const later = yield* bounded(pool.run(G.doubles, n))
              assert.deepStrictEqual(later, { n: n * 2, pid: first.pid }, "the same worker answers correctly")
            }
            const mapped = yield* bounded(pool.map(G.doubles, [1, 2, 3, 4, 44, 444], { chunksize: 2 }))
            assert.deepStrictEqual(
              mapped.map((r) => r.n),
              [2, 4, 6, 8, 88, 888]
            )
            assert.strictEqual((yield* pool.stats).crashed, 0)
          })
        )
      )
    }
  }
})

describe("a streaming task that replaces a global the worker's machinery uses", () => {
  const expected = (count: number) => Array.from({ length: count }, (_, i) => ({ i, s: `row ${i} of 4` }))
  for (const serialization of framings) {
    for (const replaces of G.Replaces.literals) {
      it.live(
        `${replaces} (${serialization}): its own elements and every later stream's on the worker arrive as sent`,
        () =>
          Effect.scoped(
            Effect.gen(function* () {
              const pool = yield* ProcessPool.make({ maxWorkers: 1, ...(serialization ? { serialization } : {}) })
              const own = yield* bounded(
                Stream.runCollect(pool.stream(G.replacesThenStreams, { count: 600, replaces }))
              )
              assert.deepStrictEqual(own, expected(600))
              for (const count of [1, 300, 3000]) {
                assert.deepStrictEqual(
                  yield* bounded(Stream.runCollect(pool.stream(G.streams, count))),
                  expected(count)
                )
              }
              assert.strictEqual((yield* pool.stats).crashed, 0)
            })
          )
      )
    }
  }
})

describe("a worker retired by maxTasksPerWorker", () => {
  it.live("exits even when its task replaced process.exit: no worker outlives its turn", () =>
    Effect.scoped(
      Effect.gen(function* () {
        // a long shutdownTimeout: the workers must exit by themselves, not be killed at its end
        const pool = yield* ProcessPool.make({ maxWorkers: 2, maxTasksPerWorker: 1, shutdownTimeout: 60_000 })
        const pids: Array<number> = []
        for (let n = 0; n < 4; n++) {
          yield* bounded(pool.run(G.replacesThenDoubles, { n, replaces: "process.exit" }))
          pids.push((yield* bounded(pool.run(G.doubles, n))).pid)
        }
        assert.strictEqual(new Set(pids).size, 4)
        // each of these ran after a task that replaced process.exit, on a worker retired since
        yield* waitGone(pids, 10_000)
      })
    )
  )

  it.live("is killed when it does not exit within shutdownTimeout (a layer's finalizer that never ends)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1, maxTasksPerWorker: 1, shutdownTimeout: 300 })
        const pids: Array<number> = []
        for (let n = 0; n < 4; n++) pids.push(yield* bounded(pool.run(G.layerNeverReleases, n)))
        assert.strictEqual(new Set(pids).size, 4, "each job on a fresh worker")
        // every retired worker is gone within its bound (and a second or so to be reaped)
        yield* waitGone(pids.slice(0, 3), 5_000)
        const stats = yield* pool.stats
        assert.strictEqual(stats.crashed, 0, "a retired worker the pool killed did not crash")
      })
    )
  )
})
