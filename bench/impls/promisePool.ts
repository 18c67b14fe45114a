/**
 * The workloads for the peers whose API is a Promise per task (piscina,
 * workerpool, tinypool), written once against a tiny adapter, so that each
 * peer runs exactly the same driver code. Each adapter uses its library as the
 * library's docs show: a pool of `workers`, one call per task, and the
 * library's own cancellation for a running task.
 */
import {
  batches,
  type CellConfig,
  type CellResult,
  type CellWorkload,
  checkSquares,
  IDLE_MS,
  measureWith,
  metricsOnly,
  range,
  rssMb,
  sampleRuns,
  sleep,
  vmRssMb,
  within,
  withSequential
} from "../kit.ts"

/** The tasks the peer workers export (bench/peers/work.ts), plus `pid`. */
export type TaskName = "square" | "squares" | "countPrimes" | "spin" | "pid"

export interface PromisePool {
  /** Runs one task; `signal` cancels it, running or not, by the library's own mechanism. */
  readonly run: (task: TaskName, arg: unknown, signal?: AbortSignal) => Promise<unknown>
  readonly close: () => Promise<void>
}

export type Open = (config: CellConfig) => PromisePool

/** Bounds on single waits: a broken peer fails its cell instead of hanging it. */
const RUN_TIMEOUT_MS = 120_000
const CLOSE_TIMEOUT_MS = 15_000

/** How long the two spinning tasks run before one is interrupted. */
export const SPIN_SETTLE_MS = 300

const withPool = async <A>(open: Open, config: CellConfig, f: (pool: PromisePool) => Promise<A>): Promise<A> => {
  const pool = open(config)
  try {
    return await f(pool)
  } finally {
    await within(CLOSE_TIMEOUT_MS, "closing the pool", pool.close())
  }
}

const tiny = (open: Open, config: CellConfig) =>
  withPool(open, config, (pool) => {
    const n = config.tinyTasks
    const inputs = range(n)
    return sampleRuns(config.runs, async () => {
      const start = performance.now()
      const results = await within(RUN_TIMEOUT_MS, "tiny tasks", Promise.all(inputs.map((i) => pool.run("square", i))))
      const seconds = (performance.now() - start) / 1000
      checkSquares(results as Array<number>, n)
      return { rate: n / seconds }
    })
  })

const bulk = (open: Open, config: CellConfig) =>
  withPool(open, config, (pool) => {
    const n = config.bulkInputs
    const inputs = range(n)
    return sampleRuns(config.runs, async () => {
      const start = performance.now()
      // manual batching, timed: these pools have no chunking of their own
      const parts = await within(
        RUN_TIMEOUT_MS,
        "batched tiny tasks",
        Promise.all(batches(inputs, config.batch).map((batch) => pool.run("squares", batch)))
      )
      const results = (parts as Array<Array<number>>).flat()
      const seconds = (performance.now() - start) / 1000
      checkSquares(results, n)
      return { rate: n / seconds }
    })
  })

const cpu = (open: Open, config: CellConfig) =>
  withPool(open, config, (pool) =>
    sampleRuns(config.runs, async () => {
      const start = performance.now()
      await within(
        RUN_TIMEOUT_MS,
        "CPU-bound tasks",
        Promise.all(range(config.cpuTasks).map(() => pool.run("countPrimes", config.burnLimit)))
      )
      return withSequential(performance.now() - start, config)
    })
  )

const cold = (open: Open, config: CellConfig) =>
  sampleRuns(config.runs, async () => {
    let ms = 0
    await withPool(open, config, async (pool) => {
      const start = performance.now()
      await within(RUN_TIMEOUT_MS, "first result", pool.run("square", 3))
      ms = performance.now() - start
    })
    return { ms }
  })

const interrupt = async (open: Open, config: CellConfig): Promise<CellResult> => {
  const notes = new Set<string>()
  const metrics = await sampleRuns(config.runs, () =>
    withPool(open, config, async (pool) => {
      // two tasks of 100 ms are spread over both workers: both are up afterwards
      await within(RUN_TIMEOUT_MS, "start-up", Promise.all([pool.run("spin", 100), pool.run("spin", 100)]))
      const a = new AbortController()
      const b = new AbortController()
      const spinA = pool.run("spin", config.spinMs, a.signal).then(
        () => "finished" as const,
        () => "cancelled" as const
      )
      const spinB = pool.run("spin", config.spinMs, b.signal).catch(() => undefined)
      await sleep(SPIN_SETTLE_MS)
      const start = performance.now()
      a.abort()
      const outcome = await within(config.spinMs + 10_000, "the cancelled task", spinA)
      const resume = performance.now() - start
      await within(config.spinMs + 10_000, "the next task", pool.run("square", 3))
      const next = performance.now() - start
      if (outcome === "finished") notes.add("the cancelled task ran to its end")
      b.abort()
      await within(config.spinMs + 10_000, "the second cancelled task", spinB)
      return { resume, next }
    })
  )
  return { metrics, notes: [...notes] }
}

const idleRss = async (open: Open, config: CellConfig): Promise<CellResult> => {
  let threads = false
  const metrics = await sampleRuns(
    config.runs,
    async () => {
      globalThis.gc?.()
      const before = rssMb()
      return withPool(open, config, async (pool) => {
        const pid = (await within(RUN_TIMEOUT_MS, "first task", pool.run("pid", 0))) as number
        await sleep(IDLE_MS)
        if (pid !== process.pid) return { workerRss: vmRssMb(pid) }
        // threads share the parent's process: the growth of its RSS, per thread
        threads = true
        globalThis.gc?.()
        return { workerRss: (rssMb() - before) / config.workers }
      })
    },
    { warmUp: false }
  )
  return {
    metrics,
    notes: threads
      ? [
          `worker threads share the parent process: the parent's RSS growth with ${config.workers} idle threads, / ${config.workers}`
        ]
      : []
  }
}

export const measure = (open: Open, workload: CellWorkload, config: CellConfig): Promise<CellResult> =>
  measureWith("this implementation", {
    tiny: metricsOnly((config) => tiny(open, config)),
    bulk: metricsOnly((config) => bulk(open, config)),
    cpu: metricsOnly((config) => cpu(open, config)),
    cold: metricsOnly((config) => cold(open, config)),
    interrupt: (config) => interrupt(open, config),
    idleRss: (config) => idleRss(open, config)
  })(workload, config)
