/**
 * Python's `initializer`, typed and scoped: a task's `layer` is built once in
 * each worker, on first use, shared by every task that uses the same layer,
 * and released (its finalizers run) when the pool shuts down. The layer's log
 * entries, made in the workers, reach this program's logger.
 *
 *   def init(key): global HASHER; HASHER = make_hasher(key)
 *   with ProcessPoolExecutor(initializer=init, initargs=(key,)) as ex: ...
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import { ProcessPool } from "effect-process-pool"
import { hash } from "./tasks/more.ts"

const program = Effect.gen(function* () {
  const digests = yield* ProcessPool.map(hash, ["alpha", "beta", "gamma", "delta"], { chunksize: 1 })
  yield* Console.log(digests.join("\n"))
})

// one worker: the hasher is built once, used four times, released at the end
program.pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 1 })), NodeRuntime.runMain)
