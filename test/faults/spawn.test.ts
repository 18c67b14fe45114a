/**
 * Spawning a worker can fail: the parent is out of file descriptors (EMFILE),
 * its environment is too large for `exec` (E2BIG), or an option holds what
 * `exec` cannot carry (a NUL byte). What can be checked up front is refused
 * when the pool is made; what fails at spawn time fails the waiting tasks with
 * `WorkerStartError`, and the pool serves again once the cause is gone. The
 * parent never dies of it (it used to: an exception thrown inside the engine).
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as Programs from "../helpers/programs.ts"

const program = new URL("../fixtures/spawnFails.ts", import.meta.url).pathname

interface Phase {
  readonly phase: string
  readonly results: ReadonlyArray<number | string>
}

const phases = (output: string): Map<string, Phase> =>
  new Map(
    output
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Phase)
      .map((p) => [p.phase, p])
  )

const SQUARES = [1, 4, 9, 16, 25, 36, 49, 64]

describe("a worker that cannot be spawned", () => {
  for (const [scenario, code, options] of [
    ["emfile", "EMFILE", { maxFiles: 64 }],
    ["e2big", "E2BIG", {}]
  ] as const) {
    it.live(
      `${code}: the waiting tasks fail with WorkerStartError, the parent lives, and the pool serves again once the cause is gone`,
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            const run = yield* Programs.start([program, scenario], options)
            const exited = yield* run.ended(60_000)
            const output = run.output()
            assert.deepStrictEqual(exited, { code: 0, signal: null }, output)
            const seen = phases(output)
            const failing = seen.get("failing")!.results
            assert.strictEqual(failing.length, 8)
            for (const result of failing) {
              assert.match(String(result), new RegExp(`^WorkerStartError: .*could not be spawned.*${code}`), output)
            }
            assert.deepStrictEqual(seen.get("recovered")!.results, SQUARES, output)
          })
        ),
      90_000
    )
  }
})

describe("options that exec cannot carry", () => {
  const refused = (options: ProcessPool.Options, pattern: RegExp) =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(Effect.scoped(ProcessPool.make(options)))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const defect = Cause.squash(exit.cause) as Error
        assert.strictEqual(defect.name, "IllegalArgumentError")
        assert.match(defect.message, pattern)
      }
    })

  it.effect("a NUL byte in an env value, an env name, or execArgv is refused when the pool is made", () =>
    Effect.gen(function* () {
      yield* refused({ env: { GOOD: "a\u0000b" } }, /`env.GOOD` to hold no NUL byte/)
      yield* refused({ env: { "BA\u0000D": "x" } }, /names of `env`.*NUL/)
      yield* refused({ env: { "A=B": "x" } }, /names of `env`.*"="/)
      yield* refused({ execArgv: ["--no-warnings\u0000"] }, /`execArgv` to hold no NUL byte/)
    })
  )
})
