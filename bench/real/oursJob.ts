/**
 * The render job on our pool, as a user would write it: `map` over the paths
 * with its defaults (`chunksize: "auto"`: one file per chunk at first, growing
 * while chunks take under ~10 ms), the task from bench/real/markdown.ts.
 */
import * as Effect from "effect/Effect"
import { ProcessPool } from "effect-process-pool"
import { type ColdAnswer, type JobConfig, totalChars, type WarmAnswer } from "./jobConfig.ts"
import { renderFile } from "./markdown.ts"

const makePool = (config: JobConfig) =>
  // `poolOptions` may name options this version does not have yet (`workerType`): the pool refuses them itself
  ProcessPool.make({ maxWorkers: config.workers, ...config.poolOptions } as ProcessPool.Options)

export const cold = async (config: JobConfig): Promise<ColdAnswer> => {
  const start = performance.now()
  const html = await Effect.runPromise(
    Effect.scoped(Effect.flatMap(makePool(config), (pool) => pool.map(renderFile, config.paths)))
  )
  return { ms: performance.now() - start, chars: totalChars(html) }
}

export const warm = (config: JobConfig): Promise<WarmAnswer> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* makePool(config)
        const chars = totalChars(yield* pool.map(renderFile, config.paths))
        const ms: Array<number> = []
        for (let i = 0; i < config.runs; i++) {
          const start = performance.now()
          const html = yield* pool.map(renderFile, config.paths)
          ms.push(performance.now() - start)
          if (totalChars(html) !== chars) return yield* Effect.die(new Error("a run rendered different HTML"))
        }
        return { ms, chars }
      })
    )
  )
