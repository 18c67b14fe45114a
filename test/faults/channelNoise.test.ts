/**
 * Stray bytes on a worker's channel (fixtures/channelNoise.ts) with JSON
 * framing: the answer after them reaches its caller, the same worker answers
 * the calls after it, and what was dropped is counted.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Metric } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as N from "../fixtures/channelNoise.ts"
import * as T from "../fixtures/tasks.ts"

const dropped = Metric.snapshot.pipe(
  Effect.map((snapshots) =>
    snapshots
      .filter((s) => s.id === "process_pool_messages_dropped")
      .reduce((sum, s) => sum + Number((s.state as { count?: number }).count ?? 0), 0)
  )
)

/** Not forever: a lost answer leaves its caller waiting. */
const BOUND_MS = 20_000

describe("stray bytes on a worker's channel, RS among them", () => {
  for (const noise of N.Noise.literals) {
    it.live(`${noise}: the answer after them arrives, and the worker answers the next calls`, () =>
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ maxWorkers: 1 })
          const pid = yield* pool.run(T.whoami, 0)
          const before = yield* dropped
          const exit = yield* Effect.exit(pool.run(N.noisyAnswer, { n: 7, noise }).pipe(Effect.timeout(BOUND_MS)))
          assert.deepStrictEqual(exit, Exit.succeed(7))
          assert.strictEqual(yield* pool.run(T.square, 3).pipe(Effect.timeout(BOUND_MS)), 9)
          // a batch: the calls behind the noisy one are held by the same worker and answered in turn
          const fibers = yield* Effect.forEach([1, 2, 3], (n) =>
            n === 1 ? pool.submit(N.noisyAnswer, { n: 8, noise }) : pool.submit(T.square, n)
          )
          const answers = yield* Effect.forEach(fibers, Fiber.join).pipe(Effect.timeout(BOUND_MS))
          assert.deepStrictEqual(answers, [8, 4, 9])
          assert.strictEqual(yield* pool.run(T.whoami, 0), pid, "the same worker serves on")
          assert.isAtLeast((yield* dropped) - before, 2, "what was dropped is counted")
          const stats = yield* pool.stats
          assert.strictEqual(stats.crashed, 0)
          assert.strictEqual(stats.failed, 0)
        })
      )
    )
  }
})
