/**
 * Making a pool's workers be up before a test relies on it: a worker starts
 * in its own time, and on a loaded machine the workers of one pool come up
 * hundreds of milliseconds apart.
 */
import { Effect } from "effect"
import type { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/tasks.ts"
import { tmpFile } from "./files.ts"

/**
 * Succeeds once `n` workers of `pool` (whose `maxWorkers` is `n`) are up and
 * idle: `n` barrier tasks at once end only when each runs on a worker of its
 * own. Answers their pids; fails if they did not meet within `withinMs`.
 */
export const workersUp = (pool: ProcessPool.Service, n: number, withinMs = 20_000) =>
  Effect.gen(function* () {
    const marker = tmpFile("barrier")
    const pids = yield* Effect.forEach(
      Array.from({ length: n }, () => ({ marker, parties: n, ms: withinMs })),
      (input) => pool.run(T.barrier, input),
      { concurrency: "unbounded" }
    )
    if (new Set(pids).size !== n) {
      return yield* Effect.fail(new Error(`${n} workers were not up within ${withinMs} ms: ${pids.join(", ")}`))
    }
    return pids
  })
