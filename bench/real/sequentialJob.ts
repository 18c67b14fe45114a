/** The render job with no pool: every file one after another in this process. */
import type { ColdAnswer, JobConfig, WarmAnswer } from "./jobConfig.ts"

const renderAll = (renderFile: (path: string) => string, paths: ReadonlyArray<string>): number => {
  let chars = 0
  for (const path of paths) chars += renderFile(path).length
  return chars
}

export const cold = async (config: JobConfig): Promise<ColdAnswer> => {
  const start = performance.now()
  const { renderFile } = await import("./render.ts")
  const chars = renderAll(renderFile, config.paths)
  return { ms: performance.now() - start, chars }
}

export const warm = async (config: JobConfig): Promise<WarmAnswer> => {
  const { renderFile } = await import("./render.ts")
  const chars = renderAll(renderFile, config.paths)
  const ms: Array<number> = []
  for (let i = 0; i < config.runs; i++) {
    const start = performance.now()
    if (renderAll(renderFile, config.paths) !== chars) throw new Error("a run rendered different HTML")
    ms.push(performance.now() - start)
  }
  return { ms, chars }
}
