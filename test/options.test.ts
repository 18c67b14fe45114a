import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Result, Stream } from "effect"
import { ProcessPool } from "../src/index.ts"
import * as ClusterOptions from "../src/internal/cluster/options.ts"
import * as Options from "../src/internal/options.ts"
import { sparseArray } from "./fixtures/hostile.ts"
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
    [{ maxWorkers: 1e6 }, /`maxWorkers` to be at most 1024, got `1000000` \(number\)/],
    // NaN, infinities, negatives and fractions, option by option: Effect reads NaN in a
    // duration as zero, and an object with a field it does not know as zero too
    ...(
      [
        ["interruptGrace", NaN, /`interruptGrace` to be a non-negative duration, got `NaN` \(number\)/],
        ["shutdownTimeout", NaN, /`shutdownTimeout` to be a non-negative duration, got `NaN` \(number\)/],
        ["idleTimeout", NaN, /`idleTimeout` to be a positive duration, got `NaN` \(number\)/],
        ["interruptGrace", [NaN, 0], /`interruptGrace` to be a non-negative duration, got `\[NaN, 0\]` \(array\)/],
        [
          "shutdownTimeout",
          { seconds: NaN },
          /`shutdownTimeout` to be a non-negative duration, got `\{ seconds: NaN \}`/
        ],
        [
          "shutdownTimeout",
          { millis: 5000 },
          /`shutdownTimeout` to be a duration .*got `\{ millis: 5000 \}` \(object\)/
        ],
        ["interruptGrace", { seconds: "5" }, /`interruptGrace` to be a duration .*got `\{ seconds: "5" \}`/],
        ["interruptGrace", Infinity, /`interruptGrace` to be a finite duration, got `Infinity`/],
        ["shutdownTimeout", -Infinity, /`shutdownTimeout` to be a non-negative duration, got `-Infinity`/],
        ["idleTimeout", -1, /`idleTimeout` to be a positive duration, got `-1`/],
        ["idleTimeout", "-5 seconds", /`idleTimeout` to be a positive duration, got `"-5 seconds"`/],
        ["idleTimeout", "NaN seconds", /`idleTimeout` to be a duration .*got `"NaN seconds"`/],
        ["maxWorkers", NaN, /`maxWorkers` to be a positive integer, got `NaN`/],
        ["maxWorkers", Infinity, /`maxWorkers` to be a positive integer, got `Infinity`/],
        ["minWorkers", NaN, /`minWorkers` to be a non-negative integer, got `NaN`/],
        ["minWorkers", 0.5, /`minWorkers` to be a non-negative integer, got `0.5`/],
        ["minWorkers", Infinity, /`minWorkers` to be a non-negative integer, got `Infinity`/],
        ["maxTasksPerWorker", NaN, /`maxTasksPerWorker` to be a positive integer, got `NaN`/],
        ["maxTasksPerWorker", Infinity, /`maxTasksPerWorker` to be a positive integer, got `Infinity`/],
        ["maxTasksPerWorker", 2.5, /`maxTasksPerWorker` to be a positive integer, got `2.5`/],
        ["maxWorkerMemory", NaN, /`maxWorkerMemory` to be a positive integer \(bytes\), got `NaN`/],
        ["maxWorkerMemory", -1, /`maxWorkerMemory` to be a positive integer \(bytes\), got `-1`/],
        ["maxWorkerMemory", 1.5e6 + 0.5, /`maxWorkerMemory` to be a positive integer \(bytes\), got `1500000.5`/],
        ["maxWorkerMemory", Infinity, /`maxWorkerMemory` to be a positive integer \(bytes\), got `Infinity`/],
        ["maxQueue", 0, /`maxQueue` to be a positive integer or Infinity, got `0` \(number\)/],
        ["maxQueue", -1, /`maxQueue` to be a positive integer or Infinity, got `-1`/],
        ["maxQueue", 2.5, /`maxQueue` to be a positive integer or Infinity, got `2.5`/],
        ["maxQueue", NaN, /`maxQueue` to be a positive integer or Infinity, got `NaN`/],
        ["maxQueue", -Infinity, /`maxQueue` to be a positive integer or Infinity, got `-Infinity`/],
        ["maxQueue", "10", /`maxQueue` to be a positive integer or Infinity, got `"10"` \(string\)/]
      ] as const
    ).map(([name, value, message]) => [{ [name]: value } as ProcessPool.Options, message] as const),
    // a message shows a few elements: rendering all of a sparse array's 2³²−1 took minutes
    [{ maxWorkers: sparseArray() as never }, /`maxWorkers` to be a positive integer, got `\[, , , , , 5, , , …\]`/],
    [{ interruptGrace: sparseArray() as never }, /`interruptGrace` to be a duration .*got `\[, , , , , 5, , , …\]`/],
    [{ interruptGrace: [sparseArray(), 0] as never }, /`interruptGrace` to be a duration .*got `\[\[…\], 0\]`/],
    [{ execArgv: sparseArray() as never }, /`execArgv` to be an array of strings, got `\[, , , , , 5, , , …\]`/]
  ]
  for (const [options, message] of cases) {
    it.live(Options.show(options), () =>
      Effect.gen(function* () {
        assert.match(dieMessage(yield* Effect.exit(Effect.scoped(ProcessPool.make(options)))), message)
        const viaLayer = yield* Effect.exit(Layer.build(ProcessPool.layer(options)).pipe(Effect.scoped))
        assert.match(dieMessage(viaLayer), message)
      })
    )
  }
})

describe("the options of map, mapStream and asCompleted are checked alike", () => {
  const pool = ProcessPool.layer({ maxWorkers: 2 })
  const calls = (options: unknown) =>
    [
      ["map", ProcessPool.map(T.square, [1, 2, 3], options as ProcessPool.MapOptions)],
      [
        "mapStream",
        Stream.runCollect(ProcessPool.mapStream(T.square, [1, 2, 3], options as ProcessPool.StreamOptions))
      ],
      [
        "asCompleted",
        ProcessPool.asCompleted(T.square, [1, 2, 3], options as ProcessPool.StreamOptions).pipe(
          Stream.map(({ exit }) => (Exit.isSuccess(exit) ? exit.value : -1)),
          Stream.runCollect,
          Effect.map((squares) => squares.sort((a, b) => a - b))
        )
      ]
    ] as const

  for (const options of [null, undefined, {}]) {
    it.live(`${Options.show(options)} as options is no options`, () =>
      Effect.gen(function* () {
        for (const [name, call] of calls(options)) assert.deepStrictEqual(yield* call, [1, 4, 9], name)
      }).pipe(Effect.provide(pool))
    )
  }

  const refused: ReadonlyArray<readonly [unknown, string, string]> = [
    [
      { chunkSize: 2 },
      "Unknown map option `chunkSize` (did you mean `chunksize`?); the only map option is `chunksize`",
      "Unknown stream option `chunkSize` (did you mean `chunksize`?); the stream options are `chunksize`, `bufferSize`"
    ],
    [
      5,
      "Expected the map options to be an object, got `5` (number)",
      "Expected the stream options to be an object, got `5` (number)"
    ]
  ]
  for (const [options, forMap, forStreams] of refused) {
    it.live(`${Options.show(options)} is refused with a message that reads well`, () =>
      Effect.gen(function* () {
        for (const [name, call] of calls(options)) {
          assert.strictEqual(dieMessage(yield* Effect.exit(call)), name === "map" ? forMap : forStreams, name)
        }
      }).pipe(Effect.provide(pool))
    )
  }
})

describe("valid durations in each of Effect's forms are taken, and a wait a timer cannot hold is the longest one", () => {
  const MAX_TIMER_MS = 2 ** 31 - 1
  const cases: ReadonlyArray<readonly [unknown, number]> = [
    [0, 0],
    [1.5, 1.5],
    ["250 millis", 250],
    [[1, 500_000_000], 1_500],
    [{ seconds: 2, milliseconds: 5 }, 2_005],
    ["30 days", MAX_TIMER_MS],
    [1e300, MAX_TIMER_MS]
  ]
  for (const [value, ms] of cases) {
    it(`${Options.show(value)} is ${ms} ms`, () => {
      const pool = Options.poolOptions({ interruptGrace: value, shutdownTimeout: value } as ProcessPool.Options)
      assert.isTrue(Result.isSuccess(pool))
      if (Result.isSuccess(pool)) {
        assert.strictEqual(pool.success.interruptGraceMs, ms)
        assert.strictEqual(pool.success.shutdownTimeoutMs, ms)
      }
      if (ms === 0) return
      // a cluster client's waits too: Node fires a longer setTimeout after 1 ms, which
      // made a `runnerTimeout` of "30 days" fail every queued chunk at once
      const client = ClusterOptions.clientOptions({
        deployment: "d",
        runnerTimeout: value,
        stopTimeout: value
      } as never)
      assert.isTrue(Result.isSuccess(client))
      if (Result.isSuccess(client)) {
        assert.strictEqual(client.success.runnerTimeoutMs, ms)
        assert.strictEqual(client.success.stopTimeoutMs, ms)
      }
    })
  }

  it.live("a pool with the longest waits runs and closes as usual", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1, interruptGrace: "30 days", idleTimeout: "30 days" })
        assert.strictEqual(yield* pool.run(T.square, 3), 9)
      })
    )
  )
})

describe("maxQueue", () => {
  it("is a positive integer or Infinity, for a pool and for a cluster client, and unbounded by default", () => {
    const pool = (maxQueue: unknown): Result.Result<{ readonly maxQueue: number }, string> =>
      Options.poolOptions({ maxQueue } as ProcessPool.Options)
    const client = (maxQueue: unknown): Result.Result<{ readonly maxQueue: number }, string> =>
      ClusterOptions.clientOptions({ deployment: "d", maxQueue } as never)
    for (const validate of [pool, client]) {
      assert.deepStrictEqual(
        Result.map(validate(undefined), (o) => o.maxQueue),
        Result.succeed(Infinity)
      )
      assert.deepStrictEqual(
        Result.map(validate(Infinity), (o) => o.maxQueue),
        Result.succeed(Infinity)
      )
      assert.deepStrictEqual(
        Result.map(validate(1000), (o) => o.maxQueue),
        Result.succeed(1000)
      )
      assert.deepStrictEqual(
        validate(0),
        Result.fail("Expected `maxQueue` to be a positive integer or Infinity, got `0` (number)")
      )
    }
  })
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

describe("the form values take on the channel", () => {
  it("is bytes where the channel carries bytes (threads, advanced processes), JSON text elsewhere", () => {
    const wire = (options: ProcessPool.Options) => {
      const validated = Options.poolOptions(options)
      return Result.isSuccess(validated) ? validated.success.wire : validated.failure
    }
    assert.strictEqual(wire({ workerType: "process" }), "json")
    assert.strictEqual(wire({ workerType: "process", serialization: "json" }), "json")
    assert.strictEqual(wire({ workerType: "process", serialization: "advanced" }), "bytes")
    assert.strictEqual(wire({ workerType: "thread" }), "bytes")
  })
})
