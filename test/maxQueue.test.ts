/**
 * `maxQueue` with real workers, on both kinds: callers suspend while the pool
 * holds `maxQueue` inputs not started, in arrival order; an interrupted
 * waiter takes no room; closing the pool fails the waiters with `PoolClosed`;
 * `map` and the streams feed under the same bound. A gate task (the
 * fixtures' `barrier`, released by a line the test writes) holds the only
 * worker, so what waits is decided by the test, not by timing.
 */
import * as NodeFs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Metric, Scope, Stream } from "effect"
import { ProcessPool } from "../src/index.ts"
import * as T from "./fixtures/tasks.ts"
import { eventually } from "./helpers/eventually.ts"
import { readLines, tmpFile } from "./helpers/files.ts"

/** A task that holds its worker until `release` (at most 30 s). */
const gate = () => {
  const marker = tmpFile("gate")
  return {
    hold: ProcessPool.run(T.barrier, { marker, parties: 2, ms: 30_000 }),
    /** the gate task is running in its worker */
    running: eventually(
      Effect.sync(() => readLines(marker)),
      (lines) => lines.length >= 1
    ),
    release: Effect.sync(() => NodeFs.appendFileSync(marker, "release\n"))
  }
}

/** The pool's stats, once `done` holds for them (polled, within 10 s). */
const statsWhen = (done: (s: ProcessPool.PoolStats) => boolean) => eventually(ProcessPool.stats, done)

const reasonOf = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const error = Cause.squash(exit.cause) as { _tag?: string; reason?: { _tag: string } }
  return error._tag === "ProcessPoolError" ? error.reason?._tag : error._tag
}

const pool = (maxQueue: number) => ProcessPool.layer({ maxWorkers: 1, maxQueue })

describe("run and submit suspend while the queue is full", () => {
  it.live("in arrival order, and stats count the waiting callers", () =>
    Effect.gen(function* () {
      const g = gate()
      const held = yield* Effect.forkChild(g.hold, { startImmediately: true })
      yield* g.running
      const order: Array<number> = []
      const callers: Array<Fiber.Fiber<number, unknown>> = []
      for (let i = 0; i < 6; i++) {
        callers.push(
          yield* ProcessPool.run(T.square, i).pipe(
            Effect.tap(() => Effect.sync(() => order.push(i))),
            Effect.forkChild({ startImmediately: true })
          )
        )
      }
      const full = yield* statsWhen((s) => s.waiting === 4)
      assert.strictEqual(full.queued, 2, "the queue holds maxQueue inputs, no more")
      yield* g.release
      assert.deepStrictEqual(yield* Fiber.joinAll(callers), [0, 1, 4, 9, 16, 25])
      assert.deepStrictEqual(order, [0, 1, 2, 3, 4, 5], "one worker runs them in the order they arrived")
      yield* Fiber.join(held)
      assert.strictEqual((yield* ProcessPool.stats).waiting, 0)
    }).pipe(Effect.provide(pool(2)))
  )

  it.live("submit returns its fiber only once its task is admitted", () =>
    Effect.gen(function* () {
      const g = gate()
      const held = yield* Effect.forkChild(g.hold, { startImmediately: true })
      yield* g.running
      const first = yield* ProcessPool.submit(T.square, 3)
      const second = yield* Effect.forkChild(ProcessPool.submit(T.square, 4), { startImmediately: true })
      yield* statsWhen((s) => s.waiting === 1 && s.queued === 1)
      assert.isUndefined(second.pollUnsafe(), "the second submit waits for room")
      // a payload that does not encode never becomes a job: its submit does not wait
      const refused = yield* ProcessPool.submit(T.square, "x" as never)
      assert.isTrue(Exit.isFailure(yield* Fiber.await(refused)))
      yield* g.release
      const future = yield* Fiber.join(second)
      assert.strictEqual(yield* Fiber.join(future), 16)
      assert.strictEqual(yield* Fiber.join(first), 9)
      yield* Fiber.join(held)
    }).pipe(Effect.provide(pool(1)))
  )

  it.live("an interrupted waiter leaves the line, takes no room and never runs", () =>
    Effect.gen(function* () {
      const g = gate()
      const marker = tmpFile("sleepers")
      const held = yield* Effect.forkChild(g.hold, { startImmediately: true })
      yield* g.running
      const queued = yield* Effect.forkChild(ProcessPool.run(T.sleeper, { ms: 0, marker }), { startImmediately: true })
      const gone = yield* Effect.forkChild(ProcessPool.run(T.sleeper, { ms: 0, marker }), { startImmediately: true })
      yield* statsWhen((s) => s.waiting === 1)
      yield* Fiber.interrupt(gone)
      const after = yield* ProcessPool.stats
      assert.strictEqual(after.waiting, 0)
      assert.strictEqual(after.queued, 1)
      // the room it would have taken goes to the next caller
      const next = yield* Effect.forkChild(ProcessPool.run(T.square, 5), { startImmediately: true })
      yield* statsWhen((s) => s.waiting === 1)
      yield* g.release
      yield* Fiber.join(queued)
      assert.strictEqual(yield* Fiber.join(next), 25)
      yield* Fiber.join(held)
      assert.deepStrictEqual(
        readLines(marker).map((l) => l.split(" ")[0]),
        ["started", "ended"],
        "only the queued sleeper ran"
      )
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(gone)))
    }).pipe(Effect.provide(pool(1)))
  )

  it.live("closing the pool fails the waiting callers with PoolClosed", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const service = yield* ProcessPool.make({ maxWorkers: 1, maxQueue: 1, shutdownTimeout: 100 }).pipe(
        Scope.provide(scope)
      )
      const marker = tmpFile("gate")
      const held = yield* Effect.forkChild(service.run(T.barrier, { marker, parties: 2, ms: 30_000 }), {
        startImmediately: true
      })
      yield* eventually(
        Effect.sync(() => readLines(marker)),
        (lines) => lines.length >= 1
      )
      yield* service.submit(T.square, 1)
      const waitingRun = yield* Effect.forkChild(service.run(T.square, 2), { startImmediately: true })
      const waitingSubmit = yield* Effect.forkChild(service.submit(T.square, 3), { startImmediately: true })
      yield* eventually(service.stats, (s) => s.waiting === 2)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(reasonOf(yield* Fiber.await(waitingRun)), "PoolClosed")
      const future = yield* Fiber.join(waitingSubmit)
      assert.strictEqual(reasonOf(yield* Fiber.await(future)), "PoolClosed", "submit gives a fiber that failed")
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(held)), "a running caller ends interrupted, as ever")
    })
  )
})

describe("map, mapStream and asCompleted feed under the same bound", () => {
  it.live("stats.queued never exceeds maxQueue, whatever the chunk sizes", () =>
    Effect.gen(function* () {
      const maxQueue = 3
      let most = 0
      let mostWaiting = 0
      const sampler = yield* ProcessPool.stats.pipe(
        Effect.tap((s) =>
          Effect.sync(() => {
            most = Math.max(most, s.queued)
            mostWaiting = Math.max(mostWaiting, s.waiting)
          })
        ),
        Effect.andThen(Effect.sleep(1)),
        Effect.forever,
        Effect.forkChild({ startImmediately: true })
      )
      const inputs = Array.from({ length: 40 }, (_, i) => i)
      const squares = inputs.map((i) => i * i)
      const g = gate()
      const held = yield* Effect.forkChild(g.hold, { startImmediately: true })
      yield* g.running
      const mapped = yield* Effect.forkChild(ProcessPool.map(T.square, inputs, { chunksize: 10 }), {
        startImmediately: true
      })
      const streamed = yield* Effect.forkChild(
        Stream.runCollect(ProcessPool.mapStream(T.square, inputs, { chunksize: 10, bufferSize: 8 })),
        { startImmediately: true }
      )
      const completed = yield* Effect.forkChild(
        ProcessPool.asCompleted(T.square, inputs, { chunksize: "auto", bufferSize: 8 }).pipe(Stream.runCollect),
        { startImmediately: true }
      )
      const submitted = yield* Effect.forkChild(
        Effect.forEach(inputs, (i) => ProcessPool.submit(T.square, i)),
        { startImmediately: true }
      )
      // each of the four callers has one call waiting: a driver reads no more inputs while its chunk waits
      const full = yield* statsWhen((s) => s.waiting === 4)
      assert.strictEqual(full.queued, maxQueue)
      yield* g.release
      assert.deepStrictEqual(yield* Fiber.join(mapped), squares)
      assert.deepStrictEqual(yield* Fiber.join(streamed), squares)
      assert.deepStrictEqual(
        (yield* Fiber.join(completed)).map((c) => c.index).sort((a, b) => a - b),
        inputs
      )
      assert.deepStrictEqual(yield* Effect.forEach(yield* Fiber.join(submitted), Fiber.join), squares)
      yield* Fiber.join(held)
      yield* Fiber.interrupt(sampler)
      assert.isAtMost(most, maxQueue, "stats.queued stayed within maxQueue")
      assert.strictEqual(mostWaiting, 4, "one waiting call per caller")
    }).pipe(Effect.provide(pool(3)))
  )

  it.live("an endless input stream is read only as fast as room frees", () =>
    Effect.gen(function* () {
      const maxQueue = 4
      for (const operation of ["mapStream", "asCompleted"] as const) {
        let read = 0
        // an Iterable is read exactly as far as the feeder asks (a Stream is pulled by the chunk)
        const endless: Iterable<number> = {
          *[Symbol.iterator]() {
            for (let i = 0; ; i++) {
              read++
              yield i
            }
          }
        }
        const g = gate()
        const held = yield* Effect.forkChild(g.hold, { startImmediately: true })
        yield* g.running
        const options = { chunksize: 1, bufferSize: 1_000 }
        const results: Stream.Stream<unknown, unknown, ProcessPool.ProcessPool> =
          operation === "mapStream"
            ? ProcessPool.mapStream(T.square, endless, options)
            : ProcessPool.asCompleted(T.square, endless, options)
        const consumer = yield* results.pipe(
          Stream.take(50),
          Stream.runCollect,
          Effect.forkChild({ startImmediately: true })
        )
        yield* statsWhen((s) => s.queued === maxQueue && s.waiting === 1)
        // without the bound, a bufferSize of 1,000 chunks would have read 1,000 inputs
        assert.isAtMost(read, maxQueue + 1, `${operation}: the queue's inputs, and the one that waits for room`)
        const readWhileFull = read
        yield* Effect.sleep(200)
        assert.strictEqual(read, readWhileFull, `${operation}: nothing more is read while the queue is full`)
        yield* g.release
        assert.strictEqual((yield* Fiber.join(consumer)).length, 50)
        yield* Fiber.join(held)
      }
    }).pipe(Effect.provide(pool(4)))
  )
})

describe("observability", () => {
  it.live("a histogram records how long callers waited for room", () =>
    Effect.gen(function* () {
      const g = gate()
      const held = yield* Effect.forkChild(g.hold, { startImmediately: true })
      yield* g.running
      const callers = yield* Effect.forEach([1, 2, 3], (i) =>
        Effect.forkChild(ProcessPool.run(T.square, i), { startImmediately: true })
      )
      yield* statsWhen((s) => s.waiting === 2)
      yield* Effect.sleep(50)
      yield* g.release
      yield* Fiber.joinAll(callers)
      yield* Fiber.join(held)
      const waits = (yield* Metric.snapshot).filter(
        (s) => s.id === "process_pool_admission_wait_ms" && s.attributes?.task === "square"
      )
      const state = waits[0]?.state as { count: number; max: number } | undefined
      assert.strictEqual(state?.count, 3, "one observation per admitted job")
      assert.isAtLeast(state?.max ?? 0, 50, "the waiters waited at least as long as the gate held")
    }).pipe(Effect.provide(pool(1)), Effect.provideService(Metric.MetricRegistry, new Map()))
  )
})
