/**
 * The benchmark harness: this library next to the floor (bare
 * `child_process.fork` IPC) and its peers — Python's ProcessPoolExecutor,
 * piscina, workerpool, tinypool and Effect's own RPC worker pool — on the same
 * workloads, in one run:
 *
 *   1. tiny tasks submitted at once, one per message         tasks/s
 *   2. 1,000,000 tiny tasks, each at its best batching        tasks/s
 *   3. 16 CPU-bound tasks of ~100 ms                          speedup over sequential
 *   4. cold start: a new pool to its first result             ms
 *   5. interrupting a task busy in a synchronous loop         ms
 *   6. memory: idle worker RSS; the parent's RSS during mapStream
 *   7. bytes: a 16 MiB Uint8Array to a worker and back        ms
 *
 * This library runs each workload on processes and on threads
 * (`workerType`), beside two floors: bare forked children and bare worker
 * threads, each carrying the same messages with no framework. Threads' rows
 * are compared with the thread floor, the rest with the process floor; the
 * report ends with the issue's targets (#19), as ratios from this one run
 * (bench/targets.ts). Bytes are a workload here rather than a script of their
 * own so that their targets come from the same run as the others, in cells
 * with the same isolation, time limits and leftover checks (BENCH_ONLY=7 runs
 * them alone).
 *
 * Every cell (one implementation on one workload) runs in a process of its own
 * (bench/cell.ts, or bench/peers/python_pool.py), in its own process group,
 * with a time limit: a peer that hangs is killed with everything it started and
 * its cell says "timeout"; after each cell the harness checks that no process
 * of the cell's group is left.
 *
 *   npm run bench                         all workloads, medians of BENCH_RUNS (default 5)
 *   BENCH_ONLY=1,3 npm run bench          a subset
 *   BENCH_QUICK=1 npm run bench           smoke test: 1 run per cell, smaller inputs (writes to bench/.tmp/)
 *   BENCH_TIMEOUT_MS=5000 npm run bench   a lower time limit for every cell (to test the harness itself)
 *
 * Prints the tables and writes bench/RESULTS.md and bench/chart.svg.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as Host from "./host.ts"
import * as Isolated from "./isolated.ts"
import type { CellConfig, CellResult, CellWorkload } from "./kit.ts"
import { RUNS } from "./measure.ts"
import { calibrateCountPrimes } from "./peers/work.ts"
import {
  type Cell,
  type Machine,
  renderChart,
  renderConsole,
  renderMarkdown,
  renderTargetsConsole,
  type WorkloadNumber
} from "./report.ts"

const QUICK = process.env.BENCH_QUICK === "1"
const runs = QUICK ? 1 : RUNS
const only = (process.env.BENCH_ONLY ?? "1,2,3,4,5,6,7")
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n): n is WorkloadNumber => n >= 1 && n <= 7)
const workers = NodeOs.availableParallelism()

/** The target time of one CPU-bound task. */
const BURN_TARGET_MS = 100
/** Inputs per message where the batching is manual (the floor, the JS peers). */
const BATCH = 1_000
/** Memory cells are slow and steady: fewer runs. */
const MEMORY_RUNS = Math.min(runs, 3)
/** How long the interrupted task would spin if left alone. */
const SPIN_MS = 3_000
/** Workload 7: the bytes that go to a worker and back (the issue's 16 MiB). */
const BYTES = 16 * 1024 * 1024

const here = new URL(".", import.meta.url)
const python = "python3"

// --- the machine ---------------------------------------------------------------

const cpuModel = Host.cpuModel()

const pythonVersion = (() => {
  const r = NodeChildProcess.spawnSync(python, ["--version"], { encoding: "utf8", timeout: 10_000 })
  return r.status === 0 ? (r.stdout || r.stderr).trim().replace(/^Python /, "") : undefined
})()

const version = Host.packageVersion

// --- cells ---------------------------------------------------------------------

interface CellSpec {
  readonly workload: WorkloadNumber
  /** the row's label */
  readonly label: string
  /** what the row's figure comes from, beyond the workload's own description */
  readonly how: string
  readonly impl: string
  readonly cell: CellWorkload
  readonly config?: Partial<CellConfig>
  /** run the cell this many times (fresh processes) and pool the samples */
  readonly repeat?: number
  /** a row with no cell: the reason */
  readonly na?: string
  /** Node flags of the cell's process (not of its workers) */
  readonly nodeFlags?: ReadonlyArray<string>
  /** the floor of its family: the row others' "× floor" divide by */
  readonly reference?: boolean
  /** whose floor the row is compared with: the thread floor for ours on threads, else the process floor */
  readonly family?: "process" | "thread"
}

const LIMIT_MS: Record<CellWorkload, number> = {
  tiny: 180_000,
  bulk: 240_000,
  cpu: 180_000,
  cold: 120_000,
  interrupt: 240_000,
  idleRss: 90_000,
  streamRss: 180_000,
  bytes: 180_000
}

const LABEL = {
  floor: "floor (bare fork + IPC)",
  floorEffect: "floor + `effect` (the child imports effect/Effect and effect/Schema)",
  threadFloor: "thread floor (bare worker_threads + postMessage)",
  threadFloorEffect: "thread floor + `effect` (the thread imports effect/Effect and effect/Schema)",
  threadFloorEffectCached: "thread floor + `effect`, compile cache on (as the pool's threads have it)",
  ours: "effect-process-pool (processes)",
  oursThreads: "effect-process-pool (threads)",
  python: "Python ProcessPoolExecutor",
  piscina: "piscina (worker threads)",
  workerpool: 'workerpool (workerType "process")',
  tinypool: 'tinypool (runtime "child_process")',
  rpc: "Effect RPC worker pool (NodeWorker)"
} as const

const streamSizes = QUICK ? [10_000, 100_000] : [100_000, 1_000_000, 10_000_000]

/** The thread floor's rows and ours on threads: compared with the thread floor. */
const THREAD_FLOOR = { impl: "thread-floor", family: "thread" } as const
const THREADS = { family: "thread", config: { workerType: "thread" } } as const

const specs: Array<CellSpec> = [
  // 1. tiny tasks, one per message
  {
    workload: 1,
    label: LABEL.floor,
    how: "single: one message per task each way",
    impl: "floor",
    cell: "tiny",
    reference: true
  },
  {
    workload: 1,
    label: LABEL.threadFloor,
    how: "single: one message per task each way",
    cell: "tiny",
    reference: true,
    ...THREAD_FLOOR
  },
  { workload: 1, label: LABEL.ours, how: "`submit` per task, then `Fiber.joinAll`", impl: "ours", cell: "tiny" },
  {
    workload: 1,
    label: LABEL.oursThreads,
    how: "`submit` per task, then `Fiber.joinAll`",
    impl: "ours",
    cell: "tiny",
    ...THREADS
  },
  { workload: 1, label: LABEL.python, how: "`submit` per task, then `result()` of each", impl: "python", cell: "tiny" },
  { workload: 1, label: LABEL.piscina, how: "`run` per task", impl: "piscina", cell: "tiny" },
  { workload: 1, label: LABEL.workerpool, how: "`exec` per task", impl: "workerpool", cell: "tiny" },
  { workload: 1, label: LABEL.tinypool, how: "`run` per task", impl: "tinypool", cell: "tiny" },
  {
    workload: 1,
    label: LABEL.rpc,
    how: "one RPC per task, `concurrency: 1` per worker (Pool's default)",
    impl: "effect-rpc",
    cell: "tiny"
  },
  {
    workload: 1,
    label: `${LABEL.rpc}, concurrency 4`,
    how: "as above with `concurrency: 4` per worker (Effect's example)",
    impl: "effect-rpc",
    cell: "tiny",
    config: { concurrency: 4 }
  },
  // 2. many tiny tasks, at each one's best batching
  {
    workload: 2,
    label: LABEL.floor,
    how: `batched: arrays of ${BATCH} inputs per message, at most 4 in flight per child`,
    impl: "floor",
    cell: "bulk",
    reference: true
  },
  {
    workload: 2,
    label: LABEL.threadFloor,
    how: `batched: arrays of ${BATCH} inputs per message, at most 4 in flight per thread`,
    cell: "bulk",
    reference: true,
    ...THREAD_FLOOR
  },
  { workload: 2, label: LABEL.ours, how: '`map(…, { chunksize: "auto" })`', impl: "ours", cell: "bulk" },
  {
    workload: 2,
    label: LABEL.oursThreads,
    how: '`map(…, { chunksize: "auto" })`',
    impl: "ours",
    cell: "bulk",
    ...THREADS
  },
  { workload: 2, label: LABEL.python, how: "`executor.map(…, chunksize=500)`", impl: "python", cell: "bulk" },
  {
    workload: 2,
    label: LABEL.piscina,
    how: `manual batching: arrays of ${BATCH} per task`,
    impl: "piscina",
    cell: "bulk"
  },
  {
    workload: 2,
    label: LABEL.workerpool,
    how: `manual batching: arrays of ${BATCH} per task`,
    impl: "workerpool",
    cell: "bulk"
  },
  {
    workload: 2,
    label: LABEL.tinypool,
    how: `manual batching: arrays of ${BATCH} per task`,
    impl: "tinypool",
    cell: "bulk"
  },
  {
    workload: 2,
    label: LABEL.rpc,
    how: `manual batching: arrays of ${BATCH} per RPC, concurrency 1`,
    impl: "effect-rpc",
    cell: "bulk"
  },
  {
    workload: 2,
    label: `${LABEL.rpc}, concurrency 4`,
    how: `manual batching: arrays of ${BATCH} per RPC, concurrency 4`,
    impl: "effect-rpc",
    cell: "bulk",
    config: { concurrency: 4 }
  },
  // 3. CPU-bound
  {
    workload: 3,
    label: LABEL.floor,
    how: "tasks dealt round-robin, one message each",
    impl: "floor",
    cell: "cpu",
    reference: true
  },
  {
    workload: 3,
    label: LABEL.threadFloor,
    how: "tasks dealt round-robin, one message each",
    cell: "cpu",
    reference: true,
    ...THREAD_FLOOR
  },
  { workload: 3, label: LABEL.ours, how: "`map(…, { chunksize: 1 })`", impl: "ours", cell: "cpu" },
  { workload: 3, label: LABEL.oursThreads, how: "`map(…, { chunksize: 1 })`", impl: "ours", cell: "cpu", ...THREADS },
  {
    workload: 3,
    label: LABEL.python,
    how: "`executor.map`; its own limit, calibrated to ~100 ms in Python",
    impl: "python",
    cell: "cpu"
  },
  { workload: 3, label: LABEL.piscina, how: "`run` per task", impl: "piscina", cell: "cpu" },
  { workload: 3, label: LABEL.workerpool, how: "`exec` per task", impl: "workerpool", cell: "cpu" },
  { workload: 3, label: LABEL.tinypool, how: "`run` per task", impl: "tinypool", cell: "cpu" },
  { workload: 3, label: LABEL.rpc, how: "one RPC per task, concurrency 1", impl: "effect-rpc", cell: "cpu" },
  // 4. cold start
  {
    workload: 4,
    label: LABEL.floor,
    how: "`fork` + the first IPC round trip",
    impl: "floor",
    cell: "cold",
    reference: true
  },
  {
    workload: 4,
    label: LABEL.floorEffect,
    how: "bench/floorEffectChild.ts: `fork` + the first IPC round trip",
    impl: "floor",
    cell: "cold",
    config: { floorImports: "effect" }
  },
  {
    workload: 4,
    label: LABEL.threadFloor,
    how: "`new Worker` + the first round trip",
    cell: "cold",
    reference: true,
    ...THREAD_FLOOR
  },
  {
    workload: 4,
    label: LABEL.threadFloorEffect,
    how: "bench/threadFloorEffectChild.js: `new Worker` + the first round trip",
    cell: "cold",
    ...THREAD_FLOOR,
    config: { floorImports: "effect" }
  },
  {
    workload: 4,
    label: LABEL.threadFloorEffectCached,
    how: "bench/threadFloorEffectCachedChild.js: `new Worker` + the first round trip",
    cell: "cold",
    ...THREAD_FLOOR,
    config: { floorImports: "effect-cached" }
  },
  { workload: 4, label: LABEL.ours, how: "`ProcessPool.make` + `run`", impl: "ours", cell: "cold" },
  { workload: 4, label: LABEL.oursThreads, how: "`ProcessPool.make` + `run`", impl: "ours", cell: "cold", ...THREADS },
  {
    workload: 4,
    label: LABEL.python,
    how: "`ProcessPoolExecutor(2)` + `submit().result()`, timed inside Python (start method fork)",
    impl: "python",
    cell: "cold"
  },
  { workload: 4, label: LABEL.piscina, how: "`new Piscina` + `run`", impl: "piscina", cell: "cold" },
  { workload: 4, label: LABEL.workerpool, how: "`workerpool.pool` + `exec`", impl: "workerpool", cell: "cold" },
  { workload: 4, label: LABEL.tinypool, how: "`new Tinypool` + `run`", impl: "tinypool", cell: "cold" },
  { workload: 4, label: LABEL.rpc, how: "`Layer.build` of the client + one RPC", impl: "effect-rpc", cell: "cold" },
  // 5. interrupting a busy task
  {
    workload: 5,
    label: LABEL.floor,
    how: "`kill('SIGKILL')` → 'exit'; a new `fork` + round trip",
    impl: "floor",
    cell: "interrupt",
    reference: true
  },
  {
    workload: 5,
    label: LABEL.threadFloor,
    how: "`terminate()` → 'exit'; a new `Worker` + round trip",
    cell: "interrupt",
    reference: true,
    ...THREAD_FLOOR
  },
  {
    workload: 5,
    label: `${LABEL.ours}, interruptGrace 1 s (default)`,
    how: "`Fiber.interrupt`",
    impl: "ours",
    cell: "interrupt"
  },
  {
    workload: 5,
    label: `${LABEL.ours}, interruptGrace 100 ms`,
    how: "`Fiber.interrupt`",
    impl: "ours",
    cell: "interrupt",
    config: { interruptGrace: 100 }
  },
  {
    workload: 5,
    label: `${LABEL.oursThreads}, interruptGrace 1 s (default)`,
    how: "`Fiber.interrupt`",
    impl: "ours",
    cell: "interrupt",
    ...THREADS
  },
  {
    workload: 5,
    label: `${LABEL.oursThreads}, interruptGrace 100 ms`,
    how: "`Fiber.interrupt`",
    impl: "ours",
    cell: "interrupt",
    family: "thread",
    config: { workerType: "thread", interruptGrace: 100 }
  },
  { workload: 5, label: LABEL.python, how: "", impl: "python", cell: "interrupt", na: "cannot cancel a running task" },
  { workload: 5, label: LABEL.piscina, how: "`AbortSignal`", impl: "piscina", cell: "interrupt" },
  {
    workload: 5,
    label: LABEL.workerpool,
    how: "`promise.cancel()` (workerTerminateTimeout 1 s, the default)",
    impl: "workerpool",
    cell: "interrupt"
  },
  { workload: 5, label: LABEL.tinypool, how: "`AbortSignal`", impl: "tinypool", cell: "interrupt" },
  {
    workload: 5,
    label: LABEL.rpc,
    how: "`Fiber.interrupt` of the caller: the busy child is not stopped",
    impl: "effect-rpc",
    cell: "interrupt"
  },
  // 6. memory
  {
    workload: 6,
    label: LABEL.floor,
    how: "bench/floorChild.ts",
    impl: "floor",
    cell: "idleRss",
    reference: true,
    config: { runs: MEMORY_RUNS }
  },
  {
    workload: 6,
    label: LABEL.floorEffect,
    how: "bench/floorEffectChild.ts",
    impl: "floor",
    cell: "idleRss",
    config: { runs: MEMORY_RUNS, floorImports: "effect" }
  },
  {
    workload: 6,
    label: LABEL.threadFloor,
    how: "bench/threadFloorChild.js",
    cell: "idleRss",
    reference: true,
    ...THREAD_FLOOR,
    config: { runs: 1 },
    repeat: MEMORY_RUNS
  },
  {
    workload: 6,
    label: LABEL.threadFloorEffect,
    how: "bench/threadFloorEffectChild.js",
    cell: "idleRss",
    ...THREAD_FLOOR,
    config: { runs: 1, floorImports: "effect" },
    repeat: MEMORY_RUNS
  },
  {
    workload: 6,
    label: LABEL.threadFloorEffectCached,
    how: "bench/threadFloorEffectCachedChild.js",
    cell: "idleRss",
    ...THREAD_FLOOR,
    config: { runs: 1, floorImports: "effect-cached" },
    repeat: MEMORY_RUNS
  },
  { workload: 6, label: LABEL.ours, how: "", impl: "ours", cell: "idleRss", config: { runs: MEMORY_RUNS } },
  {
    workload: 6,
    label: LABEL.oursThreads,
    how: "",
    impl: "ours",
    cell: "idleRss",
    family: "thread",
    config: { runs: 1, workerType: "thread" },
    repeat: MEMORY_RUNS
  },
  {
    workload: 6,
    label: LABEL.python,
    how: "RSS counts pages shared copy-on-write with the parent",
    impl: "python",
    cell: "idleRss",
    config: { runs: MEMORY_RUNS }
  },
  {
    workload: 6,
    label: LABEL.piscina,
    how: "",
    impl: "piscina",
    cell: "idleRss",
    // threads: one run per process, as the thread floor's (a second run in the same process grew it 9-15 MB, not 23-25)
    config: { runs: 1 },
    repeat: MEMORY_RUNS
  },
  { workload: 6, label: LABEL.workerpool, how: "", impl: "workerpool", cell: "idleRss", config: { runs: MEMORY_RUNS } },
  { workload: 6, label: LABEL.tinypool, how: "", impl: "tinypool", cell: "idleRss", config: { runs: MEMORY_RUNS } },
  { workload: 6, label: LABEL.rpc, how: "", impl: "effect-rpc", cell: "idleRss", config: { runs: MEMORY_RUNS } },
  ...streamSizes.flatMap(
    (n): Array<CellSpec> => [
      {
        workload: 6,
        label: `${LABEL.ours}: mapStream over ${n.toLocaleString("en")} inputs`,
        how: "parent RSS, sampled every 10 ms",
        impl: "ours",
        cell: "streamRss",
        config: { streamInputs: n, runs: 1 },
        repeat: MEMORY_RUNS
      },
      {
        workload: 6,
        label: `${LABEL.oursThreads}: mapStream over ${n.toLocaleString("en")} inputs`,
        how: "parent RSS, sampled every 10 ms: the threads' heaps are in it",
        impl: "ours",
        cell: "streamRss",
        family: "thread",
        config: { streamInputs: n, runs: 1, workerType: "thread" },
        repeat: MEMORY_RUNS
      },
      {
        workload: 6,
        label: `no pool: the same stream of ${n.toLocaleString("en")} squared in the parent`,
        how: "`Stream.fromIterable` + `Stream.map`, same consumer",
        impl: "ours",
        cell: "streamRss",
        config: { streamInputs: n, runs: 1, inProcess: true },
        repeat: MEMORY_RUNS
      },
      {
        workload: 6,
        label: `${LABEL.ours}: mapStream over ${n.toLocaleString("en")} inputs, the parent run with \`node --max-semi-space-size=16\``,
        how: "V8's young generation held to 32 MB, as large as the no-pool run's",
        impl: "ours",
        cell: "streamRss",
        config: { streamInputs: n, runs: 1 },
        repeat: MEMORY_RUNS,
        nodeFlags: ["--max-semi-space-size=16"]
      }
    ]
  ),
  // 7. bytes
  {
    workload: 7,
    label: LABEL.floor,
    how: 'bench/peers/floorEchoChild.ts, `serialization: "advanced"`: the array sent back as it came',
    impl: "floor",
    cell: "bytes",
    reference: true
  },
  {
    workload: 7,
    label: LABEL.threadFloor,
    how: "`postMessage` each way (a structured clone, no transfer)",
    cell: "bytes",
    reference: true,
    ...THREAD_FLOOR
  },
  {
    workload: 7,
    label: `${LABEL.ours}, serialization "json"`,
    how: "base64 text inside JSON",
    impl: "ours",
    cell: "bytes",
    config: { channel: "json" }
  },
  {
    workload: 7,
    label: `${LABEL.ours}, serialization "advanced" as before (values as JSON)`,
    how: '`"advanced"` framing with the `"json"` wire form (base64 text), built from the internals',
    impl: "ours",
    cell: "bytes",
    config: { channel: "advanced-json" }
  },
  {
    workload: 7,
    label: `${LABEL.ours}, serialization "advanced"`,
    how: "raw bytes in V8's serialization",
    impl: "ours",
    cell: "bytes",
    config: { channel: "advanced" }
  },
  { workload: 7, label: LABEL.oursThreads, how: "structured clone", impl: "ours", cell: "bytes", ...THREADS }
]

const timeoutMs = (cell: CellWorkload) => Math.min(LIMIT_MS[cell], Number(process.env.BENCH_TIMEOUT_MS ?? Infinity))

// --- running a cell ------------------------------------------------------------

type Outcome = Omit<Isolated.Outcome<CellResult>, "exitMs">

const runCellOnce = (spec: CellSpec, config: CellConfig): Promise<Outcome> => {
  const json = JSON.stringify(config)
  const [command, args] =
    spec.impl === "python"
      ? [python, [new URL("peers/python_pool.py", here).pathname, spec.cell, json]]
      : [
          process.execPath,
          [
            "--conditions=effect-process-pool:source",
            "--expose-gc",
            ...(spec.nodeFlags ?? []),
            new URL("cell.ts", here).pathname,
            spec.impl,
            spec.cell,
            json
          ]
        ]
  return Isolated.runGrouped<CellResult>(command, args, { timeoutMs: timeoutMs(spec.cell) })
}

/** Runs a spec's cell (`repeat` times, pooling the samples). */
const runCell = async (spec: CellSpec, config: CellConfig): Promise<Outcome> => {
  const outcomes: Array<Outcome> = []
  for (let i = 0; i < (spec.repeat ?? 1); i++) {
    const outcome = await runCellOnce(spec, config)
    outcomes.push(outcome)
    if (outcome.status !== "ok") break
  }
  const seconds = outcomes.reduce((a, o) => a + o.seconds, 0)
  const leftovers = outcomes.flatMap((o) => o.leftovers)
  const failed = outcomes.find((o) => o.status !== "ok")
  if (failed !== undefined) return { ...failed, seconds, leftovers }
  if (outcomes.length === 1) return outcomes[0]!
  const metrics: Record<string, { median: number; samples: Array<number> }> = {}
  for (const o of outcomes) {
    for (const [key, m] of Object.entries(o.result!.metrics))
      (metrics[key] ??= { median: 0, samples: [] }).samples.push(...m.samples)
  }
  for (const m of Object.values(metrics)) {
    const sorted = [...m.samples].sort((a, b) => a - b)
    const mid = Math.floor(sorted.length / 2)
    m.median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  }
  return { status: "ok", result: { metrics, notes: outcomes[0]!.result!.notes ?? [] }, seconds, leftovers }
}

// --- main ----------------------------------------------------------------------

const main = async () => {
  const started = performance.now()
  const date = new Date().toISOString()
  const loadBefore = NodeOs.loadavg()
  process.stdout.write(`calibrating the CPU-bound task to ~${BURN_TARGET_MS} ms … `)
  const burnLimit = calibrateCountPrimes(BURN_TARGET_MS)
  console.log(`countPrimes(${burnLimit.toLocaleString("en")})`)
  const base: CellConfig = {
    runs,
    workers,
    tinyTasks: QUICK ? 2_000 : 20_000,
    bulkInputs: QUICK ? 100_000 : 1_000_000,
    batch: BATCH,
    cpuTasks: QUICK ? 4 : 16,
    burnLimit,
    spinMs: SPIN_MS,
    streamInputs: streamSizes[1]!,
    bytesSize: BYTES
  }
  const machine: Machine = {
    cpu: cpuModel,
    cores: workers,
    memoryGb: NodeOs.totalmem() / 1024 ** 3,
    node: process.version,
    python: pythonVersion ?? "absent",
    date,
    load: loadBefore,
    runs,
    memoryRuns: MEMORY_RUNS,
    quick: QUICK,
    base,
    versions: {
      effect: version("effect"),
      "@effect/platform-node": version("@effect/platform-node"),
      piscina: version("piscina"),
      workerpool: version("workerpool"),
      tinypool: version("tinypool")
    }
  }
  console.log(
    `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb.toFixed(0)} GB, node ${machine.node}, python ${machine.python}; ` +
      `median of ${runs} run(s) per cell${QUICK ? " (BENCH_QUICK)" : ""}; workloads ${only.join(",")}`
  )
  const cells: Array<Cell> = []
  for (const workload of only) {
    for (const spec of specs.filter((s) => s.workload === workload)) {
      const config: CellConfig = { ...base, ...spec.config }
      const row = {
        workload,
        label: spec.label,
        how: spec.how,
        impl: spec.impl,
        cell: spec.cell,
        reference: spec.reference === true,
        family: spec.family ?? "process",
        config
      }
      if (spec.na !== undefined) {
        cells.push({ ...row, status: "n/a", error: spec.na, seconds: 0, leftovers: [] })
        continue
      }
      if (spec.impl === "python" && pythonVersion === undefined) {
        cells.push({ ...row, status: "skipped", error: "python3 not found", seconds: 0, leftovers: [] })
        continue
      }
      process.stdout.write(`  [${workload}] ${spec.label} … `)
      const outcome = await runCell(spec, config)
      const cell: Cell = { ...row, ...outcome }
      cells.push(cell)
      const figure =
        outcome.status === "ok"
          ? Object.entries(outcome.result!.metrics)
              .map(([k, m]) => `${k} ${m.median.toLocaleString("en", { maximumFractionDigits: 1 })}`)
              .join(", ")
          : `${outcome.status}: ${outcome.error}`
      console.log(
        `${figure} (${outcome.seconds.toFixed(1)} s)${outcome.leftovers.length > 0 ? `\n    LEFT BEHIND (killed now): ${outcome.leftovers.join("\n      ")}` : ""}`
      )
    }
    console.log()
    console.log(
      renderConsole(
        cells.filter((c) => c.workload === workload),
        workload
      )
    )
    console.log()
  }
  const stragglers = await Isolated.stragglers()
  const minutes = (performance.now() - started) / 60_000
  const leftoverTotal = cells.reduce((a, c) => a + c.leftovers.length, 0) + stragglers.length
  const targets = renderTargetsConsole(cells)
  if (targets !== "") console.log(`${targets}\n`)
  console.log(
    `processes left behind by the cells: ${leftoverTotal}; whole run ${minutes.toFixed(1)} min; ` +
      `load average before ${loadBefore.map((l) => l.toFixed(2)).join(", ")}, after ${NodeOs.loadavg()
        .map((l) => l.toFixed(2))
        .join(", ")}`
  )
  const markdown = renderMarkdown(cells, machine, { minutes, leftovers: leftoverTotal, only })
  // a smoke test must not overwrite the results: it writes to the ignored bench/.tmp/
  const out = QUICK ? new URL(".tmp/", here) : here
  NodeFs.mkdirSync(out, { recursive: true })
  NodeFs.writeFileSync(new URL("RESULTS.md", out), markdown)
  NodeFs.writeFileSync(new URL("chart.svg", out), renderChart(cells, machine))
  console.log(`wrote ${QUICK ? "bench/.tmp/" : "bench/"}RESULTS.md and chart.svg`)
}

await main()
