/**
 * The thread floor: bare `worker_threads` and `postMessage`, no framework,
 * the floor of the pool's threads as bench/impls/floor.ts is of its processes.
 * A "pool" of `workers` threads; tasks are dealt round-robin with the same
 * driver as the process floor (`deal`), so the two floors differ only in
 * their channel. Tiny tasks and bytes use bench/threadFloorChild.js (a number
 * → its square, an array → the squares, a `Uint8Array` → itself); the
 * CPU-bound and interruption workloads use bench/peers/threadFloorCpuChild.ts.
 *
 * Threads are started with `execArgv: []` (the forked floor's children get
 * the same): a bare thread, not one with the cell's flags. A thread's memory
 * is the process's: its idle RSS is the growth of this process's RSS with
 * `workers` idle threads, per thread.
 */
import * as NodeWorkerThreads from "node:worker_threads"
import {
  batches,
  bytesPayload,
  type CellConfig,
  type CellResult,
  checkBytes,
  checkSquares,
  IDLE_MS,
  measureWith,
  metricsOnly,
  range,
  rssMb,
  sampleRuns,
  sleep,
  within,
  withSequential
} from "../kit.ts"
import { BATCH_WINDOW, deal, WAIT_MS } from "./floor.ts"
import { SPIN_SETTLE_MS } from "./promisePool.ts"

type Thread = NodeWorkerThreads.Worker

const children = {
  bare: new URL("../threadFloorChild.js", import.meta.url),
  effect: new URL("../threadFloorEffectChild.js", import.meta.url),
  "effect-cached": new URL("../threadFloorEffectCachedChild.js", import.meta.url),
  cpu: new URL("../peers/threadFloorCpuChild.ts", import.meta.url)
}

const start = (file: URL) => (): Thread => new NodeWorkerThreads.Worker(file, { execArgv: [] })

const startCpu = start(children.cpu)

/** The tiny-task thread of workloads 4 and 6a: bare, or with `effect` loaded first (through the compile cache or not). */
const startTiny = (config: CellConfig) => start(children[config.floorImports ?? "bare"])

const post = (thread: Thread, message: unknown) => {
  thread.postMessage(message)
}

/** Sends one message and waits for the thread's next answer (or its error: a thread that cannot start). */
const roundTrip = (thread: Thread, message: unknown): Promise<unknown> => {
  let onError = (_: unknown) => {}
  return within(
    WAIT_MS,
    "a round trip",
    new Promise((resolve, reject) => {
      onError = reject
      thread.once("error", onError)
      thread.once("message", resolve)
      thread.postMessage(message)
    })
  ).finally(() => thread.off("error", onError))
}

/** `terminate()` answers once the thread's 'exit' has come (at once for a thread already gone). */
const terminateAll = async (threads: ReadonlyArray<Thread>) => {
  await within(10_000, "threads exiting", Promise.all(threads.map((thread) => thread.terminate())))
}

const withThreads = async <A>(
  n: number,
  make: () => Thread,
  warm: unknown,
  f: (threads: Array<Thread>) => Promise<A>
): Promise<A> => {
  const threads = range(n).map(() => make())
  try {
    await Promise.all(threads.map((thread) => roundTrip(thread, warm)))
    return await f(threads)
  } finally {
    await terminateAll(threads)
  }
}

const tiny = (config: CellConfig) =>
  withThreads(config.workers, startTiny(config), 0, (threads) => {
    const inputs = range(config.tinyTasks)
    return sampleRuns(config.runs, async () => {
      const begin = performance.now()
      const results = await deal(threads, inputs, post)
      const seconds = (performance.now() - begin) / 1000
      checkSquares(results as Array<number>, inputs.length)
      return { rate: inputs.length / seconds }
    })
  })

/** Arrays of `config.batch` inputs, at most `BATCH_WINDOW` in flight per thread: the process floor's batching. */
const bulk = (config: CellConfig) =>
  withThreads(config.workers, startTiny(config), 0, (threads) => {
    const inputs = range(config.bulkInputs)
    return sampleRuns(config.runs, async () => {
      const begin = performance.now()
      const results = (await deal(threads, batches(inputs, config.batch), post, BATCH_WINDOW)).flat() as Array<number>
      const seconds = (performance.now() - begin) / 1000
      checkSquares(results, inputs.length)
      return { rate: inputs.length / seconds }
    })
  })

const cpu = (config: CellConfig) =>
  withThreads(config.workers, startCpu, ["square", 0], (threads) =>
    sampleRuns(config.runs, async () => {
      const begin = performance.now()
      await deal(
        threads,
        range(config.cpuTasks).map(() => ["countPrimes", config.burnLimit]),
        post
      )
      return withSequential(performance.now() - begin, config)
    })
  )

/** A new thread to its first answer (its closing is not timed). */
const cold = (config: CellConfig) =>
  sampleRuns(config.runs, async () => {
    const begin = performance.now()
    const thread = startTiny(config)()
    try {
      await roundTrip(thread, 3)
      return { ms: performance.now() - begin }
    } finally {
      await terminateAll([thread])
    }
  })

/** `terminate()` stops a thread in a synchronous loop; a new thread serves the next task. */
const interrupt = (config: CellConfig) =>
  sampleRuns(config.runs, () =>
    withThreads(config.workers, startCpu, ["square", 0], async ([a, b]) => {
      a!.postMessage(["spin", config.spinMs])
      b!.postMessage(["spin", config.spinMs])
      await sleep(SPIN_SETTLE_MS)
      const begin = performance.now()
      await within(WAIT_MS, "the terminated thread", a!.terminate())
      const resume = performance.now() - begin
      const replacement = startCpu()
      try {
        await roundTrip(replacement, ["square", 3])
      } finally {
        await terminateAll([replacement])
      }
      return { resume, next: performance.now() - begin }
    })
  )

/**
 * The growth of this process's RSS with `workers` threads that answered once
 * and idled `IDLE_MS`, per thread. One run per process (the harness repeats
 * the cell): memory freed by an earlier run's threads would hide the next
 * run's growth.
 */
const idleRss = async (config: CellConfig): Promise<CellResult> => {
  const metrics = await sampleRuns(
    config.runs,
    async () => {
      globalThis.gc?.()
      const before = rssMb()
      return withThreads(config.workers, startTiny(config), 3, async () => {
        await sleep(IDLE_MS)
        globalThis.gc?.()
        return { workerRss: (rssMb() - before) / config.workers }
      })
    },
    { warmUp: false }
  )
  return {
    metrics,
    notes: [`the process's RSS growth with ${config.workers} idle threads, / ${config.workers}`]
  }
}

/** Workload 7: a `Uint8Array` to a bare thread and back, `postMessage` each way (a structured clone, no transfer). */
const bytes = (config: CellConfig) =>
  withThreads(1, startTiny(config), 0, async ([thread]) => {
    const payload = bytesPayload(config.bytesSize)
    return sampleRuns(config.runs, async () => {
      const begin = performance.now()
      const back = await roundTrip(thread!, payload)
      const ms = performance.now() - begin
      checkBytes(back, payload)
      return { ms }
    })
  })

export const measure = measureWith("the thread floor", {
  tiny: metricsOnly(tiny),
  bulk: metricsOnly(bulk),
  cpu: metricsOnly(cpu),
  cold: metricsOnly(cold),
  interrupt: metricsOnly(interrupt),
  idleRss,
  bytes: metricsOnly(bytes)
})
