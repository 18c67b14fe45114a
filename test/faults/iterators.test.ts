/**
 * An input iterable is user code: its iterator may throw, or answer garbage,
 * at any input. `mapStream` and `asCompleted` then end as `Stream.fromIterable`
 * does, with that throw as a defect, after the elements of the inputs read
 * before it; nothing hangs, and the pool goes on serving.
 */
import { assert, layer } from "@effect/vitest"
import { Cause, Effect, Exit, Stream } from "effect"
import { ProcessPool } from "../../src/index.ts"
import { brokenAtOnce, brokenIterables } from "../fixtures/hostileInputs.ts"
import * as T from "../fixtures/tasks.ts"
import { eventually } from "../helpers/eventually.ts"

/** one pool per operation: every case also shows that the pool goes on serving after the one before */
const pool = () => layer(ProcessPool.layer({ maxWorkers: 2 }), { excludeTestServices: true })
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** "not forever": a stream that hangs fails the test instead of its timeout */
const BOUND = "20 seconds"

/** The stream's exit is the defect `isDefect` expects, and nothing of the call is left in the pool. */
const endsWithDefect = (exit: Exit.Exit<unknown, unknown>, isDefect: (error: unknown) => boolean) =>
  Effect.gen(function* () {
    assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause), `expected a defect, got ${String(exit)}`)
    if (Exit.isFailure(exit)) assert.isTrue(isDefect(Cause.squash(exit.cause)), Cause.pretty(exit.cause))
    yield* eventually(ProcessPool.stats, (s) => s.busy === 0 && s.queued === 0)
    assert.strictEqual(yield* ProcessPool.run(T.square, 3), 9)
  })

const cases = [
  ...[0, 50].flatMap((at) =>
    brokenIterables(at).map(([name, inputs, isDefect]) => [`${name} at input ${at}`, at, inputs, isDefect] as const)
  ),
  ...brokenAtOnce.map(([name, inputs, isDefect]) => [name, 0, inputs, isDefect] as const)
]

pool()("mapStream over an iterable that breaks ends with the defect, after the results before it", (it) => {
  for (const [name, at, inputs, isDefect] of cases) {
    for (const chunksize of [7, "auto"] as const) {
      it.effect(`${name} (chunksize ${chunksize})`, () =>
        Effect.gen(function* () {
          const seen: Array<number> = []
          const exit = yield* ProcessPool.mapStream(T.square, inputs, { chunksize }).pipe(
            Stream.runForEach((n) => Effect.sync(() => seen.push(n))),
            Effect.timeout(BOUND),
            Effect.exit
          )
          assert.deepStrictEqual(
            seen,
            range(at).map((n) => n * n)
          )
          yield* endsWithDefect(exit, isDefect)
        })
      )
    }
  }
})

pool()("asCompleted over an iterable that breaks reports every input read, then ends with the defect", (it) => {
  for (const [name, at, inputs, isDefect] of cases) {
    it.effect(name, () =>
      Effect.gen(function* () {
        const seen: Array<number> = []
        const exit = yield* ProcessPool.asCompleted(T.square, inputs, { chunksize: 7 }).pipe(
          Stream.runForEach(({ exit, index, input }) =>
            Effect.sync(() => {
              assert.strictEqual(input, index)
              assert.deepStrictEqual(exit, Exit.succeed(index * index))
              seen.push(index)
            })
          ),
          Effect.timeout(BOUND),
          Effect.exit
        )
        assert.deepStrictEqual(
          seen.sort((a, b) => a - b),
          range(at)
        )
        yield* endsWithDefect(exit, isDefect)
      })
    )
  }
})

pool()("map over an iterable that breaks dies with the throw, as before", (it) => {
  for (const [name, , inputs, isDefect] of cases) {
    it.effect(name, () =>
      Effect.gen(function* () {
        const exit = yield* ProcessPool.map(T.square, inputs).pipe(Effect.timeout(BOUND), Effect.exit)
        yield* endsWithDefect(exit, isDefect)
      })
    )
  }
})
