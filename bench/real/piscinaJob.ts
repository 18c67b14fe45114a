/**
 * The render job on piscina, as its README shows: a `run` per file, all at
 * once, `minThreads` = `maxThreads` = the pool size; `destroy()` at the end.
 */
import { Piscina } from "piscina"
import { type ColdAnswer, type JobConfig, totalChars, type WarmAnswer } from "./jobConfig.ts"

const workerFile = (config: JobConfig) =>
  new URL(
    config.poolOptions?.workerImports === "effect" ? "./piscinaEffectWorker.ts" : "./piscinaWorker.ts",
    import.meta.url
  ).href

const makePool = (config: JobConfig) =>
  new Piscina<string, string>({ filename: workerFile(config), minThreads: config.workers, maxThreads: config.workers })

export const cold = async (config: JobConfig): Promise<ColdAnswer> => {
  const start = performance.now()
  const pool = makePool(config)
  const html = await Promise.all(config.paths.map((path) => pool.run(path)))
  await pool.destroy()
  return { ms: performance.now() - start, chars: totalChars(html) }
}

export const warm = async (config: JobConfig): Promise<WarmAnswer> => {
  const pool = makePool(config)
  try {
    const chars = totalChars(await Promise.all(config.paths.map((path) => pool.run(path))))
    const ms: Array<number> = []
    for (let i = 0; i < config.runs; i++) {
      const start = performance.now()
      const html = await Promise.all(config.paths.map((path) => pool.run(path)))
      ms.push(performance.now() - start)
      if (totalChars(html) !== chars) throw new Error("a run rendered different HTML")
    }
    return { ms, chars }
  } finally {
    await pool.destroy()
  }
}
