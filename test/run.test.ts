import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, References } from "effect"
import { ProcessPool } from "../src/index.ts"
import * as T from "./fixtures/tasks.ts"
import { eventually } from "./helpers/eventually.ts"
import { assertDies, defectOf } from "./helpers/exits.ts"
import { onProcesses, workerName } from "./helpers/kind.ts"

const pool = (options?: ProcessPool.Options) => ProcessPool.layer({ maxWorkers: 2, ...options })

describe("run", () => {
  it.live("computes in a worker process and answers through the task's Schemas", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* ProcessPool.run(T.square, 12), 144)
      const pid = yield* ProcessPool.run(T.sleepPid, 0)
      assert.notStrictEqual(pid, process.pid)
      const value = { at: new Date("2026-01-02T03:04:05.000Z"), big: 2n ** 70n, tags: ["a", "b"] }
      const back = yield* ProcessPool.run(T.rich, value)
      assert.deepStrictEqual(back, { ...value, big: 2n ** 71n })
      assert.isTrue(back.at instanceof Date)
    }).pipe(Effect.provide(pool()))
  )

  it.live("values JSON text does not carry exactly cross unchanged beside those it does, in one batch", () =>
    Effect.gen(function* () {
      // on threads a batch of plain numbers and strings crosses as JSON text, anything else by a
      // structured clone (src/internal/workerThread.ts): the two must not be told apart. (A
      // process's "json" framing is JSON all the way: -0 is 0 there, as the README says.)
      const service = yield* ProcessPool.ProcessPool
      const values: ReadonlyArray<unknown> = [1, -0, "\ud800", "é😀", 2 ** 53 + 2, 1e-300, [1, -0], { a: -0 }, 0, "x"]
      const fibers = yield* Effect.forEach(values, (value) => service.submit(T.echo, value))
      const back = yield* Fiber.joinAll(fibers)
      assert.deepStrictEqual(back, onProcesses ? JSON.parse(JSON.stringify(values)) : values)
      if (onProcesses) return
      assert.isTrue(Object.is(back[1], -0))
      assert.isTrue(Object.is((back[6] as Array<number>)[1], -0))
      assert.isTrue(Object.is((back[7] as { a: number }).a, -0))
    }).pipe(Effect.provide(pool({ maxWorkers: 1 })))
  )

  it.live("the module-level operations and the service's are the same", () =>
    Effect.gen(function* () {
      const service = yield* ProcessPool.ProcessPool
      assert.strictEqual(yield* service.run(T.square, 3), 9)
      assert.deepStrictEqual(yield* service.map(T.square, [1, 2, 3]), [1, 4, 9])
    }).pipe(Effect.provide(pool()))
  )
})

describe("typed errors cross the boundary as class instances", () => {
  it.live("instanceof and Effect.catchTag work in the parent", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(ProcessPool.run(T.checked, 500))
      assert.isTrue(error instanceof T.TooLarge)
      assert.strictEqual((error as T.TooLarge).n, 500)
      const caught = yield* ProcessPool.run(T.checked, 1000).pipe(
        Effect.catchTag("TooLarge", (e) => Effect.succeed(-e.n))
      )
      assert.strictEqual(caught, -1000)
      assert.strictEqual(yield* ProcessPool.run(T.checked, 1), 2)
    }).pipe(Effect.provide(pool()))
  )
})

describe("defects in a worker are defects in the parent", () => {
  it.live("Effect.die keeps the name, the message, the worker's stack and its name", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(ProcessPool.run(T.die, "out of range"))
      assertDies(exit)
      const defect = defectOf(exit)
      assert.instanceOf(defect, Error)
      assert.strictEqual(defect.name, "RangeError")
      assert.strictEqual(defect.message, "out of range")
      assert.match(defect.stack!, /fixtures\/tasks\.ts/) // the worker's own frames
      assert.match(defect.stack!, new RegExp(`effect-process-pool ${workerName}, task "die"`))
      assert.match(Cause.pretty(exit.cause), /RangeError: out of range/)
      assert.match(Cause.pretty(exit.cause), new RegExp(workerName))
    }).pipe(Effect.provide(pool()))
  )

  it.live("a thrown exception is a defect with its own name", () =>
    Effect.gen(function* () {
      const defect = defectOf(yield* Effect.exit(ProcessPool.run(T.throws, "not a function")))
      assert.strictEqual(defect.name, "TypeError")
      assert.strictEqual(defect.message, "not a function")
    }).pipe(Effect.provide(pool()))
  )
})

describe("submit", () => {
  it.live("returns a fiber at once, which outlives the fiber that called submit", () =>
    Effect.gen(function* () {
      // the caller's fiber (and its scope) end before the task does
      const future = yield* Effect.scoped(ProcessPool.submit(T.sleepPid, 300))
      assert.isUndefined(future.pollUnsafe())
      const pid = yield* Fiber.join(future)
      assert.notStrictEqual(pid, process.pid)
    }).pipe(Effect.provide(pool()))
  )

  it.live("Fiber.join gives the task's typed error", () =>
    Effect.gen(function* () {
      const futures = yield* Effect.forEach([1, 500, 3], (n) => ProcessPool.submit(T.checked, n))
      const exits = yield* Effect.forEach(futures, Fiber.await)
      assert.deepStrictEqual(exits.map(Exit.isSuccess), [true, false, true])
    }).pipe(Effect.provide(pool()))
  )
})

describe("submit's fiber", () => {
  // `submit` answers a handle of its own (src/internal/jobFiber.ts), not a forked fiber:
  // Effect's fiber functions read a fiber's internals, which this pins for each of them
  it.live("works with every function of Effect's Fiber module", () =>
    Effect.gen(function* () {
      const a = yield* ProcessPool.submit(T.square, 3)
      assert.isTrue(Fiber.isFiber(a))
      assert.strictEqual(yield* Fiber.join(a), 9)
      assert.strictEqual(yield* a.pipe(Fiber.join), 9)
      assert.deepStrictEqual(yield* Fiber.await(a), Exit.succeed(9))
      assert.deepStrictEqual(a.pollUnsafe(), Exit.succeed(9))
      const many = yield* Effect.forEach([1, 2, 3, 4], (n) => ProcessPool.submit(T.square, n))
      assert.deepStrictEqual(yield* Fiber.joinAll(many), [1, 4, 9, 16])
      const mixed = yield* Effect.forEach([1, 500], (n) => ProcessPool.submit(T.checked, n))
      assert.deepStrictEqual((yield* Fiber.awaitAll(mixed)).map(Exit.isSuccess), [true, false])
      const failed = yield* Effect.flip(Fiber.joinAll(mixed))
      assert.isTrue(failed instanceof T.TooLarge)
      // an ended fiber's interruption changes nothing
      yield* Fiber.interrupt(a)
      assert.deepStrictEqual(yield* Fiber.await(a), Exit.succeed(9))
    }).pipe(Effect.provide(pool()))
  )

  it.live("interrupting it stops the task, and resumes once it has stopped", () =>
    Effect.gen(function* () {
      const running = yield* ProcessPool.submit(T.spin, 60_000)
      const queued = yield* Effect.forEach([60_000, 60_000], (ms) => ProcessPool.submit(T.spin, ms))
      yield* eventually(ProcessPool.stats, (s) => s.busy === 2)
      yield* Fiber.interruptAll([running, ...queued])
      for (const fiber of [running, ...queued]) {
        const exit = fiber.pollUnsafe()
        assert.isTrue(exit !== undefined && Exit.hasInterrupts(exit))
      }
      // the pool goes on
      assert.strictEqual(yield* ProcessPool.run(T.square, 5), 25)
    }).pipe(Effect.provide(pool({ interruptGrace: 200 })))
  )

  it.live("lives in a scope with Fiber.runIn, and ends interrupted when the pool closes", () =>
    Effect.gen(function* () {
      const scoped = yield* Effect.scoped(
        Effect.gen(function* () {
          const scope = yield* Effect.scope
          const fiber = yield* ProcessPool.submit(T.spin, 60_000)
          return Fiber.runIn(fiber, scope)
        })
      ).pipe(Effect.provide(pool({ interruptGrace: 200 })))
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(scoped)))
      const pending = yield* Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ maxWorkers: 1, interruptGrace: 200 })
          return yield* pool.submit(T.spin, 60_000)
        })
      )
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(pending)))
    })
  )

  it.live("carries its caller's context", () =>
    Effect.gen(function* () {
      const fiber = yield* ProcessPool.submit(T.square, 2).pipe(
        Effect.provideService(References.MinimumLogLevel, "Error")
      )
      assert.strictEqual(fiber.getRef(References.MinimumLogLevel), "Error")
      assert.strictEqual(yield* Fiber.join(fiber), 4)
    }).pipe(Effect.provide(pool()))
  )
})

describe("stats", () => {
  it.live("counts workers, busy workers, queued inputs and outcomes", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* ProcessPool.stats, {
        workers: 0,
        busy: 0,
        queued: 0,
        waiting: 0,
        completed: 0,
        failed: 0,
        crashed: 0,
        restarted: 0
      })
      const futures = yield* Effect.forEach([1000, 1000, 1000, 1000], (ms) => ProcessPool.submit(T.sleepPid, ms))
      const during = yield* eventually(ProcessPool.stats, (s) => s.busy === 2)
      assert.strictEqual(during.workers, 2)
      assert.strictEqual(during.queued, 2)
      yield* Effect.forEach(futures, Fiber.join)
      yield* Effect.exit(ProcessPool.run(T.checked, 1000))
      const after = yield* ProcessPool.stats
      assert.strictEqual(after.completed, 4)
      assert.strictEqual(after.failed, 1)
      assert.strictEqual(after.busy, 0)
    }).pipe(Effect.provide(pool()))
  )
})
