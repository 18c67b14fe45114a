/**
 * What the harness (bench/bench.ts) and its cells (bench/cell.ts, one child
 * process per implementation and workload) share: the cell's configuration,
 * the shape of its answer, and small measuring helpers.
 */
import * as NodeFs from "node:fs"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { median } from "./measure.ts"
import { countPrimes } from "./peers/work.ts"

/** What one cell measures. The harness maps workload numbers 1–7 onto these. */
export type CellWorkload = "tiny" | "bulk" | "cpu" | "cold" | "interrupt" | "idleRss" | "streamRss" | "bytes"

export interface CellConfig {
  /** timed runs, after the untimed warm-up (`sampleRuns`) */
  readonly runs: number
  /** pool size for every implementation */
  readonly workers: number
  /** workload 1: tiny tasks submitted at once */
  readonly tinyTasks: number
  /** workload 2: tiny inputs */
  readonly bulkInputs: number
  /** workload 2: inputs per message where the batching is manual (the floor, the JS peers) */
  readonly batch: number
  /** workload 3: tasks, and the `countPrimes` limit that makes one take about 100 ms */
  readonly cpuTasks: number
  readonly burnLimit: number
  /** workload 5: how long the interrupted task would spin if left alone */
  readonly spinMs: number
  /** workload 5, ours: the pool's interruptGrace (ms) */
  readonly interruptGrace?: number | undefined
  /** Effect RPC: requests in flight per worker */
  readonly concurrency?: number | undefined
  /** workload 6, ours: inputs to mapStream */
  readonly streamInputs: number
  /** workload 6b: the same stream without a pool, squared in the cell's own process */
  readonly inProcess?: boolean | undefined
  /**
   * workloads 4 and 6a, the floors: a bare child (or thread), one that imports `effect` first,
   * or (threads) one that turns Node's module compile cache on, then imports `effect`
   */
  readonly floorImports?: "bare" | "effect" | "effect-cached" | undefined
  /** ours: the pool's `workerType`, always set (a pool that leaves it out would read EFFECT_PROCESS_POOL_WORKER_TYPE) */
  readonly workerType?: "process" | "thread" | undefined
  /** workload 7: bytes in the `Uint8Array` that goes to a worker and back */
  readonly bytesSize: number
  /**
   * workload 7, ours on processes: the pool's `serialization`; with `"advanced-json"`,
   * `"advanced"` framing carrying values as JSON (bytes as base64 text), as it did
   * before bytes crossed as bytes: built from the pool's internals (impls/ours.ts)
   */
  readonly channel?: "json" | "advanced" | "advanced-json" | undefined
}

export interface Metric {
  readonly median: number
  readonly samples: ReadonlyArray<number>
}

/** A cell's answer, printed on stdout after {@link RESULT_MARK} (workers may print on stdout too). */
export interface CellResult {
  readonly metrics: Record<string, Metric>
  readonly notes?: ReadonlyArray<string>
}

export { RESULT_MARK } from "./isolated.ts"

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Rejects after `ms` with a "timeout" error naming `what`: no wait in a cell is unbounded. */
export const within = <A>(ms: number, what: string, promise: Promise<A>): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout: ${what} took over ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * The least time the untimed warm-up takes: its run is repeated until then
 * (at most `MAX_WARM_UP_RUNS` times). 0, one run, unless the cell sets it.
 */
let warmUpMs = 0
const MAX_WARM_UP_RUNS = 50

/**
 * The warm-up of the throughput workloads (1 and 2, every implementation
 * alike): their rounds last 30-150 ms, and after one of them V8 is still
 * compiling the code of a pool's hot path on the two cores the workers run on
 * (rounds 1-3 of tiny tasks on threads at 180-440 k tasks/s, from round 6 on
 * 420-750 k, where the thread floor, which has nearly no code, runs
 * 630-880 k from its first round): timed then, a cell measures how soon V8
 * settles, not the rate it settles at, and its median moves by a third
 * between runs. Cold start is workload 4's.
 */
export const STEADY_WARM_UP_MS = 1000

/** Sets the warm-up's least time for the cell's workload (bench/cell.ts). */
export const setWarmUpMs = (ms: number): void => {
  warmUpMs = ms
}

/**
 * Runs `f` untimed (the warm-up, skipped with `warmUp: false`; once, or until
 * `setWarmUpMs`'s time has passed), then `runs` times, and answers the median
 * of each figure it returns.
 */
export const sampleRuns = async (
  runs: number,
  f: (run: number) => Promise<Record<string, number>>,
  options: { readonly warmUp?: boolean } = {}
): Promise<Record<string, Metric>> => {
  if (options.warmUp !== false) {
    const start = performance.now()
    let done = 0
    do await f(-1)
    while (++done < MAX_WARM_UP_RUNS && since(start) < warmUpMs)
  }
  const samples: Record<string, Array<number>> = {}
  for (let i = 0; i < runs; i++) {
    for (const [key, value] of Object.entries(await f(i))) (samples[key] ??= []).push(value)
  }
  return Object.fromEntries(Object.entries(samples).map(([key, xs]) => [key, { median: median(xs), samples: xs }]))
}

/** `sampleRuns` for Effect-shaped runs. */
export const sampleEffect = (
  runs: number,
  f: (run: number) => Effect.Effect<Record<string, number>, unknown>,
  options: { readonly warmUp?: boolean } = {}
): Effect.Effect<Record<string, Metric>> =>
  Effect.promise(() => sampleRuns(runs, (run) => Effect.runPromise(f(run)), options))

/** `sampleEffect` run to a Promise, each run in a scope of its own: a fresh pool per run. */
export const sampleScoped = (
  runs: number,
  f: (run: number) => Effect.Effect<Record<string, number>, unknown, Scope.Scope>,
  options: { readonly warmUp?: boolean } = {}
): Promise<Record<string, Metric>> => Effect.runPromise(sampleEffect(runs, (run) => Effect.scoped(f(run)), options))

/** Milliseconds since `start` (a `performance.now()`). */
export const since = (start: number) => performance.now() - start

/** What an implementation measures: one function per workload it supports. */
export type Measures = Partial<Record<CellWorkload, (config: CellConfig) => Promise<CellResult>>>

/** A workload function that answers only metrics, as a `Measures` entry. */
export const metricsOnly =
  (f: (config: CellConfig) => Promise<Record<string, Metric>>) =>
  async (config: CellConfig): Promise<CellResult> => ({ metrics: await f(config) })

/** Runs the implementation's function for a workload; `name` is for the error of one it does not measure. */
export const measureWith =
  (name: string, measures: Measures) =>
  (workload: CellWorkload, config: CellConfig): Promise<CellResult> => {
    const f = measures[workload]
    if (f === undefined) throw new Error(`not measured for ${name}: ${workload}`)
    return f(config)
  }

/** Resident set size of a process in MB, from /proc/<pid>/status (VmRSS); NaN where it cannot be read. */
export const vmRssMb = (pid: number): number => {
  try {
    const status = NodeFs.readFileSync(`/proc/${pid}/status`, "utf8")
    const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
    return kib === null ? Number.NaN : Number(kib[1]) / 1024
  } catch {
    return Number.NaN
  }
}

export const rssMb = () => process.memoryUsage().rss / 1024 / 1024

export const heapMb = () => process.memoryUsage().heapUsed / 1024 / 1024

/** How long a worker idles after its one task before its RSS is read. */
export const IDLE_MS = 1_000

/**
 * Workload 3's figures from one pool run: the pool's wall time, and the same
 * tasks one after another in this process right afterwards (the pool idle), so
 * that the speedup compares times taken under the same load on the machine.
 */
export const withSequential = (poolMs: number, config: CellConfig): Record<string, number> => {
  const start = performance.now()
  for (let i = 0; i < config.cpuTasks; i++) countPrimes(config.burnLimit)
  const sequentialMs = performance.now() - start
  return { ms: poolMs, sequentialMs, speedup: sequentialMs / poolMs }
}

/** The integers 0 … n-1. */
export const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/** `xs` cut into arrays of `size`. */
export const batches = <A>(xs: ReadonlyArray<A>, size: number): Array<Array<A>> => {
  const out: Array<Array<A>> = []
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size))
  return out
}

/** Throws unless `results` are the squares of 0 … n-1 (spot checks). */
export const checkSquares = (results: ReadonlyArray<number>, n: number) => {
  if (results.length !== n) throw new Error(`expected ${n} results, got ${results.length}`)
  for (const i of [0, 1, Math.floor(n / 2), n - 1]) {
    if (results[i] !== i * i) throw new Error(`wrong result at ${i}: ${results[i]}`)
  }
}

/** Workload 7's payload: `size` bytes of a pattern (not zeros, which a channel could carry cheaply). */
export const bytesPayload = (size: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >>> 8)) & 255
  return bytes
}

/** Throws unless `back` is a `Uint8Array` with the bytes of `sent` (compared after the timing). */
export const checkBytes = (back: unknown, sent: Uint8Array) => {
  if (!(back instanceof Uint8Array))
    throw new Error(`expected a Uint8Array back, got ${Object.prototype.toString.call(back)}`)
  if (Buffer.compare(back, sent) !== 0)
    throw new Error(`the bytes came back changed (${back.length} of ${sent.length})`)
}
