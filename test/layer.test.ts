import * as NodeFs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ProcessPool } from "../src/index.ts"
import * as L from "./fixtures/layered.ts"
import { defectOf } from "./helpers/exits.ts"
import { readLines, tmpFile } from "./helpers/files.ts"

describe("a task's layer", () => {
  it.live("is built once per worker, shared by tasks with the same layer, and released at shutdown", () =>
    Effect.gen(function* () {
      const log = tmpFile("layer.log")
      const answers = yield* Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ maxWorkers: 1, env: { LAYER_LOG: log } })
          const a = yield* Effect.forEach([1, 2, 3], (n) => pool.run(L.counted, n))
          const b = yield* pool.run(L.countedToo, 4)
          assert.deepStrictEqual(
            readLines(log).map((l) => l.split(" ")[0]),
            ["acquire"]
          )
          return [...a, b]
        })
      )
      // one instance served all four runs of both tasks, in one worker
      assert.strictEqual(new Set(answers).size, 1)
      const pid = answers[0]!.split("@")[1]
      assert.deepStrictEqual(readLines(log), [`acquire ${pid}`, `release ${pid}`])
    })
  )

  it.live("Task.provide gives the task its services; the worker finds the provided variant", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1 })
        assert.strictEqual(yield* pool.run(L.salted, "x"), "pepper:x")
        // @ts-expect-error: a task with unprovided requirements does not type-check as an argument
        yield* Effect.exit(pool.run(L.unsalted, "x"))
      })
    )
  )

  it.live("that fails to build fails the task with the layer's typed error; the next task tries again", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const marker = tmpFile("flaky")
        const log = tmpFile("layer.log")
        NodeFs.writeFileSync(marker, "")
        const pool = yield* ProcessPool.make({ maxWorkers: 1, env: { FLAKY_MARKER: marker, LAYER_LOG: log } })
        const error = yield* Effect.flip(pool.run(L.flaky, 1))
        assert.isTrue(error instanceof L.LayerDown)
        const pid = (yield* pool.stats).workers
        assert.strictEqual(pid, 1) // the worker stayed
        NodeFs.rmSync(marker)
        assert.strictEqual(yield* pool.run(L.flaky, 2), 2)
        assert.strictEqual(yield* pool.run(L.flaky, 3), 3)
        assert.strictEqual(readLines(log).filter((l) => l.startsWith("flaky-built")).length, 1)
        assert.strictEqual((yield* pool.stats).restarted, 0)
      })
    )
  )

  it.live("that dies while building fails the task with a defect; other tasks go on", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1 })
        assert.strictEqual(defectOf(yield* Effect.exit(pool.run(L.dyingLayer, 1))).message, "layer blew up")
        assert.match(yield* pool.run(L.counted, 1), /^\d+@\d+$/)
      })
    )
  )
})
