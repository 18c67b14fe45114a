/**
 * Streaming tasks (`ProcessPool.stream`): elements per second against the
 * floors that carry the same elements with no framework — a bare pipe for a
 * process (newline-delimited JSON, batches of 1024, the kernel's back-pressure)
 * and a bare `MessagePort` for a thread (structured clones, batches of 1024,
 * no back-pressure) — side by side in one run; how long a lone element takes
 * to arrive; then the memory of both sides over a long stream with a consumer
 * slower than the worker.
 *
 * Rates count from the first element to the last (no start-up on either
 * side). Each of `BENCH_RUNS` runs (default 3) measures the floor and then
 * ours at each buffer size, back to back; a ratio is ours over its own run's
 * floor, printed as the median with the lowest and highest.
 *
 * Measured 2026-12-06, 2 cores shared with other work, 1,000,000 records,
 * the consumer taking a chunk at a time (as the floors take a message at a
 * time). Earlier, two runs at load average 1.2 to 1.5, each kind's floor
 * measured once before its streams:
 *
 *   process  bare pipe 2.4 / 3.0 M/s   stream 64: 0.28× / 0.16×   256: 0.61× / 0.34×   1024: 0.92× / 0.53×
 *   thread   bare port 5.1 / 5.1 M/s   stream 64: 0.26× / 0.21×   256: 0.47× / 0.46×   1024: 0.62× / 0.49×
 *
 * Later, two runs of 5 at load average 2 to 4, ratios per run (median, lowest
 * to highest):
 *
 *   process  bare pipe 1.8 / 1.9 M/s   256: 0.38× (0.36–0.68) / 0.34× (0.21–0.58)   1024: 0.45× (0.32–1.20) / 0.52× (0.31–0.71)
 *   thread   bare port 2.7 / 1.8 M/s   256: 0.36× (0.33–0.73) / 0.36× (0.20–1.38)   1024: 0.51× (0.30–1.26) / 0.83× (0.30–1.58)
 *
 * Then (2026-12-06, later) batches of plain records cross threads and
 * `"advanced"` processes as one JSON text, and the default `bufferSize` went
 * from 256 to 2048. A run at load average ~1.0 (a 2-second test ran beside it),
 * then one at load average ~1.2, ratios per run (median, lowest to highest):
 *
 *   process  bare pipe 3.0 / 2.4 M/s   256: 0.38× / 0.34× (0.31–0.43)   1024: 0.66× / 0.53× (0.50–0.62)   2048: 0.73× (0.55–0.86) / 0.65× (0.53–0.72)   4096: 0.76× / 0.75×
 *   thread   bare port 5.1 / 3.8 M/s   256: 0.43× / 0.39× (0.35–0.43)   1024: 0.58× / 0.58× (0.52–0.60)   2048: 0.61× (0.59–0.70) / 0.57× (0.56–0.64)   4096: 0.63× / 0.64×
 *
 * What limits a stream of small elements is the credit's round trip: the
 * worker may run `bufferSize` ahead, so it moves about a buffer per round trip
 * (at 256 the worker waited ~0.4 ms every ~230 elements on a process, ~0.15
 * ms every 128 on a thread, on 2 loaded cores), while the floors make none.
 * Little of that trip is the channel (a bare ping-pong of one byte took a
 * median 56 to 63 µs on a pipe, 36 to 41 µs on a port, at load 2.8): it is
 * each side's work on a batch, most of it the write that wakes the other
 * side (30 to 45 µs of the writer's CPU for a credit of a few bytes, per
 * `--cpu-prof` of both sides: a process parent spent 57 µs of CPU per batch
 * at 256 beyond what it spends at 4096), and, on a loaded host, the wait for a
 * core to do it on. Batching and granting at a quarter of the buffer instead
 * of a half, or granting as batches wake the consumer instead of in its
 * fiber's turn, moved the same. Before records of primitives skipped the
 * Schema machinery (codecFastPaths.ts), a process at 1024 moved 0.38 M/s.
 * Before batches crossed threads as JSON text, a thread moved 2.0 M/s at 1024
 * and 2.1 M/s at 2048 (its worker's structured clone was a third of its
 * work); 2.9 and 3.3 M/s after. A consumer that
 * takes element by element (`Stream.runForEach`) adds Effect's per-element
 * cost on top: 0.8 M/s for a process at 1024 under load.
 *
 * A lone element (one every 10 ms) from its emission in the worker to the
 * consumer: a process median 0.70 ms, p90 0.96 ms, max 2.6 ms; a thread median
 * 0.32 ms, p90 0.52 ms, max 2.0 ms (no batch timer holds it).
 *
 * Memory over 10,000,000 records to a consumer that pauses 1 ms every 256
 * (default bufferSize, then 256), sampled every million: a process pool's parent heap
 * 28 to 58 MB and RSS 144 to 213 MB, its worker's heap 26 to 50 MB and RSS
 * 124 to 156 MB; a thread pool's parent heap 27 to 40 MB, its worker's heap 28
 * to 51 MB. Flat: the heaps move with the collector, not with the count. A
 * later run (load 2 to 4): a process pool's parent heap 28 to 48 MB, RSS 149
 * to 248 MB, its worker's heap 26 to 49 MB, RSS 125 to 157 MB; a thread pool's
 * parent heap 29 to 40 MB, its worker's heap 32 to 96 MB, up and down with no
 * trend (48, 78, 79, 78, 45, 59, 32, 73, 96, 75 MB at each million). With the
 * default at 2048: a process pool's parent heap 37 to 60 MB, RSS 221 to 250
 * MB (the first sample the highest), its worker's heap 21 to 45 MB, RSS 110
 * to 139 MB; a thread pool's parent heap 29 to 60 MB (the first sample the
 * highest), RSS 202 to 272 MB, its worker's heap 24 to 48 MB.
 *
 *   npm run bench:stream
 *   STREAM_ELEMENTS=1000000 STREAM_MEMORY_ELEMENTS=10000000 npm run bench:stream
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeWorkerThreads from "node:worker_threads"
import { Effect, Stream } from "effect"
import { ProcessPool } from "effect-process-pool"
import { fmt, median } from "./measure.ts"
import { records, ticks } from "./stream/task.ts"

const N = Number(process.env.STREAM_ELEMENTS ?? 1_000_000)
const MEMORY_N = Number(process.env.STREAM_MEMORY_ELEMENTS ?? 10_000_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const NO_PROBE = Number.MAX_SAFE_INTEGER

/** Elements per second from the first to the last, of `n` elements. */
const rate = (n: number, first: number, last: number) => (n - 1) / ((last - first) / 1000)

const pipeFloor = (n: number) =>
  new Promise<number>((resolve, reject) => {
    const child = NodeChildProcess.spawn(
      process.execPath,
      [new URL("./stream/pipeChild.ts", import.meta.url).pathname, String(n)],
      { stdio: ["ignore", "pipe", "inherit"] }
    )
    let rest = ""
    let count = 0
    let first = 0
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      if (first === 0) first = performance.now()
      rest += chunk
      for (let nl = rest.indexOf("\n"); nl !== -1; nl = rest.indexOf("\n")) {
        count += (JSON.parse(rest.slice(0, nl)) as Array<unknown>).length
        rest = rest.slice(nl + 1)
      }
    })
    child.on("close", () => (count === n ? resolve(rate(n, first, performance.now())) : reject(new Error(`${count}`))))
  })

const portFloor = (n: number) =>
  new Promise<number>((resolve) => {
    const worker = new NodeWorkerThreads.Worker(new URL("./stream/portChild.ts", import.meta.url), { workerData: n })
    let first = 0
    worker.on("message", (batch: Array<unknown> | null) => {
      if (first === 0) first = performance.now()
      if (batch === null) {
        const last = performance.now()
        void worker.terminate().then(() => resolve(rate(n, first, last)))
      }
    })
  })

/** Our rate on a warm pool of one worker of `workerType`. */
const ours = (workerType: "process" | "thread", n: number, bufferSize: number) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1, workerType })
        yield* pool.stream(records, { count: 1, probeEvery: NO_PROBE }).pipe(Stream.runDrain)
        let first = 0
        let count = 0
        // taken a chunk at a time, as the floors take a message at a time: what is measured is the carrying
        yield* pool.stream(records, { count: n, probeEvery: NO_PROBE }, { bufferSize }).pipe(
          Stream.runForEachArray((chunk) =>
            Effect.sync(() => {
              if (count === 0) first = performance.now()
              count += chunk.length
            })
          )
        )
        return rate(count, first, performance.now())
      })
    )
  )

const BUFFER_SIZES = [256, 1024, 2048, 4096] as const

/**
 * Each run measures the floor, then ours at each buffer size, back to back:
 * a ratio is ours over the floor of its own run, so that the load of a shared
 * host, which moves the floors themselves by half between runs, moves both
 * sides of a ratio alike. Printed: the median rate, and the median ratio with
 * the lowest and highest of the runs.
 */
const throughput = async () => {
  console.log(`elements per second, ${fmt(N)} elements ({ i, s } records), ${RUNS} runs of the floor then ours`)
  for (const workerType of ["process", "thread"] as const) {
    const floors: Array<number> = []
    const rates = BUFFER_SIZES.map(() => [] as Array<number>)
    const ratios = BUFFER_SIZES.map(() => [] as Array<number>)
    for (let run = 0; run < RUNS; run++) {
      const floor = await (workerType === "process" ? pipeFloor(N) : portFloor(N))
      floors.push(floor)
      for (const [i, bufferSize] of BUFFER_SIZES.entries()) {
        const r = await ours(workerType, N, bufferSize)
        rates[i]!.push(r)
        ratios[i]!.push(r / floor)
      }
    }
    const floorName = workerType === "process" ? "bare pipe (floor)       " : "bare MessagePort (floor)"
    console.log(`  ${workerType.padEnd(7)}  ${floorName}      ${fmt(median(floors)).padStart(12)}`)
    for (const [i, bufferSize] of BUFFER_SIZES.entries()) {
      const rs = ratios[i]!
      console.log(
        `  ${workerType.padEnd(7)}  stream, bufferSize ${String(bufferSize).padEnd(5)}        ${fmt(median(rates[i]!)).padStart(12)}  ${median(rs).toFixed(2)}× the floor (${Math.min(...rs).toFixed(2)} to ${Math.max(...rs).toFixed(2)})`
      )
    }
  }
}

/**
 * A consumer slower than the worker (a 1 ms pause every 256 elements) over
 * `MEMORY_N` elements: the parent's heap and RSS, and the worker's heap (and
 * RSS for a process) as its probe elements report them, ten times along the way.
 */
const memory = (workerType: "process" | "thread") =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1, workerType })
        const probeEvery = MEMORY_N / 10
        const rows: Array<string> = []
        let count = 0
        const start = performance.now()
        yield* pool.stream(records, { count: MEMORY_N, probeEvery }).pipe(
          Stream.runForEach((e) => {
            count++
            if (e.heap !== undefined) {
              const parent = process.memoryUsage()
              rows.push(
                `  ${fmt(count).padStart(12)}  parent heap ${mb(parent.heapUsed)} rss ${mb(parent.rss)}  worker heap ${mb(e.heap)}${e.rss === undefined ? "" : ` rss ${mb(e.rss)}`}`
              )
            }
            return count % 256 === 0 ? Effect.sleep(1) : Effect.void
          })
        )
        console.log(
          `${workerType}: ${fmt(MEMORY_N)} elements to a slow consumer in ${fmt((performance.now() - start) / 1000, 1)} s (default bufferSize)`
        )
        for (const row of rows) console.log(row)
      })
    )
  )

/** How long a lone element (one every 10 ms) takes from its emission in the worker to the consumer. */
const latency = (workerType: "process" | "thread") =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: 1, workerType })
        const ms: Array<number> = []
        yield* pool
          .stream(ticks, { count: 200, everyMs: 10 })
          .pipe(Stream.runForEach((e) => Effect.sync(() => ms.push(performance.timeOrigin + performance.now() - e.at))))
        ms.sort((a, b) => a - b)
        const at = (q: number) => fmt(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!, 2)
        console.log(`  ${workerType.padEnd(7)}  median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`)
      })
    )
  )

const mb = (bytes: number) => `${fmt(bytes / 1e6, 1)} MB`.padStart(9)

await throughput()
console.log("a lone element (one every 10 ms), from its emission in the worker to the consumer, 200 elements")
await latency("process")
await latency("thread")
if (MEMORY_N > 0) {
  await memory("process")
  await memory("thread")
}
