import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Stream } from "effect"
import { ProcessPool } from "../src/index.ts"
import * as T from "./fixtures/tasks.ts"
import { eventually } from "./helpers/eventually.ts"
import { readLines, tmpFile } from "./helpers/files.ts"

const pool = (options?: ProcessPool.Options) => ProcessPool.layer({ maxWorkers: 2, ...options })
const range = (n: number) => Array.from({ length: n }, (_, i) => i)
/** a deterministic "random" sequence, so a failure can be replayed */
const pseudoRandom = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  return seed / 2 ** 31
}

describe("map keeps input order", () => {
  for (const chunksize of [1, 3, "auto"] as const) {
    it.live(`under random delays, chunksize ${chunksize}`, () =>
      Effect.gen(function* () {
        const random = pseudoRandom(7)
        const inputs = range(40).map((n) => ({ n, ms: Math.floor(random() * 30) }))
        const results = yield* ProcessPool.map(T.delayed, inputs, { chunksize })
        assert.deepStrictEqual(results, range(40))
      }).pipe(Effect.provide(pool()))
    )
  }

  it.live("over any Iterable, and an empty one", () =>
    Effect.gen(function* () {
      const fromSet = yield* ProcessPool.map(T.square, new Set([3, 1, 2]))
      assert.deepStrictEqual(fromSet, [9, 1, 4])
      function* generate() {
        for (let i = 0; i < 5; i++) yield i
      }
      assert.deepStrictEqual(yield* ProcessPool.map(T.square, generate(), { chunksize: 2 }), [0, 1, 4, 9, 16])
      assert.deepStrictEqual(yield* ProcessPool.map(T.square, []), [])
    }).pipe(Effect.provide(pool()))
  )

  it.live("numbers that JSON has no text for (NaN, ±Infinity) among plain ones, in one chunk", () =>
    Effect.gen(function* () {
      // a chunk of plain numbers skips each value's codec; these ones must not
      const inputs = [1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2]
      const squares = [1, Number.NaN, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 4]
      assert.deepStrictEqual(yield* ProcessPool.map(T.square, inputs, { chunksize: inputs.length }), squares)
      assert.deepStrictEqual(yield* ProcessPool.map(T.square, [3, 1e200], { chunksize: 2 }), [
        9,
        Number.POSITIVE_INFINITY
      ])
    }).pipe(Effect.provide(pool()))
  )
})

describe("chunksize", () => {
  it.live("a chunk's inputs travel together and run on one worker, in order", () =>
    Effect.gen(function* () {
      const pids = yield* ProcessPool.map(T.whoami, range(40), { chunksize: 10 })
      for (let chunk = 0; chunk < 4; chunk++) {
        assert.strictEqual(new Set(pids.slice(chunk * 10, chunk * 10 + 10)).size, 1)
      }
      const marker = tmpFile("order")
      yield* ProcessPool.map(
        T.delayed,
        range(10).map((n) => ({ n, ms: 0, marker })),
        { chunksize: 10 }
      )
      assert.deepStrictEqual(
        readLines(marker),
        range(10).flatMap((n) => [`started ${n}`, `ended ${n}`])
      )
    }).pipe(Effect.provide(pool()))
  )

  it.live("auto gives heavy tasks one input per chunk, so every worker gets some", () =>
    Effect.gen(function* () {
      const pids = yield* ProcessPool.map(T.sleepPid, [200, 200, 200, 200, 200, 200], { chunksize: "auto" })
      assert.strictEqual(new Set(pids).size, 2)
    }).pipe(Effect.provide(pool()))
  )

  it.live("auto batches tiny tasks: 200,000 inputs take far fewer messages than inputs", () =>
    Effect.gen(function* () {
      const inputs = range(200_000)
      const results = yield* ProcessPool.map(T.square, inputs, { chunksize: "auto" })
      assert.strictEqual(results.length, inputs.length)
      assert.strictEqual(results[123_456], 123_456 ** 2)
      const stats = yield* ProcessPool.stats
      assert.strictEqual(stats.completed, 200_000)
      // a chunk counts as one task for maxTasksPerWorker: fewer than 1,000 chunks went to each worker
      assert.strictEqual(stats.restarted, 0)
    }).pipe(Effect.provide(pool({ maxTasksPerWorker: 1_000 })))
  )

  it.live("a fixed chunksize of 1 sends one message per input (counted by maxTasksPerWorker)", () =>
    Effect.gen(function* () {
      yield* ProcessPool.map(T.square, range(60), { chunksize: 1 })
      assert.isAtLeast((yield* ProcessPool.stats).restarted, 4)
    }).pipe(Effect.provide(pool({ maxTasksPerWorker: 10 })))
  )
})

describe("map failure", () => {
  it.live("fails with the error of the earliest failing input, even when a later one fails first", () =>
    Effect.gen(function* () {
      const inputs = [
        { n: 0, ms: 10 },
        { n: 1, ms: 400, fail: true }, // fails last in time, first in order
        { n: 2, ms: 10, fail: true },
        { n: 3, ms: 10 }
      ]
      const error = yield* Effect.flip(ProcessPool.map(T.delayed, inputs, { chunksize: 1 }))
      assert.instanceOf(error, T.Failed)
      assert.strictEqual((error as T.Failed).n, 1)
    }).pipe(Effect.provide(pool({ maxWorkers: 4 })))
  )

  it.live("cancels the rest: chunks in flight are interrupted in their workers, queued ones never start", () =>
    Effect.gen(function* () {
      const marker = tmpFile("marker")
      const inputs = [
        // fails only once input 1 runs: with a fixed delay, a worker slow to
        // start input 1 (a loaded machine) would see it cancelled first
        { n: 0, ms: 50, fail: true, marker, after: "started 1" },
        { n: 1, ms: 60_000, marker },
        ...range(20).map((i) => ({ n: 2 + i, ms: 60_000, marker }))
      ]
      // jobs of 200 ms first: a worker that measured those (or none yet) takes
      // no job ahead, so input 1 runs on the other worker, never behind input 0
      yield* Effect.forEach([200, 200], (ms) => ProcessPool.run(T.sleepPid, ms), { concurrency: "unbounded" })
      const start = Date.now()
      const error = yield* Effect.flip(ProcessPool.map(T.delayed, inputs, { chunksize: 1 }))
      assert.strictEqual((error as T.Failed).n, 0)
      assert.isBelow(Date.now() - start, 30_000) // the 60 s tasks were stopped
      const lines = readLines(marker)
      // input 1 was running on the other worker: interrupted there, its finalizer ran
      assert.include(lines, "started 1")
      assert.include(lines, "interrupted 1")
      // nothing queued started
      assert.deepStrictEqual(lines.filter((l) => l.startsWith("started")).sort(), ["started 0", "started 1"])
      assert.strictEqual((yield* ProcessPool.stats).busy, 0)
    }).pipe(Effect.provide(pool()))
  )

  it.live("a failure in the middle of a chunk fails the map with that input's error", () =>
    Effect.gen(function* () {
      const inputs = [1, 2, 300, 4, 5, 6]
      const error = yield* Effect.flip(ProcessPool.map(T.checked, inputs, { chunksize: 6 }))
      assert.instanceOf(error, T.TooLarge)
      assert.strictEqual((error as T.TooLarge).n, 300)
    }).pipe(Effect.provide(pool()))
  )

  it.live("an input that does not fit its Schema fails the map with TaskCodecError", () =>
    Effect.gen(function* () {
      const alone = yield* Effect.flip(ProcessPool.map(T.square, ["x" as unknown as number]))
      assert.strictEqual(alone._tag, "ProcessPoolError")
      const error = yield* Effect.flip(ProcessPool.map(T.square, [1, 2, "x" as unknown as number, 4], { chunksize: 2 }))
      assert.strictEqual(error._tag, "ProcessPoolError")
      if (error._tag === "ProcessPoolError") assert.strictEqual(error.reason._tag, "TaskCodecError")
    }).pipe(Effect.provide(pool()))
  )

  it.live("interrupting a map interrupts its chunks in their workers, and resumes once they stopped", () =>
    Effect.gen(function* () {
      const marker = tmpFile("marker")
      const fiber = yield* Effect.forkChild(
        ProcessPool.map(
          T.delayed,
          range(6).map((n) => ({ n, ms: 60_000, marker })),
          { chunksize: 1 }
        ),
        { startImmediately: true }
      )
      yield* eventually(
        Effect.sync(() => readLines(marker)),
        (lines) => lines.length >= 2,
        15_000
      )
      yield* Fiber.interrupt(fiber)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause))
      // by the time the interrupt returned, both running inputs had run their finalizers
      const lines = readLines(marker)
      assert.strictEqual(lines.filter((l) => l.startsWith("interrupted")).length, 2)
      assert.strictEqual(lines.filter((l) => l.startsWith("started")).length, 2)
    }).pipe(Effect.provide(pool()))
  )
})

describe("invalid chunksize or bufferSize dies at once, naming the option and the value", () => {
  const cases = [
    [{ chunksize: 0 }, /`chunksize` to be a positive integer or "auto", got `0` \(number\)/],
    [{ chunksize: -3 }, /got `-3` \(number\)/],
    [{ chunksize: 2.5 }, /got `2.5` \(number\)/],
    [{ chunksize: "big" }, /got `"big"` \(string\)/],
    [{ bufferSize: 0 }, /`bufferSize` to be a positive integer, got `0` \(number\)/],
    [{ bufferSize: 1.5 }, /`bufferSize` to be a positive integer, got `1.5`/]
  ] as const
  for (const [options, message] of cases) {
    it.live(JSON.stringify(options), () =>
      Effect.gen(function* () {
        const runs = [
          ...("bufferSize" in options ? [] : [ProcessPool.map(T.square, [1], options as ProcessPool.MapOptions)]),
          Stream.runDrain(ProcessPool.mapStream(T.square, [1], options as ProcessPool.StreamOptions)),
          Stream.runDrain(ProcessPool.asCompleted(T.square, [1], options as ProcessPool.StreamOptions))
        ]
        for (const run of runs) {
          const exit = yield* Effect.exit(run)
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isSuccess(exit)) continue
          const defect = Cause.squash(exit.cause)
          assert.isTrue(Cause.isIllegalArgumentError(defect))
          assert.match((defect as Error).message, message)
        }
        assert.strictEqual((yield* ProcessPool.stats).workers, 0)
      }).pipe(Effect.provide(pool()))
    )
  }
})
