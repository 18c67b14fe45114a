/**
 * The article's `chunksize` example: when tasks are many and short, one IPC
 * message per task is mostly overhead; chunks of inputs per message fix that.
 * Python's `Executor.map` defaults to a chunksize of 1; here the default is
 * `"auto"`, which sizes chunks from what they cost, so there is nothing to tune.
 *
 *   data = range(100_000)
 *   with ProcessPoolExecutor(max_workers=4) as ex:
 *       # 1000 inputs per message to a process
 *       results = list(ex.map(square, data, chunksize=1000))
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import { ProcessPool } from "effect-process-pool"
import { square } from "./tasks/heavy.ts"

const data = Array.from({ length: 100_000 }, (_, i) => i)

const timed = (chunksize: number | "auto") =>
  Effect.gen(function* () {
    const start = performance.now()
    const results = yield* ProcessPool.map(square, data, { chunksize })
    const ms = performance.now() - start
    const label = `chunksize ${JSON.stringify(chunksize)}`.padEnd(16)
    yield* Console.log(`${label}: ${results.length} results, last ${results.at(-1)}, ${Math.round(ms)} ms`)
  })

const program = Effect.gen(function* () {
  yield* ProcessPool.map(square, data) // starts the four workers, so the timings compare runs alone
  yield* timed(1000) // the article's
  yield* timed(1) // Python's default
  yield* timed("auto") // ours
}).pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 4 })))

NodeRuntime.runMain(program)
