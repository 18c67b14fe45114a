import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber } from "effect"
import { ProcessPool } from "../src/index.ts"
import * as T from "./fixtures/tasks.ts"
import { eventually } from "./helpers/eventually.ts"
import { assertDies, defectOf } from "./helpers/exits.ts"
import { workerName } from "./helpers/kind.ts"

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
