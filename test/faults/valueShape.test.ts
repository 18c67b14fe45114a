/**
 * Values whose shape cannot cross the process boundary are refused at once
 * with `TaskCodecError`, the same way under both framings, as payloads and
 * as results, and the worker lives: an array with holes (one of length
 * 2³²−1 blocked the parent for 166 s), and a value nested deeper than
 * `MAX_DEPTH` (4,000 levels crossed under "json" and killed the worker under
 * "advanced"). A dense array, however it was built, still crosses.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Stream } from "effect"
import { ProcessPool } from "../../src/index.ts"
import { MAX_DEPTH } from "../../src/internal/valueShape.ts"
import * as H from "../fixtures/hostile.ts"
import * as T from "../fixtures/tasks.ts"
import { defectOf, reasonOf } from "../helpers/exits.ts"
import { framings } from "../helpers/kind.ts"

/** "promptly": far under the minutes these took, far over what a loaded machine needs */
const BOUND = "20 seconds"

const HOLES = /has an array with holes: length 4294967295, the first hole at index 0 \(JSON has no holes\)/
const TOO_DEEP = new RegExp(`is nested deeper than ${MAX_DEPTH} levels of arrays and objects`)

/** The call fails with a TaskCodecError of `phase` whose message matches, within the bound. */
const refused = <A, E, R>(call: Effect.Effect<A, E, R>, phase: string, message: RegExp) =>
  Effect.gen(function* () {
    const error = yield* Effect.flip(call.pipe(Effect.timeout(BOUND)))
    const reason = reasonOf(error)
    assert.strictEqual(reason?._tag, "TaskCodecError", String(error))
    if (reason?._tag !== "TaskCodecError") return
    assert.strictEqual(reason.phase, phase)
    assert.match(reason.message, message)
  })

/** Nothing crashed or restarted, and the pool serves the next call. */
const unharmed = Effect.gen(function* () {
  const stats = yield* ProcessPool.stats
  assert.strictEqual(stats.crashed, 0)
  assert.strictEqual(stats.restarted, 0)
  assert.strictEqual(yield* ProcessPool.run(T.square, 4), 16)
})

for (const serialization of framings) {
  const pool = ProcessPool.layer({ maxWorkers: 1, ...(serialization ? { serialization } : {}) })

  describe(`an array with holes is refused at once (serialization: "${serialization}")`, () => {
    it.live("as a payload, in the parent, and nested in one", () =>
      Effect.gen(function* () {
        yield* refused(ProcessPool.run(T.echo, H.sparseArray()), "payload", HOLES)
        yield* refused(
          ProcessPool.run(T.echo, { deep: [1, { xs: H.sparseArray() }] }),
          "payload",
          /has an array with holes at \["deep"\]\[1\]\["xs"\]: length 4294967295/
        )
        // Schemas that fail at the first hole, whose message would render the array
        yield* refused(ProcessPool.run(T.square, H.sparseArray() as never), "payload", HOLES)
        const rich = { at: new Date(0), big: 1n, tags: H.sparseArray() as Array<string> }
        yield* refused(ProcessPool.run(T.rich, rich), "payload", /has an array with holes at \["tags"\]/)
        // a Schema whose parser reads a hole as `undefined`, and would walk all 2³²−1 of them
        yield* refused(ProcessPool.run(H.countMaybeNumbers, H.sparseArray() as never), "payload", HOLES)
        assert.strictEqual(yield* ProcessPool.run(H.countMaybeNumbers, [1, undefined, 3]), 3)
        yield* refused(ProcessPool.map(T.square, [1, H.sparseArray() as never]), "payload", HOLES)
        yield* unharmed
      }).pipe(Effect.provide(pool))
    )

    it.live("as a result, a typed error, a defect or a log entry, in the worker", () =>
      Effect.gen(function* () {
        const sparse = { make: "sparse", depth: 0 } as const
        yield* refused(ProcessPool.run(H.badShape, { ...sparse, as: "result" }), "success", HOLES)
        yield* refused(ProcessPool.run(H.badShape, { ...sparse, as: "failure" }), "failure", HOLES)
        const defect = defectOf(yield* Effect.exit(ProcessPool.run(H.badShape, { ...sparse, as: "defect" })))
        assert.match(defect.message, /a value with an array with holes \(length 4294967295\)/)
        assert.strictEqual(yield* ProcessPool.run(H.badShape, { ...sparse, as: "log" }), 1)
        yield* unharmed
      }).pipe(Effect.provide(pool))
    )

    it.live("a dense array crosses, also one built with holes that were then filled", () =>
      Effect.gen(function* () {
        const filled: Array<number> = new Array(100_000)
        for (let i = 0; i < filled.length; i++) filled[i] = i
        const dense = Array.from({ length: 1_000_000 }, (_, i) => i)
        for (const array of [filled, dense]) assert.deepStrictEqual(yield* ProcessPool.run(T.echo, array), array)
        yield* unharmed
      }).pipe(Effect.provide(pool))
    )
  })

  describe(`at most ${MAX_DEPTH} levels cross, the same under both framings (serialization: "${serialization}")`, () => {
    for (const kind of ["object", "array"] as const) {
      it.live(`a chain of ${kind}s ${MAX_DEPTH} deep crosses both ways; one level more is refused either way`, () =>
        Effect.gen(function* () {
          const deepest = H.nested(kind, MAX_DEPTH)
          assert.deepStrictEqual(yield* ProcessPool.run(T.echo, deepest), deepest)
          const asResult = yield* ProcessPool.run(H.badShape, { make: kind, depth: MAX_DEPTH, as: "result" })
          assert.deepStrictEqual(asResult, deepest)

          for (const depth of [MAX_DEPTH + 1, 4_000, 100_000]) {
            yield* refused(ProcessPool.run(T.echo, H.nested(kind, depth)), "payload", TOO_DEEP)
            yield* refused(ProcessPool.run(H.badShape, { make: kind, depth, as: "result" }), "success", TOO_DEEP)
            yield* refused(ProcessPool.run(H.badShape, { make: kind, depth, as: "failure" }), "failure", TOO_DEEP)
            const defect = defectOf(
              yield* Effect.exit(ProcessPool.run(H.badShape, { make: kind, depth, as: "defect" }))
            )
            assert.match(defect.message, new RegExp(`a value nested deeper than ${MAX_DEPTH} levels`))
            assert.strictEqual(yield* ProcessPool.run(H.badShape, { make: kind, depth, as: "log" }), 1)
          }
          yield* unharmed
        }).pipe(Effect.provide(pool))
      )
    }

    it.live("through a recursive Schema, in both directions", () =>
      Effect.gen(function* () {
        const deepest = H.tree(MAX_DEPTH)
        assert.deepStrictEqual(yield* ProcessPool.run(H.echoTree, deepest), deepest)
        assert.deepStrictEqual(yield* ProcessPool.run(H.deepTree, MAX_DEPTH), deepest)
        yield* refused(ProcessPool.run(H.echoTree, H.tree(MAX_DEPTH + 1)), "payload", TOO_DEEP)
        yield* refused(ProcessPool.run(H.deepTree, MAX_DEPTH + 1), "success", TOO_DEEP)
        yield* refused(ProcessPool.run(H.deepTree, 5_000), "success", TOO_DEEP)
        yield* unharmed
      }).pipe(Effect.provide(pool))
    )

    it.live("in a stream, a value too deep is that input's TaskCodecError", () =>
      Effect.gen(function* () {
        const results = yield* ProcessPool.asCompleted(T.echo, [1, H.nested("array", 4_000), 3]).pipe(
          Stream.runCollect,
          Effect.timeout(BOUND)
        )
        const byIndex = [...results].sort((a, b) => a.index - b.index)
        assert.deepStrictEqual(byIndex[0]!.exit, Exit.succeed(1))
        assert.deepStrictEqual(byIndex[2]!.exit, Exit.succeed(3))
        const failed = byIndex[1]!.exit
        assert.isTrue(Exit.isFailure(failed))
        if (Exit.isFailure(failed)) assert.match(String(Cause.squash(failed.cause)), TOO_DEEP)
        yield* unharmed
      }).pipe(Effect.provide(pool))
    )
  })
}
