import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { ProcessPool } from "../src/index.ts"
import * as T from "./fixtures/tasks.ts"
import { defectOf } from "./helpers/exits.ts"
import { onProcesses } from "./helpers/kind.ts"

const dieMessage = (exit: Exit.Exit<unknown, unknown>): string => {
  assert.isTrue(Exit.isFailure(exit))
  if (Exit.isSuccess(exit)) return ""
  const defect = Cause.squash(exit.cause)
  assert.isTrue(Cause.isIllegalArgumentError(defect), String(defect))
  return (defect as Error).message
}

describe("invalid options die at once with a message naming the option and the value", () => {
  const cases: ReadonlyArray<readonly [ProcessPool.Options, RegExp]> = [
    [{ maxWorkers: 0 }, /`maxWorkers` to be a positive integer, got `0` \(number\)/],
    [{ maxWorkers: 1.5 }, /`maxWorkers` to be a positive integer, got `1.5` \(number\)/],
    [{ maxWorkers: "4" as unknown as number }, /`maxWorkers` to be a positive integer, got `"4"` \(string\)/],
    [{ minWorkers: -1 }, /`minWorkers` to be a non-negative integer, got `-1`/],
    [{ maxWorkers: 2, minWorkers: 3 }, /`minWorkers` to be at most `maxWorkers` \(2\), got `3`/],
    [{ maxTasksPerWorker: 0 }, /`maxTasksPerWorker` to be a positive integer, got `0`/],
    [{ interruptGrace: -5 }, /`interruptGrace` to be a non-negative duration, got `-5`/],
    [{ shutdownTimeout: "soon" as never }, /`shutdownTimeout` to be a duration.*got `"soon"` \(string\)/],
    [{ idleTimeout: 0 }, /`idleTimeout` to be a positive duration, got `0`/],
    [{ shutdownTimeout: "Infinity" }, /`shutdownTimeout` to be a finite duration, got `"Infinity"`/],
    [{ execArgv: "--inspect" as never }, /`execArgv` to be an array of strings, got `"--inspect"`/],
    [{ env: { A: 1 } as never }, /`env` to be an object of strings/],
    [{ serialization: "xml" as never }, /`serialization` to be "json" or "advanced", got `"xml"`/],
    // options from plain JavaScript: a typo is not silently ignored, an absurd size is refused
    [{ maxWorker: 2 } as never, /Unknown pool option `maxWorker` \(did you mean `maxWorkers`\?\)/],
    [{ maxWorkers: 1e6 }, /`maxWorkers` to be at most 1024, got `1000000` \(number\)/]
  ]
  for (const [options, message] of cases) {
    it.live(`${JSON.stringify(options)}`, () =>
      Effect.gen(function* () {
        assert.match(dieMessage(yield* Effect.exit(Effect.scoped(ProcessPool.make(options)))), message)
        const viaLayer = yield* Effect.exit(Layer.build(ProcessPool.layer(options)).pipe(Effect.scoped))
        assert.match(dieMessage(viaLayer), message)
      })
    )
  }
})

describe("worker environment", () => {
  it.live("env is added to the parent's environment, not a replacement for it", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1, env: { EPP_TEST_VALUE: "hello" } })
        assert.strictEqual(yield* pool.run(T.env, "EPP_TEST_VALUE"), "hello")
        assert.strictEqual(yield* pool.run(T.env, "PATH"), process.env.PATH)
      })
    )
  )

  it.live("execArgv is passed to the workers", () =>
    Effect.scoped(
      Effect.gen(function* () {
        // a V8 option is a process's; a thread takes Node's per-thread ones
        const flag = onProcesses ? "--max-old-space-size=200" : "--conditions=effect-process-pool-test"
        const pool = yield* ProcessPool.make({ maxWorkers: 1, execArgv: [flag] })
        assert.deepStrictEqual(yield* pool.run(T.execArgv, 0), [flag])
      })
    )
  )

  it.effect.skipIf(onProcesses)(
    "an execArgv a thread does not take is refused when the pool is made, naming it and what to use",
    () =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(Effect.scoped(ProcessPool.make({ execArgv: ["--max-old-space-size=200"] })))
        const defect = defectOf(exit)
        assert.strictEqual(defect.name, "IllegalArgumentError")
        assert.match(defect.message, /`execArgv` to hold only options a worker thread takes.*`maxWorkerMemory`/)
        assert.match(defect.message, /--max-old-space-size=200/)
      })
  )

  // A worker process starts with V8's optimising tiers held off (src/internal/tiering.ts); V8's
  // flags are the process's, so a thread leaves them alone (and takes no V8 option in execArgv)
  it.live.skipIf(!onProcesses)("a worker's tasks are optimised by V8 as usual once they run", () =>
    Effect.scoped(
      Effect.gen(function* () {
        // TurboFan compiles on the main thread here, when the function is hot: by
        // default it compiles on a background thread, whose turn on a machine
        // with every core busy is the scheduler's business, not the pool's (the
        // test was seen failing under load). Which tiers run is still the pool's doing.
        const execArgv = ["--allow-natives-syntax", "--no-concurrent-recompilation"]
        const pool = yield* ProcessPool.make({ maxWorkers: 1, execArgv })
        assert.isTrue(yield* pool.run(T.turbofanned, 10_000))
      })
    )
  )

  it.live.skipIf(!onProcesses)("tier flags given in execArgv are the user's choice: the worker leaves them alone", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1, execArgv: ["--allow-natives-syntax", "--no-opt"] })
        assert.isFalse(yield* pool.run(T.turbofanned, 1_000))
      })
    )
  )
})
