/**
 * The article's `max_workers` example. The default is the number of cores
 * (`os.availableParallelism()`, Python's `os.cpu_count()`); for work that
 * also waits on I/O, more workers than cores can help; for pure CPU work more
 * only adds context switches. Workers start on demand, so a pool never has
 * more processes than it had work for.
 *
 *   with ProcessPoolExecutor() as ex:                                # max_workers = os.cpu_count()
 *   with ProcessPoolExecutor(max_workers=os.cpu_count() * 2) as ex:  # I/O mixed in
 */
import * as NodeOs from "node:os"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import { ProcessPool } from "effect-process-pool"
import { heavy } from "./tasks/heavy.ts"

const cores = NodeOs.availableParallelism()

const busy = (label: string) =>
  Effect.gen(function* () {
    const inputs = Array.from({ length: cores * 4 }, () => 200_000)
    const start = performance.now()
    yield* ProcessPool.map(heavy, inputs)
    const { workers } = yield* ProcessPool.stats
    yield* Console.log(
      `${label}: ${workers} workers ran ${inputs.length} tasks in ${Math.round(performance.now() - start)} ms`
    )
  })

const program = Effect.gen(function* () {
  yield* Console.log(`${cores} cores`)
  yield* busy("default (one per core)").pipe(Effect.provide(ProcessPool.layer()))
  yield* busy("max_workers = cores * 2").pipe(Effect.provide(ProcessPool.layer({ maxWorkers: cores * 2 })))
})

NodeRuntime.runMain(program)
