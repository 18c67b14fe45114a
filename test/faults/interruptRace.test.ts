/**
 * A caller that keeps the parent busy right after it interrupts a job: the
 * interrupt of a job held ahead leaves only after the worker has finished the
 * job before it and started the held one. The held job, running by then, is
 * interrupted in its worker; its grace counts from when the interrupt left
 * (not from the caller's decision, 1.8 s earlier), so it is not killed for
 * the parent's delay; and its caller resumes once it has stopped there.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as H from "../fixtures/hostile.ts"
import * as T from "../fixtures/tasks.ts"
import { eventually } from "../helpers/eventually.ts"
import { readLines, tmpFile } from "../helpers/files.ts"

/** Keeps the parent's event loop busy for `ms`: no timer, no I/O runs meanwhile. */
const block = (ms: number) => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    // a parent busy elsewhere
  }
}

describe("a held job whose interrupt leaves after it started", () => {
  it.live("is interrupted in the worker within its grace, and its caller resumes once it stopped there", () =>
    Effect.gen(function* () {
      const marker = tmpFile("marker")
      // tiny tasks first: the worker's measured time per task is small, so it takes tasks ahead
      yield* ProcessPool.map(
        T.square,
        Array.from({ length: 500 }, (_, i) => i),
        { chunksize: 1 }
      )
      const busy = yield* ProcessPool.submit(T.spinLogged, { ms: 300, marker })
      const held = yield* ProcessPool.submit(H.slowToStop, { n: 1, ms: 10_000, stopMs: 300, marker })
      yield* eventually(
        Effect.sync(() => readLines(marker)),
        (lines) => lines.length >= 1
      )
      // While the parent is blocked: the interrupt is decided (its grace timer
      // armed) but not sent; the worker finishes `busy`, answers it, and,
      // having no interrupt to read, starts `held`.
      yield* Effect.sync(() => {
        held.interruptUnsafe()
        block(300 + 1_500)
      })
      const exit = yield* Fiber.await(held)
      assert.isTrue(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause))
      const lines = readLines(marker)
      // it started (the interrupt came too late for that), and had stopped in
      // the worker (its finalizer ran) when its caller resumed
      assert.include(lines, "started 1")
      assert.include(lines, "stopped 1")
      assert.isNumber(yield* Fiber.join(busy))
      assert.strictEqual(yield* ProcessPool.run(T.square, 3), 9)
      // not killed: it honoured the interrupt within its grace
      assert.strictEqual((yield* ProcessPool.stats).restarted, 0)
    }).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1, interruptGrace: 1_000 })))
  )
})
