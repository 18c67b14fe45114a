/**
 * `maxQueue` against an unbounded queue: one fiber submits 1,000,000 tiny
 * tasks (n → n²) to a pool of 2 workers and drops each fiber it gets back, as
 * a producer reading an endless source would. Unbounded, the loop runs far
 * ahead of the workers and every submitted job (its record, its inputs, its
 * fiber) waits in the parent; with `maxQueue: 1000` each `submit` returns only
 * once its task has room, so the parent holds at most 1,000 of them and its
 * heap stays flat. Each mode runs in a child process of its own (a fresh heap,
 * `--expose-gc` for the baseline); the heap is sampled every 10 ms.
 *
 *   npm run bench:maxqueue                (both modes, side by side)
 *   npm run bench:maxqueue -- bounded     (one mode, in this process)
 *
 * Measured 2026-12-06 (2 cores shared with other jobs, processes, Node 24):
 * with `maxQueue: 1000` the heap peaked at 81 MB (baseline 24 MB), the same in
 * every tenth of the loop (79–81 MB); the loop took 28.4 s, 29.4 s in all.
 * Unbounded, it grew with every submit (206, 381, 552 ... 1,700 MB by tenth)
 * to a peak of 1,809 MB, with 995,364 inputs queued at once; the loop took
 * 29.7 s and the workers another 39 s to catch up (69.0 s in all).
 */
import * as NodeChildProcess from "node:child_process"
import { Effect, Fiber } from "effect"
import { ProcessPool } from "effect-process-pool"
import { fmt } from "./measure.ts"
import { square } from "./tasks.ts"

const SUBMITS = Number(process.env.BENCH_SUBMITS ?? 1_000_000)
const MAX_QUEUE = 1_000
const SAMPLE_MS = 10

interface Figures {
  readonly mode: string
  readonly baselineMB: number
  readonly peakMB: number
  readonly endMB: number
  readonly submitLoopMs: number
  readonly totalMs: number
  readonly mostQueued: number
  /** the peak heap (MB) over each tenth of the submit loop: flat, or growing with the submits */
  readonly tenths: ReadonlyArray<number>
}

const MB = 1024 * 1024

const runMode = async (mode: "bounded" | "unbounded"): Promise<Figures> => {
  ;(globalThis as { gc?: () => void }).gc?.()
  const baseline = process.memoryUsage().heapUsed
  let peak = baseline
  const tenths: Array<number> = []
  let tenth = 0
  const sample = () => {
    const used = process.memoryUsage().heapUsed
    peak = Math.max(peak, used)
    tenths[tenth] = Math.max(tenths[tenth] ?? 0, used / MB)
  }
  const sampler = setInterval(sample, SAMPLE_MS)
  const start = performance.now()
  const options: ProcessPool.Options = { maxWorkers: 2, ...(mode === "bounded" ? { maxQueue: MAX_QUEUE } : {}) }
  const figures = await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make(options)
        // the workers are up before the clock starts to matter
        yield* pool.run(square, 1)
        let mostQueued = 0
        const loopStart = performance.now()
        let last: Fiber.Fiber<number, unknown> | undefined
        for (let n = 0; n < SUBMITS; n++) {
          last = yield* pool.submit(square, n)
          if (n % 1000 === 0) mostQueued = Math.max(mostQueued, (yield* pool.stats).queued)
          if ((n + 1) % (SUBMITS / 10) === 0) {
            sample()
            tenth++
          }
        }
        const submitLoopMs = performance.now() - loopStart
        // the pool runs its tasks in order on two workers: once the last has ended, wait for the rest
        yield* Fiber.await(last!)
        while ((yield* pool.stats).completed < SUBMITS + 1) yield* Effect.sleep(10)
        return { submitLoopMs, mostQueued }
      })
    )
  )
  const totalMs = performance.now() - start
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().heapUsed)
  return {
    mode,
    baselineMB: baseline / MB,
    peakMB: peak / MB,
    endMB: process.memoryUsage().heapUsed / MB,
    ...figures,
    totalMs,
    tenths: tenths.slice(0, 10)
  }
}

const inChild = (mode: string): Figures => {
  const child = NodeChildProcess.spawnSync(
    process.execPath,
    ["--conditions=effect-process-pool:source", "--expose-gc", new URL(import.meta.url).pathname, mode],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 16 * MB }
  )
  if (child.status !== 0) throw new Error(`the ${mode} run failed (status ${child.status}, signal ${child.signal})`)
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as Figures
}

const mode = process.argv[2]
if (mode === "bounded" || mode === "unbounded") {
  console.log(JSON.stringify(await runMode(mode)))
} else {
  console.log(
    `${fmt(SUBMITS)} submits from one fiber, 2 workers, tiny tasks; parent heap (heapUsed), sampled every ${SAMPLE_MS} ms`
  )
  console.log("mode                  baseline   peak      peak-baseline  submit loop  total     most queued")
  for (const m of ["bounded", "unbounded"] as const) {
    const f = inChild(m)
    const label = m === "bounded" ? `maxQueue: ${fmt(MAX_QUEUE)}` : "unbounded"
    console.log(
      `${label.padEnd(20)}  ${fmt(f.baselineMB, 1).padStart(6)} MB ${fmt(f.peakMB, 1).padStart(7)} MB ` +
        `${fmt(f.peakMB - f.baselineMB, 1).padStart(9)} MB   ${fmt(f.submitLoopMs / 1000, 1).padStart(7)} s  ` +
        `${fmt(f.totalMs / 1000, 1).padStart(6)} s  ${fmt(f.mostQueued).padStart(10)}`
    )
    console.log(`  peak heap by tenth of the loop (MB): ${f.tenths.map((t) => fmt(t, 0)).join(", ")}`)
  }
}
