/**
 * Node's inspector flags and the workers: the parent's are not passed on (a
 * worker that inherited `--inspect-brk` waited for a debugger for ever, and
 * the first call hung); given on purpose in `execArgv`, a worker held by one
 * fails its start after a bound, with an error that names the flag.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/tasks.ts"
import { reasonOf } from "../helpers/exits.ts"
import * as Programs from "../helpers/programs.ts"

const fixture = new URL("../fixtures/inspected.ts", import.meta.url).pathname

describe("inspector flags", () => {
  it.live("the parent's --inspect is not passed on to its workers", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const program = yield* Programs.start(["--inspect=0", ...process.execArgv, fixture], {
          env: { NODE_OPTIONS: "--inspect-port=0" }
        })
        const exited = yield* program.ended(30_000)
        const output = program.output()
        assert.deepStrictEqual(exited, { code: 0, signal: null }, output)
        const argv = JSON.parse(/^worker execArgv: (.*)$/m.exec(output)![1]!) as Array<string>
        assert.isFalse(
          argv.some((arg) => arg.startsWith("--inspect")),
          output
        )
      })
    )
  )

  it.live(
    "a worker held by --inspect-brk given in execArgv fails its start after a bound, naming the flag",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ stdio: "log", maxWorkers: 1, execArgv: ["--inspect-brk=0"] })
          const exit = yield* Effect.exit(pool.run(T.square, 3))
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isFailure(exit)) {
            const reason = reasonOf(Cause.squash(exit.cause))
            assert.strictEqual(reason._tag, "WorkerStartError")
            assert.match(reason.message, /did not start within 30 s \(.*--inspect-brk=0, which waits for a debugger\)/)
          }
        })
      ),
    60_000
  )
})
