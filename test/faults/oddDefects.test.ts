/**
 * A task that dies with a defect whose fields are not an `Error`'s usual
 * strings (Effect's own `NoSuchElementError` has no message) still ends its
 * call with a defect, within a bound, and its worker serves the next call:
 * the worker sends every defect in a form the parent's check of the channel
 * accepts. On both kinds.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Stream } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as O from "../fixtures/oddDefects.ts"
import * as T from "../fixtures/tasks.ts"
import { defectOf } from "../helpers/exits.ts"

/** A bound on each call: one that hangs fails the test instead of the run. */
const bounded = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.timeoutOrElse({ duration: "20 seconds", orElse: () => Effect.die(new Error("the call hung")) }))

const pool = ProcessPool.layer({ maxWorkers: 1 })

describe("a task that dies with an odd defect", () => {
  for (const kind of O.OddDefect.literals) {
    it.live(`${kind}: its caller gets a defect, and the worker serves the next call`, () =>
      Effect.gen(function* () {
        const exit = yield* bounded(Effect.exit(ProcessPool.run(O.dies, kind)))
        const defect = defectOf(exit)
        assert.notMatch(String(defect.message), /the call hung/)
        assert.strictEqual(yield* bounded(ProcessPool.run(T.square, 3)), 9)
        assert.strictEqual((yield* ProcessPool.stats).crashed, 0)
      }).pipe(Effect.provide(pool))
    )

    it.live(`${kind}, in a stream: the stream ends with a defect after its element`, () =>
      Effect.gen(function* () {
        const elements: Array<number> = []
        const exit = yield* bounded(
          ProcessPool.stream(O.streamDies, kind).pipe(
            Stream.runForEach((n) => Effect.sync(() => elements.push(n))),
            Effect.exit
          )
        )
        assert.deepStrictEqual(elements, [1])
        assert.isTrue(Exit.isFailure(exit))
        assert.notMatch(String(defectOf(exit).message), /the call hung/)
        assert.strictEqual(yield* bounded(ProcessPool.run(T.square, 3)), 9)
      }).pipe(Effect.provide(pool))
    )
  }
})
