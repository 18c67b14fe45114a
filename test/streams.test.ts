import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Stream } from "effect"
import { ProcessPool } from "../src/index.ts"
import * as T from "./fixtures/tasks.ts"
import { eventually } from "./helpers/eventually.ts"
import { readLines, tmpFile } from "./helpers/files.ts"
import { workersUp } from "./helpers/workers.ts"

const pool = (options?: ProcessPool.Options) => ProcessPool.layer({ maxWorkers: 2, ...options })
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/**
 * Waits (with a bound) until one of the long inputs (all but input 0) has
 * started in a worker. The tests that stop a stream early wait for it before
 * they stop: the first result can come before any worker started a long input
 * (the second worker still starting, the first not yet on its next job), and
 * then no work would be left in a worker to stop.
 */
const aLongInputStarted = (marker: string) =>
  eventually(
    Effect.sync(() => readLines(marker)),
    (lines) => lines.some((l) => l.startsWith("started") && l !== "started 0"),
    15_000
  )

/** An endless iterable that counts how many inputs were taken from it. */
const naturals = () => {
  const taken = { count: 0 }
  const iterable = {
    *[Symbol.iterator]() {
      for (let n = 0; ; n++) {
        taken.count++
        yield n
      }
    }
  }
  return { iterable, taken }
}

describe("mapStream", () => {
  it.live("emits results in input order, under random delays", () =>
    Effect.gen(function* () {
      const inputs = range(30).map((n) => ({ n, ms: (n * 7919) % 40 }))
      for (const chunksize of [1, 4, "auto"] as const) {
        const results = yield* ProcessPool.mapStream(T.delayed, inputs, { chunksize }).pipe(Stream.runCollect)
        assert.deepStrictEqual(results, range(30))
      }
    }).pipe(Effect.provide(pool()))
  )

  it.live("takes inputs from an endless Iterable only as needed, at most bufferSize chunks ahead", () =>
    Effect.gen(function* () {
      const { iterable, taken } = naturals()
      const first = yield* ProcessPool.mapStream(T.square, iterable, { chunksize: 3, bufferSize: 2 }).pipe(
        Stream.take(10),
        Stream.runCollect
      )
      assert.deepStrictEqual(
        first,
        range(10).map((n) => n * n)
      )
      // 10 results are 4 chunks of 3; at most 2 more chunks were taken ahead
      assert.isAtMost(taken.count, 12 + 2 * 3 + 1)
    }).pipe(Effect.provide(pool()))
  )

  it.live("takes its inputs from a Stream, possibly endless", () =>
    Effect.gen(function* () {
      const results = yield* ProcessPool.mapStream(
        T.square,
        Stream.iterate(1, (n) => n + 1)
      ).pipe(Stream.take(5), Stream.runCollect)
      assert.deepStrictEqual(results, [1, 4, 9, 16, 25])
      const finite = yield* ProcessPool.mapStream(T.square, Stream.make(2, 3), { chunksize: 1 }).pipe(Stream.runCollect)
      assert.deepStrictEqual(finite, [4, 9])
    }).pipe(Effect.provide(pool()))
  )

  it.live("emits the results before a failing input, then fails with its error", () =>
    Effect.gen(function* () {
      const seen: Array<number> = []
      const exit = yield* ProcessPool.mapStream(T.checked, [1, 2, 300, 4], { chunksize: 4 }).pipe(
        Stream.runForEach((n) => Effect.sync(() => seen.push(n))),
        Effect.exit
      )
      assert.deepStrictEqual(seen, [2, 3])
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) assert.instanceOf(Cause.squash(exit.cause), T.TooLarge)
    }).pipe(Effect.provide(pool()))
  )

  it.live("a failing input Stream fails the result after the results of the inputs before it", () =>
    Effect.gen(function* () {
      const inputs = Stream.make(1, 2).pipe(Stream.concat(Stream.fail("source broke")))
      const seen: Array<number> = []
      const error = yield* ProcessPool.mapStream(T.square, inputs, { chunksize: 1 }).pipe(
        Stream.runForEach((n) => Effect.sync(() => seen.push(n))),
        Effect.flip
      )
      assert.strictEqual(error, "source broke")
      assert.deepStrictEqual(seen, [1, 4])
    }).pipe(Effect.provide(pool()))
  )

  it.live("stopping the consumer (Stream.take) stops all work in the workers", () =>
    Effect.gen(function* () {
      const marker = tmpFile("marker")
      const inputs = [{ n: 0, ms: 10, marker }, ...range(10).map((i) => ({ n: i + 1, ms: 60_000, marker }))]
      const first = yield* ProcessPool.mapStream(T.delayed, inputs, { chunksize: 1, bufferSize: 4 }).pipe(
        Stream.tap(() => aLongInputStarted(marker)),
        Stream.take(1),
        Stream.runCollect
      )
      assert.deepStrictEqual(first, [0])
      // by the time the stream ended, the long inputs that had started were interrupted in their workers
      const lines = readLines(marker)
      const started = lines.filter((l) => l.startsWith("started") && l !== "started 0").length
      const interrupted = lines.filter((l) => l.startsWith("interrupted")).length
      assert.isAtLeast(started, 1)
      assert.strictEqual(interrupted, started)
      assert.isAtMost(started, 3) // bufferSize bounded what was sent
      assert.strictEqual((yield* ProcessPool.stats).busy, 0)
    }).pipe(Effect.provide(pool()))
  )

  it.live("interrupting the consuming fiber stops the work too", () =>
    Effect.gen(function* () {
      const marker = tmpFile("marker")
      const fiber = yield* ProcessPool.mapStream(
        T.delayed,
        range(10).map((n) => ({ n, ms: 60_000, marker })),
        { chunksize: 1 }
      ).pipe(Stream.runDrain, Effect.forkChild({ startImmediately: true }))
      yield* eventually(
        Effect.sync(() => readLines(marker)),
        (lines) => lines.length >= 2,
        15_000
      )
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(readLines(marker).filter((l) => l.startsWith("interrupted")).length, 2)
    }).pipe(Effect.provide(pool()))
  )
})

describe("asCompleted", () => {
  it.live("one worker's answers are delivered in the order it gave them, whatever way each crosses", () =>
    Effect.gen(function* () {
      // on threads a success (a number) comes back through the shared ring and a typed failure
      // through the port (src/internal/answerRing.ts); one worker answers in the order it was sent
      const service = yield* ProcessPool.ProcessPool
      // a first round teaches the pool the worker's pace: it then holds many jobs ahead
      yield* service.map(
        T.checked,
        range(300).map((i) => i % 100),
        { chunksize: 1 }
      )
      const inputs = range(300).map((i) => (i % 3 === 2 ? 500 : i % 100))
      const order: Array<number> = []
      const fibers = yield* Effect.forEach(inputs, (n, i) =>
        service
          .submit(T.checked, n)
          .pipe(Effect.tap((fiber) => Effect.sync(() => fiber.addObserver(() => order.push(i)))))
      )
      // the jobs leave; then the parent's loop is held while the worker answers them all, so that
      // answers wait both ways and are read in one go
      yield* Effect.sleep(1)
      yield* Effect.sync(() => {
        const until = Date.now() + 300
        while (Date.now() < until) {
          // hold the event loop
        }
      })
      yield* Fiber.awaitAll(fibers)
      assert.deepStrictEqual(order, range(300))
    }).pipe(Effect.provide(pool({ maxWorkers: 1 })))
  )

  it.live("emits one element per input in completion order, with the caller's own input", () =>
    Effect.gen(function* () {
      // the three inputs run at once only if the three workers are up: on a
      // loaded machine they come up hundreds of milliseconds apart
      yield* workersUp(yield* ProcessPool.ProcessPool, 3)
      const inputs = [
        { n: 0, ms: 600 },
        { n: 1, ms: 10 },
        { n: 2, ms: 250 }
      ]
      const elements = yield* ProcessPool.asCompleted(T.delayed, inputs, { chunksize: 1 }).pipe(Stream.runCollect)
      assert.deepStrictEqual(
        elements.map((e) => e.index),
        [1, 2, 0]
      )
      for (const e of elements) {
        assert.strictEqual(e.input, inputs[e.index]) // the very same object
        assert.deepStrictEqual(e.exit, Exit.succeed(e.index))
      }
    }).pipe(Effect.provide(pool({ maxWorkers: 3 })))
  )

  it.live("a failed input is an element with a failed Exit, and the stream goes on; every input appears once", () =>
    Effect.gen(function* () {
      const inputs = range(50).map((n) => ({ n, ms: (n * 31) % 20, fail: n % 7 === 3 }))
      for (const chunksize of [1, 5, "auto"] as const) {
        const elements = yield* ProcessPool.asCompleted(T.delayed, inputs, { chunksize }).pipe(Stream.runCollect)
        assert.deepStrictEqual(
          elements.map((e) => e.index).sort((a, b) => a - b),
          range(50)
        )
        for (const { exit, index } of elements) {
          if (index % 7 === 3) {
            assert.isTrue(Exit.isFailure(exit))
            if (Exit.isFailure(exit)) assert.deepStrictEqual(Cause.squash(exit.cause), new T.Failed({ n: index }))
          } else {
            assert.deepStrictEqual(exit, Exit.succeed(index))
          }
        }
      }
    }).pipe(Effect.provide(pool()))
  )

  it.live("inside a chunk, every input runs and reports its own outcome", () =>
    Effect.gen(function* () {
      const elements = yield* ProcessPool.asCompleted(T.checked, [1, 200, 3, 400, 5], { chunksize: 5 }).pipe(
        Stream.runCollect
      )
      assert.deepStrictEqual(
        elements.map((e) => (Exit.isSuccess(e.exit) ? e.exit.value : "failed")),
        [2, "failed", 4, "failed", 6]
      )
    }).pipe(Effect.provide(pool()))
  )

  it.live("an input that does not fit its Schema is a failed element; the others still run", () =>
    Effect.gen(function* () {
      const inputs = [1, "two" as unknown as number, 3]
      const elements = yield* ProcessPool.asCompleted(T.square, inputs, { chunksize: 3 }).pipe(Stream.runCollect)
      const byIndex = elements.sort((a, b) => a.index - b.index)
      assert.deepStrictEqual(byIndex[0]!.exit, Exit.succeed(1))
      assert.isTrue(Exit.isFailure(byIndex[1]!.exit))
      assert.deepStrictEqual(byIndex[2]!.exit, Exit.succeed(9))
    }).pipe(Effect.provide(pool()))
  )

  it.live("inputs whose wire form differs from them (a Date, a bigint) around one that does not fit", () =>
    Effect.gen(function* () {
      const good = (n: number) => ({ at: new Date(n * 1000), big: BigInt(n), tags: [`t${n}`] })
      const bad = { at: "not a date", big: 1n, tags: [] } as unknown as ReturnType<typeof good>
      const inputs = [good(1), good(2), bad, good(4), good(5)]
      const elements = yield* ProcessPool.asCompleted(T.rich, inputs, { chunksize: 5 }).pipe(Stream.runCollect)
      const byIndex = elements.sort((a, b) => a.index - b.index)
      assert.deepStrictEqual(
        byIndex.map((e) => e.index),
        [0, 1, 2, 3, 4]
      )
      for (const i of [0, 1, 3, 4]) {
        assert.deepStrictEqual(byIndex[i]!.exit, Exit.succeed({ ...good(i + 1), big: BigInt(2 * (i + 1)) }))
        assert.strictEqual(byIndex[i]!.input, inputs[i])
      }
      assert.isTrue(Exit.isFailure(byIndex[2]!.exit))
      // mapStream keeps the order up to the input that does not fit
      const ordered = yield* ProcessPool.mapStream(T.rich, inputs.slice(0, 2), { chunksize: 2 }).pipe(Stream.runCollect)
      assert.deepStrictEqual(ordered, [
        { ...good(1), big: 2n },
        { ...good(2), big: 4n }
      ])
    }).pipe(Effect.provide(pool()))
  )

  it.live("an input that does not fit, as the last or the only one, is still reported", () =>
    Effect.gen(function* () {
      const bad = "x" as unknown as number
      const last = yield* ProcessPool.asCompleted(T.square, [1, bad], { chunksize: 1 }).pipe(Stream.runCollect)
      assert.deepStrictEqual(last.map((e) => e.index).sort(), [0, 1])
      const only = yield* ProcessPool.asCompleted(T.square, [bad]).pipe(Stream.runCollect)
      assert.strictEqual(only.length, 1)
      assert.isTrue(Exit.isFailure(only[0]!.exit))
      const streamed = yield* Effect.flip(ProcessPool.mapStream(T.square, [bad]).pipe(Stream.runCollect))
      assert.strictEqual(streamed._tag, "ProcessPoolError")
    }).pipe(Effect.provide(pool()))
  )

  it.live("stopping early cancels the rest in the workers", () =>
    Effect.gen(function* () {
      const marker = tmpFile("marker")
      const inputs = [{ n: 0, ms: 10, marker }, ...range(8).map((i) => ({ n: i + 1, ms: 60_000, marker }))]
      const first = yield* ProcessPool.asCompleted(T.delayed, inputs, { chunksize: 1 }).pipe(
        Stream.tap(() => aLongInputStarted(marker)),
        Stream.take(1),
        Stream.runCollect
      )
      assert.strictEqual(first[0]!.index, 0)
      const lines = readLines(marker)
      const started = lines.filter((l) => l.startsWith("started") && l !== "started 0").length
      assert.isAtLeast(started, 1)
      assert.strictEqual(lines.filter((l) => l.startsWith("interrupted")).length, started)
    }).pipe(Effect.provide(pool()))
  )

  it.live("takes an endless input lazily", () =>
    Effect.gen(function* () {
      const { iterable, taken } = naturals()
      const elements = yield* ProcessPool.asCompleted(T.square, iterable, { chunksize: 2, bufferSize: 3 }).pipe(
        Stream.take(6),
        Stream.runCollect
      )
      assert.strictEqual(elements.length, 6)
      assert.isAtMost(taken.count, 6 + 3 * 2 + 1)
    }).pipe(Effect.provide(pool()))
  )
})
