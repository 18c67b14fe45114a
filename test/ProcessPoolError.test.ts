import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { ProcessPoolError as PPE } from "../src/index.ts"

const reasons: ReadonlyArray<PPE.ProcessPoolErrorReason> = [
  new PPE.WorkerCrashed({ task: "t", workerType: "process", workerId: 3, pid: 42, exitCode: null, signal: "SIGKILL" }),
  new PPE.WorkerCrashed({ task: "t", workerType: "process", workerId: 3, pid: 42, exitCode: 3, signal: null }),
  new PPE.WorkerCrashed({
    task: "t",
    workerType: "thread",
    workerId: 4,
    threadId: 9,
    exitCode: 1,
    signal: null,
    detail: "ran out of memory"
  }),
  new PPE.TaskCodecError({ task: "t", phase: "payload", message: "Expected number" }),
  new PPE.TaskCodecError({ task: "t", phase: "success", message: "Expected string" }),
  new PPE.TaskCodecError({ task: "t", phase: "failure", message: "Expected TooLarge" }),
  new PPE.TaskNotFound({ task: "t", module: "file:///m.js", message: "no task named t" }),
  new PPE.WorkerStartError({
    task: "t",
    message: "exited with code 9",
    exitCode: 9,
    signal: null,
    stderr: "bad option"
  }),
  new PPE.WorkerStartError({ task: "t", message: "could not import", pid: 7, cause: new SyntaxError("nope") }),
  new PPE.WorkerStartError({ task: "t", message: "could not import", worker: "worker 2 (thread 5)" }),
  new PPE.PoolClosed({ task: "t" }),
  new PPE.RunnerUnavailable({ task: "t", runner: "127.0.0.1:34431", message: "no runner took it within 30000 ms" }),
  new PPE.RunnerUnavailable({ task: "t", message: "no runner found" }),
  new PPE.DeploymentMismatch({ task: "t", runner: "127.0.0.1:34431", expected: "v2", actual: "v1" }),
  new PPE.Unsupported({ task: "t", operation: "stream", message: "not here" })
]

describe("ProcessPoolError", () => {
  const codec = Schema.toCodecJson(PPE.ProcessPoolError)

  for (const reason of reasons) {
    it.effect(`${reason._tag} survives a round trip through its Schema and JSON`, () =>
      Effect.gen(function* () {
        const error = new PPE.ProcessPoolError({ reason })
        const json = JSON.parse(JSON.stringify(yield* Schema.encodeEffect(codec)(error)))
        assert.strictEqual(json._tag, "ProcessPoolError")
        assert.strictEqual(json.reason._tag, reason._tag)
        const back = yield* Schema.decodeUnknownEffect(codec)(json)
        assert.instanceOf(back, PPE.ProcessPoolError)
        assert.instanceOf(back, Error)
        assert.isTrue(PPE.isProcessPoolError(back))
        assert.strictEqual(back.reason.constructor, reason.constructor)
        assert.strictEqual(back.message, error.message)
        const { cause: _a, ...fields } = reason as unknown as Record<string, unknown>
        const { cause: _b, ...backFields } = back.reason as unknown as Record<string, unknown>
        assert.deepStrictEqual(backFields, fields)
      })
    )
  }

  it.effect("the message is the reason's, and catchTag / catchReason both match", () =>
    Effect.gen(function* () {
      const error = new PPE.ProcessPoolError({ reason: reasons[0]! })
      assert.strictEqual(error.message, 'The worker 3 (pid 42) running task "t" was killed by SIGKILL')
      assert.strictEqual(
        new PPE.ProcessPoolError({ reason: reasons[2]! }).message,
        'The worker 4 (thread 9) running task "t" ran out of memory'
      )
      const failing = Effect.fail(error)
      assert.strictEqual(
        yield* failing.pipe(Effect.catchTag("ProcessPoolError", (e) => Effect.succeed(e.reason._tag))),
        "WorkerCrashed"
      )
      assert.strictEqual(
        yield* failing.pipe(Effect.catchReason("ProcessPoolError", "WorkerCrashed", (r) => Effect.succeed(r.pid))),
        42
      )
      const other = Effect.fail(new PPE.ProcessPoolError({ reason: new PPE.PoolClosed({ task: "t" }) }))
      const exit = yield* Effect.exit(
        other.pipe(Effect.catchReason("ProcessPoolError", "WorkerCrashed", () => Effect.succeed(0)))
      )
      assert.strictEqual(exit._tag, "Failure")
    })
  )

  it.effect("isProcessPoolError tells the pool's errors apart", () =>
    Effect.sync(() => {
      assert.isTrue(PPE.isProcessPoolError(new PPE.ProcessPoolError({ reason: reasons[8]! })))
      assert.isFalse(PPE.isProcessPoolError(new Error("x")))
      assert.isFalse(PPE.isProcessPoolError(reasons[0]))
    })
  )
})
