/**
 * A program on a Node older than the package's engines ends with an error
 * that says so, instead of doing nothing: before Node 22.18 `import.meta.main`
 * is undefined, and a task module guarded by `if (import.meta.main)` (what the
 * README recommends) would exit 0 having run nothing. The programs run on this
 * Node, made to report 20.20.2.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { start } from "../helpers/programs.ts"

const fixture = (path: string) => new URL(`../fixtures/${path}`, import.meta.url).pathname
const asNode20 = ["--import", fixture("oldNode/pretend20.mjs")]

describe("on Node 20", () => {
  it.live("a task module that runs its program under a guard fails at Task.make, saying why", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const program = yield* start([...process.execArgv, ...asNode20, fixture("nested/guarded.ts")])
        const exited = yield* program.ended(30_000)
        const output = program.output()
        assert.notStrictEqual(exited.code, 0, output)
        assert.match(
          output,
          /UnsupportedNodeError: effect-process-pool needs Node 22\.19 or later, and this is Node 20\.20\.2/
        )
        assert.notMatch(output, /result 42/)
      })
    )
  )

  it.live("a program that makes a pool dies at ProcessPool.make, saying why", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const program = yield* start([...process.execArgv, ...asNode20, fixture("oldNode/poolOnly.ts")])
        const exited = yield* program.ended(30_000)
        const output = program.output()
        assert.notStrictEqual(exited.code, 0, output)
        assert.match(output, /UnsupportedNodeError: effect-process-pool needs Node 22\.19 or later/)
        assert.notMatch(output, /made a pool/)
      })
    )
  )
})
