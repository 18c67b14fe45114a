/**
 * The processes a task starts (and does not detach) end with its worker:
 * each worker leads a process group of its own, which the pool kills when the
 * worker is gone, whatever ended it: the pool's orderly close, a crash, or a
 * kill after an interrupt's grace. (A child started with `detached: true`
 * leaves the group on purpose, and is its own business.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/tasks.ts"
import { readLines, tmpFile } from "../helpers/files.ts"
import { waitGone } from "../helpers/processes.ts"

const childOf = (marker: string): Array<number> => readLines(marker).map(Number)

describe("a process a task started", () => {
  it.live("ends when the pool closes in order", () =>
    Effect.gen(function* () {
      const marker = tmpFile("children")
      const pid = yield* Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ maxWorkers: 1 })
          return yield* pool.run(T.startsChild, { after: "answer", marker })
        })
      )
      assert.deepStrictEqual(childOf(marker), [pid])
      yield* waitGone([pid], 5_000)
    })
  )

  it.live("ends when its worker crashes", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const marker = tmpFile("children")
        const pool = yield* ProcessPool.make({ maxWorkers: 1 })
        const exit = yield* Effect.exit(pool.run(T.startsChild, { after: "exit", marker }))
        assert.isTrue(Exit.isFailure(exit))
        yield* waitGone(childOf(marker), 5_000)
        assert.strictEqual(yield* pool.run(T.square, 3), 9)
      })
    )
  )

  it.live("ends when its worker is killed after an interrupt's grace", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const marker = tmpFile("children")
        const pool = yield* ProcessPool.make({ maxWorkers: 1, interruptGrace: 200 })
        const exit = yield* Effect.exit(
          pool.run(T.startsChild, { after: "spin", marker }).pipe(Effect.timeout("1 second"))
        )
        assert.isTrue(Exit.isFailure(exit))
        yield* waitGone(childOf(marker), 5_000)
      })
    )
  )
})
