/**
 * A task that takes the pool's channel away from its worker (closes fd 3,
 * replaces fd 4, reads fd 3 behind the runtime's back) leaves a worker that
 * lives but can no longer take jobs or answer. The pool treats it as lost
 * within a bound: what it ran fails with `WorkerCrashed` that says so, it
 * counts as a crash, and the next callers are served by a new worker. No
 * caller waits for ever (each call here is bounded, and the bound failing is
 * the test failing).
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as C from "../fixtures/hostileChannel.ts"
import * as T from "../fixtures/tasks.ts"
import { reasonOf } from "../helpers/exits.ts"

const bounded = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.exit(
    effect.pipe(Effect.timeoutOrElse({ duration: "15 seconds", orElse: () => Effect.die(new Error("the call hung")) }))
  )

/** The reason of a failed call, or its value. */
const outcome = (exit: Exit.Exit<number, unknown>) => {
  if (Exit.isSuccess(exit)) return { value: exit.value }
  const error = Cause.squash(exit.cause)
  if (error instanceof Error && error.message === "the call hung") throw error
  return { reason: reasonOf(error) as { _tag: string; message: string; detail?: string } }
}

describe("a task that takes its worker's channel away", () => {
  it.live("closes fd 3: its own answer arrives; the worker takes no more jobs and is replaced", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
        assert.deepStrictEqual(outcome(yield* bounded(pool.run(C.takesChannel, { n: 1, takes: "closes fd 3" }))), {
          value: 1
        })
        // The next call may be written before the parent has seen fd 3 close (the two
        // arrive together): it is lost with the worker. Once seen, no job is sent there.
        const next = outcome(yield* bounded(pool.run(T.square, 2)))
        if (next.reason !== undefined) assert.match(next.reason.message, /lost its channel.*fd 3/)
        else assert.strictEqual(next.value, 4)
        for (let n = 3; n < 6; n++)
          assert.deepStrictEqual(outcome(yield* bounded(pool.run(T.square, n))), { value: n * n })
        assert.strictEqual((yield* pool.stats).crashed, 1)
      })
    )
  )

  for (const takes of ["replaces fd 4", "closes fd 4"] as const) {
    it.live(`${takes}: its caller gets WorkerCrashed, and the next callers a new worker`, () =>
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
          const own = outcome(yield* bounded(pool.run(C.takesChannel, { n: 1, takes })))
          assert.strictEqual(own.reason?._tag, "WorkerCrashed")
          if (takes === "replaces fd 4") assert.match(own.reason!.message, /lost its channel.*fd 4/)
          for (let n = 2; n < 6; n++) {
            assert.deepStrictEqual(outcome(yield* bounded(pool.run(T.square, n))), { value: n * n })
          }
          assert.strictEqual((yield* pool.stats).crashed, 1)
        })
      )
    )
  }

  it.live("reads fd 3 in a timer: a worker that lost a message exits, a call fails at worst, none waits for ever", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1 })
        assert.deepStrictEqual(
          outcome(yield* bounded(pool.run(C.takesChannel, { n: 1, takes: "reads fd 3 in a timer" }))),
          { value: 1 }
        )
        let crashes = 0
        /** A call's outcome: its value, or the crash of the thief's worker that lost its message. */
        const served = (n: number) =>
          Effect.map(bounded(pool.run(T.square, n)), (exit) => {
            const result = outcome(exit)
            if (result.reason === undefined) {
              assert.strictEqual(result.value, n * n)
              return true
            }
            crashes++
            assert.strictEqual(result.reason._tag, "WorkerCrashed")
            assert.match(result.reason.message, /lost its channel: messages from the parent went missing/)
            return false
          })
        for (let n = 2; n < 8; n++) yield* served(n)
        // The thief's worker is gone at the latest when it loses a message, and the thief with it:
        // once a call fails, the next is served. (Which message the thief takes is a matter of
        // timing: the first it takes may be this one.)
        if (!(yield* served(9))) assert.isTrue(yield* served(9))
        assert.strictEqual((yield* pool.stats).crashed, crashes)
      })
    )
  )
})
