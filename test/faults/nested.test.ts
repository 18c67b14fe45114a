/**
 * Pools inside workers: a task module that also runs the program (Python's
 * missing `if __name__ == "__main__":`) is refused with an error that says
 * what to do, instead of every worker starting a pool of its own; a pool a
 * task builds on purpose (in its layer, or in its `run`) works.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as Nested from "../fixtures/nested/inLayer.ts"
import { processesInGroup } from "../helpers/processes.ts"
import { start } from "../helpers/programs.ts"

const fixture = (name: string) => new URL(`../fixtures/nested/${name}`, import.meta.url).pathname

describe("a task module that runs the program at its top level", () => {
  it.live("fails the task with WorkerStartError saying what to do, and no worker starts a pool of its own", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const program = yield* start([...process.execArgv, fixture("unguarded.ts")])
        const exited = yield* program.ended(30_000)
        const output = program.output()
        assert.deepStrictEqual(exited, { code: 0, signal: null }, output)
        assert.match(output, /^failed WorkerStartError: The module of task "double" could not be imported/m)
        assert.match(output, /A process pool is being built in a worker of another pool, outside any task/)
        assert.match(output, /import\.meta\.main/)
        assert.notMatch(output, /result 42/)
        // nothing of it is left: the worker that refused did not start workers of its own
        assert.deepStrictEqual(processesInGroup(program.pid), [])
      })
    )
  )

  it.live("guarded by import.meta.main, the same module runs", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const program = yield* start([...process.execArgv, fixture("guarded.ts")])
        const exited = yield* program.ended(30_000)
        assert.deepStrictEqual(exited, { code: 0, signal: null }, program.output())
        assert.match(program.output(), /result 42/)
      })
    )
  )
})

describe("a pool a task builds on purpose", () => {
  it.live("in its layer: the task's worker runs work on a pool of its own", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1 })
        const [squared, innerPid, outerPid] = yield* pool.run(Nested.viaInnerPool, 7)
        assert.strictEqual(squared, 49)
        assert.notStrictEqual(innerPid, outerPid)
        assert.notStrictEqual(outerPid, process.pid)
      })
    )
  )

  it.live("in its run", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1 })
        assert.strictEqual(yield* pool.run(Nested.poolInRun, 6), 36)
      })
    )
  )
})
