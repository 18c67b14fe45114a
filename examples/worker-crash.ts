/**
 * A worker that dies fails only the task it was running, with `WorkerCrashed`
 * (pid, exit code, signal, task); the pool replaces it and goes on. Python
 * breaks the whole executor with `BrokenProcessPool` instead.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Stream } from "effect"
import { ProcessPool } from "effect-process-pool"
import { fragile } from "./tasks/more.ts"

const program = Effect.gen(function* () {
  const results = yield* ProcessPool.asCompleted(fragile, [1, 2, 3, 4, 5], { chunksize: 1 }).pipe(Stream.runCollect)
  for (const { exit, input } of results.sort((a, b) => a.index - b.index)) {
    yield* exit.pipe(
      Effect.flatMap((value) => Console.log(`${input}: ${value}`)),
      Effect.catchReason("ProcessPoolError", "WorkerCrashed", (crash) =>
        Console.log(`${input}: the worker died (exit code ${crash.exitCode})`)
      )
    )
  }
  const { crashed, restarted } = yield* ProcessPool.stats
  yield* Console.log(`crashed: ${crashed}, restarted: ${restarted}`)
})

// one worker, so that the inputs after the crash need (and get) a replacement
program.pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1 })), NodeRuntime.runMain)
