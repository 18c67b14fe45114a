/**
 * The article's first example: `executor.map` over 8 inputs with 4 workers.
 *
 *   with ProcessPoolExecutor(max_workers=4) as executor:
 *       results = list(executor.map(heavy, [10**6] * 8))
 *   print(results)
 *
 * Leaving `with` shuts the executor down; here, the layer's scope closing does.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import { ProcessPool } from "effect-process-pool"
import { heavy } from "./tasks/heavy.ts"

const program = Effect.gen(function* () {
  const results = yield* ProcessPool.map(
    heavy,
    Array.from({ length: 8 }, () => 10 ** 6)
  )
  yield* Console.log(results)
})

program.pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 4 })), NodeRuntime.runMain)
