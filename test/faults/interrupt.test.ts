/**
 * Cancellation is fiber interruption. Besides the tests here, the same path is
 * exercised by: `Stream.take` (streams.test.ts, "stopping the consumer"), a
 * failing sibling in `map` (map.test.ts, "cancels the rest"), and a closing
 * scope (lifecycle.test.ts, "interrupts queued and running tasks").
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/tasks.ts"
import { eventually } from "../helpers/eventually.ts"
import { readLines, tmpFile } from "../helpers/files.ts"
import { isAlive } from "../helpers/processes.ts"

const pool = (options?: ProcessPool.Options) => ProcessPool.layer({ maxWorkers: 1, ...options })
const interruptedOnly = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
const waitForLines = (file: string, n: number) =>
  eventually(
    Effect.sync(() => readLines(file)),
    (l) => l.length >= n
  )

describe("a queued task that is interrupted", () => {
  it.live("never starts", () =>
    Effect.gen(function* () {
      const marker = tmpFile("marker")
      const first = yield* ProcessPool.submit(T.delayed, { n: 0, ms: 500, marker })
      const queued = yield* ProcessPool.submit(T.delayed, { n: 1, ms: 0, marker })
      yield* Fiber.interrupt(queued)
      assert.isTrue(interruptedOnly(yield* Fiber.await(queued)))
      assert.strictEqual(yield* Fiber.join(first), 0)
      yield* Effect.sleep(100)
      assert.deepStrictEqual(readLines(marker), ["started 0", "ended 0"])
    }).pipe(Effect.provide(pool()))
  )

  it.live(
    "held ahead by a worker busy in a synchronous loop: never starts, and its caller resumes within interruptGrace",
    () =>
      Effect.gen(function* () {
        const marker = tmpFile("marker")
        // tiny tasks first: the worker's measured time per task is small, so it takes tasks ahead
        yield* ProcessPool.map(
          T.square,
          Array.from({ length: 500 }, (_, i) => i),
          { chunksize: 1 }
        )
        const busy = yield* ProcessPool.submit(T.spinLogged, { ms: 2_500, marker })
        const held = yield* ProcessPool.submit(T.delayed, { n: 1, ms: 0, marker })
        yield* waitForLines(marker, 1)
        const start = Date.now()
        yield* Fiber.interrupt(held)
        const waited = Date.now() - start
        assert.isTrue(interruptedOnly(yield* Fiber.await(held)))
        assert.isBelow(waited, 2_000) // did not wait for the busy task to finish
        // the busy task was not killed for it: it finishes normally
        assert.isNumber(yield* Fiber.join(busy))
        yield* Effect.sleep(100)
        assert.isFalse(readLines(marker).includes("started 1"))
        assert.strictEqual((yield* ProcessPool.stats).restarted, 0)
      }).pipe(Effect.provide(pool({ interruptGrace: 300 })))
  )
})

describe("a running task that is interrupted", () => {
  it.live("is interrupted inside its worker: its finalizers run there before the caller resumes", () =>
    Effect.gen(function* () {
      const marker = tmpFile("marker")
      const fiber = yield* ProcessPool.submit(T.sleeper, { ms: 60_000, marker })
      const [started] = yield* waitForLines(marker, 1)
      const pid = Number(started!.split(" ")[1])
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(readLines(marker), [`started ${pid}`, `interrupted ${pid}`])
      // the worker honoured it, so it was kept
      assert.strictEqual(yield* ProcessPool.run(T.sleepPid, 0), pid)
    }).pipe(Effect.provide(pool()))
  )

  it.live(
    "busy in a synchronous loop: its worker is killed after interruptGrace and replaced; the caller resumes once it is dead",
    () =>
      Effect.gen(function* () {
        const marker = tmpFile("marker")
        const fiber = yield* ProcessPool.submit(T.spinLogged, { ms: 60_000, marker })
        const [started] = yield* waitForLines(marker, 1)
        const pid = Number(started!.split(" ")[1])
        const start = Date.now()
        yield* Fiber.interrupt(fiber)
        const waited = Date.now() - start
        assert.isFalse(isAlive(pid))
        assert.isAtLeast(waited, 250) // it gave the task its grace of 300 ms
        assert.isBelow(waited, 5_000)
        assert.isTrue(interruptedOnly(yield* Fiber.await(fiber)))
        const next = yield* ProcessPool.run(T.sleepPid, 0)
        assert.notStrictEqual(next, pid)
        const stats = yield* ProcessPool.stats
        assert.strictEqual(stats.crashed, 0) // killed on purpose, not a crash
        assert.strictEqual(stats.restarted, 1)
      }).pipe(Effect.provide(pool({ interruptGrace: 300 })))
  )

  it.live("the slot is not handed to another task before the stuck worker is dead", () =>
    Effect.gen(function* () {
      const marker = tmpFile("marker")
      const stuck = yield* ProcessPool.submit(T.spinLogged, { ms: 60_000, marker })
      const [started] = yield* waitForLines(marker, 1)
      const stuckPid = Number(started!.split(" ")[1])
      const next = yield* ProcessPool.submit(T.whoami, 0)
      yield* Fiber.interrupt(stuck)
      const pid = yield* Fiber.join(next)
      assert.notStrictEqual(pid, stuckPid)
    }).pipe(Effect.provide(pool({ interruptGrace: 300 })))
  )
})

describe("Effect combinators cancel work in the workers", () => {
  it.live("Effect.timeout", () =>
    Effect.gen(function* () {
      yield* ProcessPool.run(T.square, 1) // a worker is up: the timeout measures the task, not the start
      const marker = tmpFile("marker")
      const error = yield* Effect.flip(ProcessPool.run(T.sleeper, { ms: 60_000, marker }).pipe(Effect.timeout(300)))
      assert.isTrue(Cause.isTimeoutError(error))
      assert.match(readLines(marker)[1] ?? "", /^interrupted \d+$/)
    }).pipe(Effect.provide(pool()))
  )

  it.live("Effect.timeout around a synchronous loop returns once the worker is killed", () =>
    Effect.gen(function* () {
      const start = Date.now()
      const error = yield* Effect.flip(ProcessPool.run(T.spin, 60_000).pipe(Effect.timeout(200)))
      assert.isTrue(Cause.isTimeoutError(error))
      assert.isBelow(Date.now() - start, 5_000)
    }).pipe(Effect.provide(pool({ interruptGrace: 300 })))
  )

  it.live("Effect.race: the loser is interrupted in its worker", () =>
    Effect.gen(function* () {
      yield* ProcessPool.run(T.square, 1)
      const marker = tmpFile("marker")
      const winner = yield* Effect.race(
        ProcessPool.run(T.sleeper, { ms: 60_000, marker }).pipe(Effect.as("task")),
        Effect.sleep(300).pipe(Effect.as("timer"))
      )
      assert.strictEqual(winner, "timer")
      assert.match(readLines(marker)[1] ?? "", /^interrupted \d+$/)
    }).pipe(Effect.provide(pool()))
  )

  it.live("Fiber.interrupt of many tasks at once: every one stops, none is left running", () =>
    Effect.gen(function* () {
      const marker = tmpFile("marker")
      const fibers = yield* Effect.forEach(
        Array.from({ length: 6 }, (_, n) => n),
        (n) => ProcessPool.submit(T.delayed, { n, ms: 60_000, marker })
      )
      yield* waitForLines(marker, 2)
      yield* Fiber.interruptAll(fibers)
      const lines = readLines(marker)
      assert.strictEqual(lines.filter((l) => l.startsWith("started")).length, 2)
      assert.strictEqual(lines.filter((l) => l.startsWith("interrupted")).length, 2)
      assert.strictEqual((yield* ProcessPool.stats).busy, 0)
    }).pipe(Effect.provide(pool({ maxWorkers: 2 })))
  )
})
