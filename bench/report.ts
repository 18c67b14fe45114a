/**
 * Rendering the harness's cells: a table per workload (for the console and for
 * bench/RESULTS.md), the issue's targets (bench/targets.ts), and
 * bench/chart.svg, a hand-written grouped bar chart of workloads 1–3
 * normalised to the floor. Pure functions of the cells.
 */
import type { CellConfig, CellResult, CellWorkload } from "./kit.ts"
import { targetsOf } from "./targets.ts"

export type WorkloadNumber = 1 | 2 | 3 | 4 | 5 | 6 | 7

export interface Cell {
  readonly workload: WorkloadNumber
  readonly label: string
  readonly how: string
  readonly impl: string
  readonly cell: CellWorkload
  /** the floor of its family, which the family's "× floor" divide by */
  readonly reference: boolean
  /** whose floor "× floor" divides by: the thread floor's (ours on threads, the thread floor), else the process floor's */
  readonly family: "process" | "thread"
  readonly config: CellConfig
  readonly status: "ok" | "failed" | "timeout" | "skipped" | "n/a"
  readonly error?: string
  readonly result?: CellResult
  readonly seconds: number
  readonly leftovers: ReadonlyArray<string>
}

export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGb: number
  readonly node: string
  readonly python: string
  readonly date: string
  readonly load: ReadonlyArray<number>
  readonly runs: number
  readonly memoryRuns: number
  readonly quick: boolean
  readonly base: CellConfig
  readonly versions: Record<string, string>
}

// --- figures -------------------------------------------------------------------

export const metric = (cell: Cell | undefined, key: string): number | undefined => {
  const m = cell?.status === "ok" ? cell.result?.metrics[key] : undefined
  return m === undefined || !Number.isFinite(m.median) ? undefined : m.median
}

export const num = (n: number, digits = 0) =>
  n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** The cell's figure, or why there is none. */
const figure = (cell: Cell, key: string, digits = 0): string => {
  if (cell.status !== "ok") return cell.status
  const value = metric(cell, key)
  return value === undefined ? "–" : num(value, digits)
}

const ratio = (value: number | undefined, reference: number | undefined): string =>
  value === undefined || reference === undefined || reference === 0 ? "–" : `${num(value / reference, 2)}×`

/** Half the range of the samples, relative to the median: how steady the runs were. */
const spread = (cell: Cell, key: string): string => {
  const m = cell.status === "ok" ? cell.result?.metrics[key] : undefined
  if (m === undefined || m.samples.length < 2 || m.median === 0) return ""
  const half = (Math.max(...m.samples) - Math.min(...m.samples)) / 2
  return `±${num((half / Math.abs(m.median)) * 100)}%`
}

const runsOf = (cell: Cell, key: string): string => {
  const m = cell.status === "ok" ? cell.result?.metrics[key] : undefined
  return m === undefined ? "" : String(m.samples.length)
}

/** What a cell's row says beyond its figures: how it was measured, notes, failures, leftovers. */
const howOf = (cell: Cell): string => {
  const parts = [cell.how, ...(cell.result?.notes ?? [])]
  if (cell.status !== "ok" && cell.error !== undefined) parts.push(firstLine(cell.error))
  if (cell.leftovers.length > 0) parts.push(`**left ${cell.leftovers.length} process(es) behind**`)
  return parts.filter((p) => p !== "").join("; ")
}

const firstLine = (s: string) => {
  const lines = s.split("\n").filter((l) => l.trim() !== "")
  const line = lines.find((l) => /error|timeout|exit/i.test(l)) ?? lines[0] ?? ""
  return line.length > 160 ? `${line.slice(0, 157)}…` : line
}

// --- tables --------------------------------------------------------------------

export interface Table {
  readonly title: string
  readonly header: ReadonlyArray<string>
  /** right-aligned columns */
  readonly numeric: ReadonlyArray<boolean>
  readonly rows: ReadonlyArray<ReadonlyArray<string>>
}

/** The floor a row is compared with: its family's, or the process floor where its family has none. */
const floorOf = (rows: ReadonlyArray<Cell>, cell: Cell): Cell | undefined =>
  rows.find((c) => c.reference && c.family === cell.family) ?? rows.find((c) => c.reference && c.family === "process")

/** `cell`'s figure ÷ its floor's and ÷ piscina's, for the `key` figure. */
const ratios = (rows: ReadonlyArray<Cell>, cell: Cell, key: string): [string, string] => [
  ratio(metric(cell, key), metric(floorOf(rows, cell), key)),
  ratio(
    metric(cell, key),
    metric(
      rows.find((c) => c.impl === "piscina"),
      key
    )
  )
]

export const WORKLOAD_TITLE: Record<WorkloadNumber, (c: CellConfig) => string> = {
  1: (c) => `1. ${num(c.tinyTasks)} tiny tasks submitted at once, chunksize 1 — tasks/s (higher is better)`,
  2: (c) => `2. ${num(c.bulkInputs)} tiny tasks at each one's best batching — tasks/s (higher is better)`,
  3: (c) =>
    `3. ${c.cpuTasks} CPU-bound tasks of ~100 ms (countPrimes(${num(c.burnLimit)})) — speedup over one after another (higher is better)`,
  4: () => "4. Cold start: a new pool to its first result — ms (lower is better)",
  5: (c) =>
    `5. Interrupting a task busy in a synchronous loop (${num(c.spinMs)} ms if left alone) — ms (lower is better)`,
  6: () => "6. Memory — MB (lower is better)",
  7: (c) =>
    `7. Bytes: a ${num(c.bytesSize / 1024 / 1024)} MiB Uint8Array to a worker and back (one task that echoes it) — ms (lower is better)`
}

const tablesOf = (cells: ReadonlyArray<Cell>, workload: WorkloadNumber): Array<Table> => {
  const rows = cells.filter((c) => c.workload === workload)
  if (rows.length === 0) return []
  const config = rows[0]!.config
  const title = WORKLOAD_TITLE[workload](config)
  switch (workload) {
    case 1:
    case 2: {
      return [
        {
          title,
          header: ["implementation", "tasks/s", "× floor", "× piscina", "spread", "runs", "how"],
          numeric: [false, true, true, true, true, true, false],
          rows: rows.map((c) => [
            c.label,
            figure(c, "rate"),
            ...ratios(rows, c, "rate"),
            spread(c, "rate"),
            runsOf(c, "rate"),
            howOf(c)
          ])
        }
      ]
    }
    case 3: {
      return [
        {
          title,
          header: [
            "implementation",
            "pool (ms)",
            "sequential (ms)",
            "speedup",
            "× floor",
            "× piscina",
            "spread",
            "runs",
            "how"
          ],
          numeric: [false, true, true, true, true, true, true, true, false],
          rows: rows.map((c) => [
            c.label,
            figure(c, "ms"),
            figure(c, "sequentialMs"),
            figure(c, "speedup", 2),
            ...ratios(rows, c, "speedup"),
            spread(c, "speedup"),
            runsOf(c, "speedup"),
            howOf(c)
          ])
        }
      ]
    }
    case 4: {
      return [
        {
          title,
          header: ["implementation", "ms", "× floor", "× piscina", "spread", "runs", "how"],
          numeric: [false, true, true, true, true, true, false],
          rows: rows.map((c) => [
            c.label,
            figure(c, "ms"),
            ...ratios(rows, c, "ms"),
            spread(c, "ms"),
            runsOf(c, "ms"),
            howOf(c)
          ])
        }
      ]
    }
    case 5: {
      return [
        {
          title,
          header: [
            "implementation",
            "caller resumes (ms)",
            "× floor",
            "× piscina",
            "next task served (ms)",
            "× floor",
            "× piscina",
            "runs",
            "how"
          ],
          numeric: [false, true, true, true, true, true, true, true, false],
          rows: rows.map((c) => [
            c.label,
            figure(c, "resume"),
            ...ratios(rows, c, "resume"),
            figure(c, "next"),
            ...ratios(rows, c, "next"),
            runsOf(c, "next"),
            howOf(c)
          ])
        }
      ]
    }
    case 6: {
      const idle = rows.filter((c) => c.cell === "idleRss")
      const stream = rows.filter((c) => c.cell === "streamRss")
      const tables: Array<Table> = []
      if (idle.length > 0) {
        tables.push({
          title: "6a. RSS of an idle worker (served one task, then idled 1 s) — MB (lower is better)",
          header: ["implementation", "idle worker RSS (MB)", "× floor", "× piscina", "runs", "how"],
          numeric: [false, true, true, true, true, false],
          rows: idle.map((c) => [
            c.label,
            figure(c, "workerRss", 1),
            ...ratios(idle, c, "workerRss"),
            runsOf(c, "workerRss"),
            howOf(c)
          ])
        })
      }
      if (stream.length > 0) {
        tables.push({
          title:
            "6b. The parent's RSS while effect-process-pool runs mapStream (square, lazy input, chunksize auto), and without a pool — MB",
          header: [
            "run",
            "RSS before (MB)",
            "peak RSS (MB)",
            "RSS growth (MB)",
            "heap peak growth (MB)",
            "V8 young generation at peak (MB)",
            "heap retained after GC (MB)",
            "inputs/s",
            "runs",
            "how"
          ],
          numeric: [false, true, true, true, true, true, true, true, true, false],
          rows: stream.map((c) => [
            c.label,
            figure(c, "baseline", 1),
            figure(c, "peak", 1),
            figure(c, "growth", 1),
            figure(c, "heapPeakGrowth", 1),
            figure(c, "youngPeak", 1),
            figure(c, "heapRetained", 1),
            figure(c, "rate"),
            runsOf(c, "peak"),
            howOf(c)
          ])
        })
      }
      return tables
    }
    case 7: {
      const json = metric(
        rows.find((c) => c.impl === "ours" && c.config.channel === "json"),
        "ms"
      )
      return [
        {
          title,
          header: [
            "implementation",
            "round trip (ms)",
            "× floor",
            'faster than processes, "json"',
            "spread",
            "runs",
            "how"
          ],
          numeric: [false, true, true, true, true, true, false],
          rows: rows.map((c) => [
            c.label,
            figure(c, "ms"),
            ratio(metric(c, "ms"), metric(floorOf(rows, c), "ms")),
            ratio(json, metric(c, "ms")),
            spread(c, "ms"),
            runsOf(c, "ms"),
            howOf(c)
          ])
        }
      ]
    }
  }
}

/** The issue's targets (bench/targets.ts) as a table; `undefined` when no cell of theirs ran. */
const targetsTable = (cells: ReadonlyArray<Cell>): Table | undefined => {
  const targets = targetsOf(cells)
  if (targets.every((t) => t.status === "not measured")) return undefined
  return {
    title: "Targets of issue #19, as ratios of this run's medians",
    header: ["target", "goal", "measured", "status", "from (medians)"],
    numeric: [false, true, true, false, false],
    rows: targets.map((t) => [t.target, t.goal, t.measured, t.status, t.from])
  }
}

export const renderTargetsConsole = (cells: ReadonlyArray<Cell>): string => {
  const table = targetsTable(cells)
  return table === undefined ? "" : consoleTable(table)
}

export const markdownTable = (t: Table): string => {
  const cells = (r: ReadonlyArray<string>) => `| ${r.map((s) => s.replaceAll("|", "\\|")).join(" | ")} |`
  return [
    `### ${t.title}`,
    "",
    cells(t.header),
    `|${t.numeric.map((n) => (n ? " ---: " : " --- ")).join("|")}|`,
    ...t.rows.map(cells)
  ].join("\n")
}

export const consoleTable = (t: Table): string => {
  const all = [t.header, ...t.rows].map((r) => r.map((s) => s.replaceAll("`", "").replaceAll("**", "")))
  const widths = t.header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)))
  const line = (r: ReadonlyArray<string>) =>
    r.map((s, i) => (i === r.length - 1 ? s : t.numeric[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))).join("  ")
  return [
    t.title,
    line(all[0]!),
    widths.map((w, i) => "-".repeat(i === widths.length - 1 ? Math.min(w, 40) : w)).join("  "),
    ...all.slice(1).map(line)
  ].join("\n")
}

export const renderConsole = (cells: ReadonlyArray<Cell>, workload: WorkloadNumber): string =>
  tablesOf(cells, workload).map(consoleTable).join("\n\n")

// --- RESULTS.md ----------------------------------------------------------------

const LEGEND = (m: Machine) => `## What each cell measures

Every pool has ${m.cores} workers (\`os.availableParallelism()\`); every cell runs in a fresh
process of its own (its own process group, with a time limit: a hung peer is killed and its
cell says "timeout"), warms its pool with one untimed run before the timed ones (except cold
start and memory), and closes its pool at the end. Workloads 1 and 2 warm up for at least
1 s (their ~50 ms run repeated, every implementation alike): after one run V8 is still
compiling a pool's hot path, which the thread floor hardly has: tiny tasks on threads
measured 0.46–0.61× the floor in the five runs after one (eight \`npm run bench\` before this
rule); a figure here is the rate once compiled. A figure is the median of the runs shown;
"spread" is half the range of the runs, relative to the median. "× floor" is the figure
divided by the floor's figure measured in the same run: the thread floor's for the rows of
threads (effect-process-pool (threads), the thread floor), the process floor's for the others
(piscina included, as before); "× piscina" divides by piscina's. For tasks/s and speedup
higher is better, for ms and MB lower is better. The targets of issue #19 are computed from
these medians (\`bench/targets.ts\`).

- **The floor** is bare \`child_process.fork\` children and their IPC, no framework
  (\`bench/floorChild.ts\`, \`bench/peers/floorCpuChild.ts\`): "single" = one message per task
  each way, all sent at once, round-robin to ${m.cores} children (workload 1: the definition of the
  workload); "batched" = arrays of ${num(m.base.batch)} inputs per message with at most 4 messages in
  flight per child, each reply releasing the next (workload 2: faster than sending all at once,
  which queues megabytes in the pipes). The CPU-bound tasks are dealt round-robin, all at once.
- **The thread floor** is the same driver over bare \`worker_threads\` and \`postMessage\`
  (\`bench/threadFloorChild.js\`, \`bench/peers/threadFloorCpuChild.ts\`, threads started with
  \`execArgv: []\`): the same messages, "single" and "batched" as above (${num(m.base.batch)} inputs per message was
  the thread floor's best here of 250, 1,000, 5,000 and 20,000, with 4 in flight per thread).
- **effect-process-pool (threads)** is the same code as the process rows with
  \`workerType: "thread"\`; the process rows pass \`workerType: "process"\` (neither reads
  \`EFFECT_PROCESS_POOL_WORKER_TYPE\`).
- **1. Tiny tasks**: square a number; all tasks handed to the pool at once, one per message
  (chunksize 1); tasks/s from the first hand-over to the last result.
- **2. Many tiny tasks**: each at its best batching. Ours: \`map(…, { chunksize: "auto" })\`.
  Python: \`executor.map(chunksize=500)\`. piscina, workerpool, tinypool and Effect RPC have no
  chunking: the inputs are **batched manually**, arrays of ${num(m.base.batch)} inputs per task (the
  slicing and flattening is inside the timing), as for the floor.
- **3. CPU-bound**: ${m.base.cpuTasks} calls of \`countPrimes(limit)\` (trial division,
  \`bench/peers/work.ts\`), the limit calibrated at the start of the run so one call takes ~100 ms
  here. Speedup = sequential / pool, where "sequential" is the same calls one after another in
  the cell's own process right after each pool run (the pool idle), so both times are taken under
  the same load; the median of the per-run speedups. The ideal is ${m.cores}. Python runs the same
  algorithm but is far slower per call, so it calibrates its own limit to ~100 ms and its speedup
  is over its own sequential run.
- **4. Cold start**: from creating the pool to the first result of one tiny task, in a
  process that has already imported the library (the pool's closing is not timed). Floor: a
  bare \`fork\` and its first IPC round trip. "Floor + \`effect\`" is the same bare child made to
  import \`effect/Effect\` and \`effect/Schema\` first, as every task module of ours does: what
  loading \`effect\` costs a process, whichever pool runs it. The thread floors: a bare
  \`new Worker\` and its first round trip, with and without the same imports (each thread is an
  isolate of its own and loads its modules again). Ours starts ${m.cores} workers, the floors one. Python's executor forks (start
  method "fork"), which is why it is cheap. Our task module (bench/tasks.ts) uses deep imports.
- **5. Interruption**: both workers busy in a synchronous loop of ${num(m.base.spinMs)} ms; after 300 ms,
  one task is cancelled by the library's own means. "Caller resumes" = from the cancel call
  until the cancelled caller gets control back (ours: \`Fiber.interrupt\` returns once the task
  really stopped, i.e. its worker was killed after \`interruptGrace\`); "next task served" = from
  the cancel call until a new tiny task's result arrives, which needs a replacement worker
  because the other one is still busy. Floor: \`kill("SIGKILL")\` → the child's 'exit', then a new
  \`fork\` + round trip. Effect RPC: interrupting the caller sends an Interrupt message that a
  child blocked in a loop cannot read, so the child runs on; the next task waits until a worker
  finishes its loop. Python cannot cancel a running task ("n/a"). Thread floor: \`terminate()\`
  → the thread's 'exit', then a new \`Worker\` + round trip. Ours on threads: a thread that does
  not confirm within \`interruptGrace\` is stopped with \`terminate()\` and replaced.
- **6. Memory**: a worker's VmRSS (\`/proc/<pid>/status\`) after it served one task and idled
  1 s, median of ${m.memoryRuns} pools. piscina's workers are threads in the parent process: its row is the
  growth of the parent's RSS with its idle threads, per thread. Python's forked workers share
  pages copy-on-write with the parent, which RSS counts in full. "Floor + \`effect\`" as in 4.
  Ours on threads and the thread floors: the growth of the process's RSS (after a forced GC of
  the main thread) from before the threads start to ${m.cores} threads that each served a task and
  idled 1 s, / ${m.cores}; each of the ${m.memoryRuns} runs in a fresh process (memory freed by an earlier
  run's threads would hide the next run's growth). 6b's thread rows: the parent's RSS holds the
  threads' heaps.
  6b: the parent's RSS sampled every 10 ms while ours runs \`mapStream\` over a lazy range (a
  generator), median of ${m.memoryRuns} fresh processes per size; also the growth of V8's used heap at its
  peak, the size of V8's young generation (its semi-spaces, which V8 grows, up to a limit of its
  own, while objects keep surviving its scavenges), and the heap after a forced GC at the end (what
  the run still holds; garbage not yet collected shows in the peaks only). "No pool" rows run the
  same consumer over the same squares computed in the parent (\`Stream.fromIterable\` +
  \`Stream.map\`): what V8 does with no chunk in flight.
- **7. Bytes**: one task, \`echoBytes\` (\`Schema.Uint8Array\` → \`Schema.Uint8Array\`), carries a
  ${num(m.base.bytesSize / 1024 / 1024)} MiB \`Uint8Array\` of a pattern to a worker and back; ms from \`run\` to its result (the bytes
  are compared afterwards, untimed), one pool, a warm-up round trip first. Processes with
  \`serialization: "json"\` (base64 text in JSON), with \`"advanced"\` (raw bytes in V8's
  serialization), and "\`advanced\` as before": \`"advanced"\` framing with values in the \`"json"\`
  wire form (base64 text), as this library sent them before bytes crossed as bytes, built from its
  internals (\`bench/impls/ours.ts\`); threads (structured clone). Floors: a bare forked child
  with \`serialization: "advanced"\` that sends each message back, and a bare thread that posts it
  back (a copy each way, no transfer).
- Effect RPC: \`RpcClient.layerProtocolWorker({ size: ${m.cores}, concurrency })\` over
  \`NodeWorker.layer(() => fork(child, { serialization: "advanced" }))\`, one RPC per task;
  \`concurrency\` (requests in flight per worker) is 1 (Effect's Pool default: one task per
  worker, like the other pools) unless a row says 4 (the value in Effect's own example).
- The machine may have been busy with other work during the run (load average at the start:
  ${m.load.map((l) => l.toFixed(2)).join(", ")}); compare rows within one run, not across runs.`

export const renderMarkdown = (
  cells: ReadonlyArray<Cell>,
  m: Machine,
  run: { readonly minutes: number; readonly leftovers: number; readonly only: ReadonlyArray<number> }
): string => {
  const workloads = ([1, 2, 3, 4, 5, 6, 7] as const).filter((w) => cells.some((c) => c.workload === w))
  const targets = targetsTable(cells)
  const failures = cells.filter((c) => c.status === "failed" || c.status === "timeout")
  return `# Benchmark results

${m.quick ? "**BENCH_QUICK smoke test: 1 run per cell, smaller inputs — not results.**\n\n" : ""}Produced by \`npm run bench\` (bench/bench.ts) on ${m.date}${
    run.only.length < 7 ? `, workloads ${run.only.join(", ")} only (BENCH_ONLY)` : ""
  }; the whole run took ${run.minutes.toFixed(1)} min.
Processes left behind by the cells: ${run.leftovers}.

| machine | |
| --- | --- |
| CPU | ${m.cpu} |
| cores | ${m.cores} |
| memory | ${m.memoryGb.toFixed(1)} GB |
| Node.js | ${m.node} |
| Python | ${m.python} |
| runs per cell | ${m.runs} (memory: ${m.memoryRuns}) |
| versions | ${Object.entries(m.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ")} |

![workloads 1–3, normalised to the floor](chart.svg)
${targets === undefined ? "" : `\n${markdownTable(targets)}\n`}
${workloads.flatMap((w) => tablesOf(cells, w).map(markdownTable)).join("\n\n")}

${LEGEND(m)}
${
  failures.length === 0
    ? ""
    : `\n## Failures\n\n${failures.map((c) => `- ${c.label}, workload ${c.workload}: ${c.status}\n\n  \`\`\`\n  ${(c.error ?? "").split("\n").join("\n  ")}\n  \`\`\``).join("\n")}\n`
}`
}

// --- chart.svg -----------------------------------------------------------------

const short = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n))

const esc = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")

/** The implementations the chart shows, in order, with their colours; `threads`: the row of threads. */
const SERIES: ReadonlyArray<{
  readonly impl: string
  readonly threads?: boolean
  readonly name: string
  readonly colour: string
}> = [
  { impl: "floor", name: "floor (bare fork + IPC)", colour: "#9e9e9e" },
  { impl: "thread-floor", name: "thread floor (bare worker_threads)", colour: "#5f5f5f" },
  { impl: "ours", name: "effect-process-pool (processes)", colour: "#1f6fd1" },
  { impl: "ours", threads: true, name: "effect-process-pool (threads)", colour: "#17becf" },
  { impl: "python", name: "Python ProcessPoolExecutor", colour: "#e8b923" },
  { impl: "piscina", name: "piscina (threads)", colour: "#2ca02c" },
  { impl: "workerpool", name: "workerpool (process)", colour: "#d62728" },
  { impl: "tinypool", name: "tinypool (child_process)", colour: "#9467bd" },
  { impl: "effect-rpc", name: "Effect RPC pool (concurrency 1)", colour: "#8c564b" }
]

/** Each workload 1–3 as ratios to the floor: tasks/s, tasks/s, speedup. */
const chartValues = (cells: ReadonlyArray<Cell>, workload: 1 | 2 | 3): Array<number | undefined> => {
  const rows = cells.filter((c) => c.workload === workload && c.config.concurrency === undefined)
  const pick = (impl: string, threads = false) =>
    rows.find((c) => c.impl === impl && (c.config.workerType === "thread") === threads)
  const key = workload === 3 ? "speedup" : "rate"
  const floor = metric(pick("floor"), key)
  return SERIES.map(({ impl, threads }) => {
    const v = metric(pick(impl, threads), key)
    return v === undefined || floor === undefined ? undefined : v / floor
  })
}

export const renderChart = (cells: ReadonlyArray<Cell>, m: Machine): string => {
  const groups = ([1, 2, 3] as const).filter((w) => cells.some((c) => c.workload === w))
  const W = 980
  const H = 560
  const left = 64
  const right = 20
  const top = 78
  const plotH = 300
  const bottom = top + plotH
  const values = groups.map((w) => chartValues(cells, w))
  const max = Math.max(1.25, ...values.flat().filter((v): v is number => v !== undefined))
  const step = max > 4 ? 1 : max > 2 ? 0.5 : 0.25
  const yMax = Math.ceil((max * 1.12) / step) * step
  const y = (v: number) => bottom - (v / yMax) * plotH
  const groupW = (W - left - right) / Math.max(groups.length, 1)
  const barW = Math.min(34, (groupW - 30) / SERIES.length)
  const out: Array<string> = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    "<title>effect-process-pool benchmark: workloads 1–3, each implementation ÷ the floor</title>",
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="26" text-anchor="middle" font-size="17" font-weight="bold">effect-process-pool, the floor and peers: workloads 1–3</text>`,
    `<text x="${W / 2}" y="46" text-anchor="middle" font-size="12.5" fill="#333">each bar = the implementation's figure ÷ the floor's (bare fork + IPC) in the same run; higher is better; dashed line = floor</text>`,
    `<text x="${W / 2}" y="63" text-anchor="middle" font-size="11" fill="#666">${esc(`${m.cpu}, ${m.cores} cores, Node ${m.node}, Python ${m.python}, ${m.date.slice(0, 10)}${m.quick ? " — BENCH_QUICK smoke test" : ""}`)}</text>`
  )
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    out.push(
      `<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e4e4e4"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#555">${num(v, 2)}×</text>`
    )
  }
  out.push(
    `<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#333">× floor</text>`
  )
  const subtitle: Record<1 | 2 | 3, readonly [string, string]> = {
    1: ["1. tiny tasks, one per message", `${short(m.base.tinyTasks)} at once; tasks/s`],
    2: ["2. tiny tasks, best batching", `${short(m.base.bulkInputs)} inputs; tasks/s`],
    3: ["3. CPU-bound tasks of ~100 ms", `${m.base.cpuTasks} tasks; speedup over sequential`]
  }
  groups.forEach((w, g) => {
    const x0 = left + g * groupW + (groupW - barW * SERIES.length) / 2
    values[g]!.forEach((v, i) => {
      const x = x0 + i * barW
      const colour = SERIES[i]!.colour
      if (v === undefined) {
        const present = cells.some(
          (c) =>
            c.workload === w &&
            c.impl === SERIES[i]!.impl &&
            (c.config.workerType === "thread") === (SERIES[i]!.threads ?? false)
        )
        out.push(
          `<text x="${x + barW / 2}" y="${bottom - 6}" text-anchor="middle" font-size="9" fill="#999" transform="rotate(-90 ${x + barW / 2} ${bottom - 6})">${present ? "failed" : "not run"}</text>`
        )
        return
      }
      out.push(
        `<rect x="${x + 2}" y="${y(v)}" width="${barW - 4}" height="${bottom - y(v)}" fill="${colour}"><title>${esc(`${SERIES[i]!.name}: ${num(v, 2)}× floor`)}</title></rect>`,
        `<text x="${x + barW / 2}" y="${y(v) - 4}" text-anchor="middle" font-size="9.5" fill="#222">${num(v, 2)}</text>`
      )
    })
    out.push(
      `<text x="${left + g * groupW + groupW / 2}" y="${bottom + 19}" text-anchor="middle" font-size="12.5" font-weight="bold">${esc(subtitle[w][0])}</text>`,
      `<text x="${left + g * groupW + groupW / 2}" y="${bottom + 34}" text-anchor="middle" font-size="11.5" fill="#444">${esc(subtitle[w][1])}</text>`
    )
  })
  out.push(
    `<line x1="${left}" x2="${W - right}" y1="${y(1)}" y2="${y(1)}" stroke="#444" stroke-dasharray="5 4"/>`,
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#888"/>`,
    `<line x1="${left}" x2="${W - right}" y1="${bottom}" y2="${bottom}" stroke="#888"/>`
  )
  const legendY = bottom + 62
  const perRow = 4
  SERIES.forEach((s, i) => {
    const x = left + (i % perRow) * ((W - left - right) / perRow)
    const yy = legendY + Math.floor(i / perRow) * 22
    out.push(
      `<rect x="${x}" y="${yy - 10}" width="12" height="12" fill="${s.colour}"/>`,
      `<text x="${x + 18}" y="${yy}" font-size="12">${esc(s.name)}</text>`
    )
  })
  if (groups.length === 0) {
    out.push(
      `<text x="${W / 2}" y="${top + plotH / 2}" text-anchor="middle" font-size="14" fill="#999">workloads 1–3 were not run (BENCH_ONLY)</text>`
    )
  }
  const footnotes = [
    `Workload 2: piscina, workerpool, tinypool and Effect RPC batched manually (arrays of ${num(m.base.batch)} inputs per task), as is the floor;`,
    'ours uses map(…, { chunksize: "auto" }), Python executor.map(…, chunksize=500).',
    "Workload 3: speedup over the same tasks run one after another in one process, ÷ the floor's speedup (Python: over its own sequential run)."
  ]
  out.push(
    ...footnotes.map(
      (line, i) => `<text x="${left}" y="${H - 44 + i * 15}" font-size="10.5" fill="#555">${esc(line)}</text>`
    ),
    "</svg>",
    ""
  )
  return out.join("\n")
}
