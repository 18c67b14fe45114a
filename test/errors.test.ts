/**
 * Errors say where and what: a codec error names the input, the path inside
 * the value and what was received, in one sentence; a defect and a typed
 * error from a worker say which worker and which task in what `Cause.pretty`
 * prints; values JSON cannot carry are refused the same way under both
 * framings.
 */
import * as NodeFs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Stream } from "effect"
import { ProcessPool } from "../src/index.ts"
import * as D from "./fixtures/defects.ts"
import * as T from "./fixtures/tasks.ts"
import { assertDies, defectOf, reasonOf } from "./helpers/exits.ts"
import { framings, nameOf, workerName } from "./helpers/kind.ts"

describe("a TaskCodecError", () => {
  it.live("names the input's index, the path inside the value and what was received, in one sentence", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1 })
        const expected =
          'The result of task "structOut" for input 3 does not fit its Schema: Expected a finite number, got NaN at ["c"]'
        for (const chunksize of [1, 5] as const) {
          const reason = reasonOf(yield* Effect.flip(pool.map(T.structOut, [0, 1, 2, 3, 4], { chunksize })))
          assert.strictEqual(reason._tag, "TaskCodecError")
          if (reason._tag !== "TaskCodecError") return
          assert.strictEqual(reason.message, expected)
          assert.strictEqual(reason.index, 3)
        }
        const streamed = reasonOf(yield* Effect.flip(pool.mapStream(T.structOut, [0, 1, 2, 3]).pipe(Stream.runDrain)))
        assert.strictEqual(streamed.message, expected)
        const elements = yield* pool.asCompleted(T.structOut, [0, 1, 2, 3]).pipe(Stream.runCollect)
        const failed = elements.find((e) => Exit.isFailure(e.exit))!
        assert.strictEqual(failed.index, 3)
        if (Exit.isFailure(failed.exit))
          assert.strictEqual((Cause.squash(failed.exit.cause) as Error).message, expected)
        // run has no index
        const single = reasonOf(yield* Effect.flip(pool.run(T.structOut, 3)))
        assert.strictEqual(single.message, expected.replace(" for input 3", ""))
        // a payload refused in the parent names its input too
        const payload = reasonOf(yield* Effect.flip(pool.map(T.square, [1, 2, "x" as unknown as number])))
        assert.strictEqual(
          payload.message,
          'The payload of task "square" for input 2 does not fit its Schema: Expected number, got "x"'
        )
      })
    )
  )
})

describe("Schema.Any carries JSON only, the same under both framings", () => {
  for (const serialization of framings) {
    it.live(
      `${serialization}: a function, undefined, a Map, a Date, a cycle fail with TaskCodecError; plain data passes`,
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            const pool = yield* ProcessPool.make({ maxWorkers: 1, ...(serialization ? { serialization } : {}) })
            const refused = {
              function: /Expected JSON value, got a function/,
              undefined: /Expected JSON value, got undefined/,
              map: /Expected JSON value, got a Map of 1/,
              date: /Expected JSON value, got a Date \(1970-01-01T00:00:00.000Z\)/,
              cycle: /Expected JSON value, got a cycle back to an enclosing object at \["self"\]/,
              nested: /Expected JSON value, got a function \(f\) at \["a"\]\[1\]\["f"\]/
            } as const
            for (const [kind, message] of Object.entries(refused)) {
              const reason = reasonOf(yield* Effect.flip(pool.run(T.anyValue, kind as keyof typeof refused)))
              assert.strictEqual(reason._tag, "TaskCodecError", kind)
              if (reason._tag === "TaskCodecError") assert.strictEqual(reason.phase, "success")
              assert.match(reason.message, message, kind)
            }
            assert.deepStrictEqual(yield* pool.run(T.anyValue, "plain"), { a: [1, { b: "c" }], n: null })
          })
        )
    )
  }
})

describe("what crosses from a worker says where it came from", () => {
  it.live("a defect that is not an Error becomes one, with the worker's pid and the task in its stack", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1 })
        for (const [value, message] of [
          ["no", "no"],
          ["object", '{"code":7}']
        ] as const) {
          const exit = yield* Effect.exit(pool.run(T.dieWithValue, value))
          assertDies(exit)
          const defect = defectOf(exit)
          assert.instanceOf(defect, Error)
          assert.strictEqual(defect.message, message)
          assert.match(Cause.pretty(exit.cause), new RegExp(`effect-process-pool ${workerName}, task "dieWithValue"`))
        }
      })
    )
  )

  it.live("every defect names its worker and task in what Cause.pretty prints, however it was made", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1 })
        const worker = yield* pool.run(T.sleepPid, 0)
        const where = `    at effect-process-pool ${nameOf(0, worker)}, task "defect"`
        for (const kind of D.DefectKind.literals) {
          const exit = yield* Effect.exit(pool.run(D.defect, kind))
          assertDies(exit)
          const pretty = Cause.pretty(exit.cause)
          const name = kind === "subclass" ? "Custom" : "Error"
          assert.deepStrictEqual(pretty.split("\n").slice(0, 2), [`${name}: boom`, where], `${kind}:\n${pretty}`)
          // the worker's own frames follow, where it had a stack
          if (kind !== "noStack") assert.match(pretty, /fixtures\/defects\.ts/, kind)
        }
      })
    )
  )

  it.live("a typed error made among Effect's frames names its worker and task in what Cause.pretty prints", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1 })
        const worker = yield* pool.run(T.sleepPid, 0)
        const exit = yield* Effect.exit(pool.run(D.refusedInGen, 7))
        assert.isTrue(Exit.isFailure(exit))
        if (!Exit.isFailure(exit)) return
        assert.instanceOf(Cause.squash(exit.cause), D.Refused)
        const pretty = Cause.pretty(exit.cause)
        assert.include(
          pretty,
          `\n    at effect-process-pool ${nameOf(0, worker)}, task "refusedInGen", a typed error: {"n":7}\n`
        )
        assert.match(pretty, /fixtures\/defects\.ts/)
      })
    )
  )

  it.live("a typed error keeps its message and has the worker's stack, and its fields, not Schema's frames", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1 })
        const exit = yield* Effect.exit(pool.run(T.checked, 1000))
        assert.isTrue(Exit.isFailure(exit))
        if (!Exit.isFailure(exit)) return
        const error = Cause.squash(exit.cause) as T.TooLarge
        assert.instanceOf(error, T.TooLarge)
        assert.strictEqual(error.n, 1000)
        assert.strictEqual(error.message, "") // as in the worker: TooLarge has no message field
        assert.match(error.stack!, /^TooLarge: \{"n":1000\}\n/)
        const pretty = Cause.pretty(exit.cause)
        assert.match(pretty, /fixtures\/tasks\.ts/) // where the task made it, in the worker
        assert.match(
          pretty,
          new RegExp(`effect-process-pool ${workerName}, task "checked", a typed error: \\{"n":1000\\}`)
        )
        assert.notMatch(pretty, /node_modules\/effect\/.*Schema/)
      })
    )
  )
})

describe("a program without a pool", () => {
  it.effect("dies saying what to provide, from every operation of the module (past the types)", () =>
    Effect.gen(function* () {
      const readme = NodeFs.readFileSync(new URL("../README.md", import.meta.url), "utf8")
      const operations: Record<string, Effect.Effect<unknown, unknown, ProcessPool.ProcessPool>> = {
        run: ProcessPool.run(T.square, 2),
        submit: ProcessPool.submit(T.square, 2),
        map: ProcessPool.map(T.square, [2]),
        mapStream: Stream.runDrain(ProcessPool.mapStream(T.square, [2])),
        asCompleted: Stream.runDrain(ProcessPool.asCompleted(T.square, [2])),
        stats: ProcessPool.stats
      }
      for (const [name, operation] of Object.entries(operations)) {
        const defect = defectOf(yield* Effect.exit(operation as Effect.Effect<unknown, unknown>))
        assert.match(defect.message, /^Service not found: effect-process-pool\/ProcessPool\. Provide a pool/, name)
        assert.include(defect.message, "Effect.provide(ProcessPool.layer(", name)
        // the README's errors section quotes it
        assert.include(readme, `\`${defect.message.slice(0, defect.message.indexOf(",") + 1)} …\``, name)
      }
    })
  )
})

describe("stats", () => {
  it.live("work refused by a closed pool is not counted: it never ran", () =>
    Effect.gen(function* () {
      const pool = yield* Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ maxWorkers: 1 })
          assert.strictEqual(yield* pool.run(T.square, 2), 4)
          return pool
        })
      )
      const reason = reasonOf(yield* Effect.flip(pool.run(T.square, 3)))
      assert.strictEqual(reason._tag, "PoolClosed")
      const stats = yield* pool.stats
      assert.deepStrictEqual([stats.completed, stats.failed], [1, 0])
    })
  )
})
