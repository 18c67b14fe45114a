/**
 * Measuring: medians of repeated runs, and a bare `child_process.fork` child
 * that answers IPC messages, the floor every figure here is compared with.
 */
import * as NodeChildProcess from "node:child_process"

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const RUNS = Number(process.env.BENCH_RUNS ?? 5)

/** Runs `f` `runs` times (after one warm-up) and answers the median of what it returns. */
export const medianOf = async (f: () => Promise<number>, runs = RUNS): Promise<number> => {
  await f()
  const samples: Array<number> = []
  for (let i = 0; i < runs; i++) samples.push(await f())
  return median(samples)
}

const floorChildren = {
  bare: new URL("./floorChild.ts", import.meta.url),
  effect: new URL("./floorEffectChild.ts", import.meta.url)
}

/**
 * A bare forked child that squares numbers (or arrays of numbers) it is sent;
 * with `imports: "effect"`, one that imports `effect/Effect` and
 * `effect/Schema` first (bench/floorEffectChild.ts).
 */
export const forkFloor = (serialization: "json" | "advanced" = "json", imports: "bare" | "effect" = "bare") =>
  NodeChildProcess.fork(floorChildren[imports], [], { serialization, execArgv: [] })

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits })
