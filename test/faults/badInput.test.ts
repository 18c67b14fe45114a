/**
 * Bad input gets a clear, typed error and loses nothing else: after each case
 * the same pool serves other tasks.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { ProcessPool, ProcessPoolError, Task } from "../../src/index.ts"
import * as T from "../fixtures/tasks.ts"

const pool = (options?: ProcessPool.Options) => ProcessPool.layer({ maxWorkers: 2, ...options })

const codecPhase = (error: unknown) => {
  assert.isTrue(ProcessPoolError.isProcessPoolError(error))
  const reason = (error as ProcessPoolError.ProcessPoolError).reason
  assert.strictEqual(reason._tag, "TaskCodecError")
  return reason as ProcessPoolError.TaskCodecError
}

describe("values that do not fit their Schema fail with TaskCodecError", () => {
  it.live("a payload of the wrong shape fails before it is sent", () =>
    Effect.gen(function* () {
      const reason = codecPhase(yield* Effect.flip(ProcessPool.run(T.square, "7" as unknown as number)))
      assert.strictEqual(reason.phase, "payload")
      assert.strictEqual(reason.task, "square")
      assert.match(reason.message, /payload of task "square" does not fit its Schema: Expected number/)
      assert.strictEqual((yield* ProcessPool.stats).workers, 0) // nothing was sent, so nothing started
      assert.strictEqual(yield* ProcessPool.run(T.square, 7), 49)
    }).pipe(Effect.provide(pool()))
  )

  it.live("a function or a circular object is a payload error, not a crash", () =>
    Effect.gen(function* () {
      const circular: Record<string, unknown> = {}
      circular.self = circular
      for (const bad of [() => 1, circular, 10n]) {
        assert.strictEqual(codecPhase(yield* Effect.flip(ProcessPool.run(T.echo, bad))).phase, "payload")
      }
      assert.deepStrictEqual(yield* ProcessPool.run(T.echo, { ok: [1, "two"] }), { ok: [1, "two"] })
    }).pipe(Effect.provide(pool()))
  )

  it.live("a result or a typed error that does not fit fails with the phase that did not", () =>
    Effect.gen(function* () {
      assert.strictEqual(codecPhase(yield* Effect.flip(ProcessPool.run(T.badResult, 1))).phase, "success")
      assert.strictEqual(codecPhase(yield* Effect.flip(ProcessPool.run(T.badError, 1))).phase, "failure")
      assert.strictEqual(yield* ProcessPool.run(T.square, 5), 25)
    }).pipe(Effect.provide(pool()))
  )

  it.live("a 16 MiB payload goes through", () =>
    Effect.gen(function* () {
      const big = "x".repeat(16 * 1024 * 1024)
      const back = yield* ProcessPool.run(T.echo, big)
      assert.strictEqual((back as string).length, big.length)
      assert.strictEqual(yield* ProcessPool.run(T.square, 6), 36)
    }).pipe(Effect.provide(pool()))
  )
})

describe("TaskNotFound", () => {
  it.live("a module without a task of that name fails with TaskNotFound, and the pool goes on", () =>
    Effect.gen(function* () {
      const ghost = Task.make("ghost", {
        module: new URL("../fixtures/tasks.ts", import.meta.url).href,
        payload: Schema.Number,
        success: Schema.Number,
        run: Effect.succeed
      })
      const error = yield* Effect.flip(ProcessPool.run(ghost, 1))
      assert.strictEqual(error.reason._tag, "TaskNotFound")
      assert.match(error.message, /exports no task named "ghost"/)
      assert.strictEqual(yield* ProcessPool.run(T.square, 4), 16)
    }).pipe(Effect.provide(pool()))
  )
})
