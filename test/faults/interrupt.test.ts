/**
 * Cancellation is fiber interruption. Besides the tests here, the same path is
 * exercised by: `Stream.take` (streams.test.ts, "stopping the consumer"), a
 * failing sibling in `map` (map.test.ts, "cancels the rest"), and a closing
 * scope (lifecycle.test.ts, "interrupts queued and running tasks").
 */
import * as NodeFs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Metric } from "effect"
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
        const { busy, held, marker, release } = yield* heldBehindABusyWorker
        const start = Date.now()
        yield* Fiber.interrupt(held)
        const waited = Date.now() - start
        assert.isTrue(interruptedOnly(yield* Fiber.await(held)))
        assert.isBelow(waited, 2_000) // did not wait for the busy task to finish
        assert.isUndefined(busy.pollUnsafe()) // it could not have: that task is still busy
        NodeFs.writeFileSync(release, "")
        // the busy task was not killed for it: it finishes normally
        assert.isNumber(yield* Fiber.join(busy))
        // the worker runs its jobs in order: once a later job has run there, `held` would have started
        assert.strictEqual(yield* ProcessPool.run(T.square, 3), 9)
        assert.isFalse(readLines(marker).includes("started 1"))
        assert.strictEqual((yield* ProcessPool.stats).restarted, 0)
      }).pipe(Effect.provide(pool({ interruptGrace: 300 })), Effect.provideService(Metric.MetricRegistry, new Map()))
  )
})

/** How many jobs of the task named `task` the pool has sent to a worker (one queue-wait sample is taken per send). */
const sentJobs = (task: string) =>
  Metric.snapshot.pipe(
    Effect.map((snapshots) =>
      snapshots
        .filter((s) => s.id === "process_pool_queue_wait_ms" && s.attributes?.task === task)
        .reduce((sum, s) => sum + Number((s.state as { count?: number }).count ?? 0), 0)
    )
  )

/**
 * The precondition of the test above, made true: `busy` (`T.spinUntil`) is
 * running in the pool's only worker, in a synchronous loop that ends only when
 * the file `release` is written, and `held` (`T.delayed` of input 1) has been
 * sent to that worker behind it (held ahead, not kept in the pool's queue).
 *
 * The loop lasts until the test releases it, so the interrupt reaches the
 * worker while it is busy however slowly the machine runs: with a loop of a
 * fixed 2.5 s, an interrupt that came after the loop's end would find `held`
 * started, rightly, and fail the test.
 * The pool holds a job ahead only for a worker whose measured time per job is
 * small, hence the tiny tasks first; a loaded machine can still leave that
 * measure high, and `held` in the queue. Then both are ended, and it tries
 * again (the tiny tasks bring the measure down again). Needs a fresh
 * `Metric.MetricRegistry` (see `sentJobs`).
 */
const heldBehindABusyWorker = Effect.gen(function* () {
  for (let attempt = 1; ; attempt++) {
    const marker = tmpFile("marker")
    const release = `${marker}.release`
    yield* ProcessPool.map(
      T.square,
      Array.from({ length: 500 }, (_, i) => i),
      { chunksize: 1 }
    )
    const heldBefore = yield* sentJobs("delayed")
    const busy = yield* ProcessPool.submit(T.spinUntil, { marker, release, ms: 20_000 })
    const held = yield* ProcessPool.submit(T.delayed, { n: 1, ms: 0, marker })
    // once `busy` runs, the parent has dispatched `held` or keeps it until `busy` answers
    yield* waitForLines(marker, 1)
    if ((yield* sentJobs("delayed")) > heldBefore) return { busy, held, marker, release }
    if (attempt === 5) return yield* Effect.die(new Error("the pool did not hold a job ahead in 5 attempts"))
    yield* Fiber.interrupt(held)
    NodeFs.writeFileSync(release, "")
    yield* Fiber.join(busy)
  }
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
