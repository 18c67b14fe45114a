/**
 * Real workloads, side by side in one run (issue 19): a real library over the
 * real files of this machine, and a real HTTP server under a real load
 * generator, for each implementation of bench/real/impls.ts (sequential, our
 * pool, piscina; 2 workers each):
 *
 *   1. `marked` over every Markdown file over 1 KB under `node_modules` and
 *      `/usr/share/doc`, on a warm pool          wall time, speedup over sequential
 *   2. the same job cut to 30 files, start-up included: timed inside the
 *      program (pool made → last result, pool shut down) and as a whole new
 *      process (spawn → exit)                     ms
 *   3. an Effect HTTP server rendering a ~13 ms document per request, inline
 *      or on a pool, under autocannon            latency at 1 connection;
 *                                                 req/s and p99 at 64; /health under that load
 *
 * Paths cross, not contents: each worker reads the files it renders (and the
 * sequential job reads its own), as a build tool's workers would; only the
 * HTML comes back to the parent, which a real job needs. Sending the contents
 * would have the parent read every file, one after another, while the workers
 * wait, and would carry the Markdown across the channel as well as the HTML.
 * The HTTP workload sends the document with each request instead: a server's
 * Markdown comes from its requests.
 *
 * Every program (a job, a server, a load generator) runs in a process group
 * of its own with a time limit, and its group is checked for leftovers after
 * it ends (bench/isolated.ts). Before and after the run, a host check (two
 * busy loops against one, bench/host.ts) says how quiet the machine was.
 *
 *   npm run bench:real                     everything, medians of BENCH_RUNS rounds (default 5; HTTP: at most 3)
 *   BENCH_ONLY=1,3 npm run bench:real      a subset
 *   BENCH_QUICK=1 npm run bench:real       smoke test: 1 run, 40 files, 3 s of load (writes to bench/.tmp/)
 *   BENCH_HTTP_SECONDS=20 npm run bench:real   longer load phases (default 10 s)
 *
 * Prints the tables and writes bench/REAL-RESULTS.md.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as Host from "./host.ts"
import * as Isolated from "./isolated.ts"
import { RUNS } from "./measure.ts"
import * as Corpus from "./real/corpus.ts"
import { CONNECTIONS, HEALTH_RATE, type HttpConfig, httpRound } from "./real/http.ts"
import { type Impl, implsOf } from "./real/impls.ts"
import type { ColdAnswer, JobConfig, WarmAnswer } from "./real/jobConfig.ts"
import {
  type ColdRow,
  coldTable,
  consoleTable,
  type HttpRow,
  httpTables,
  markdownTable,
  type Row,
  type WarmRow,
  warmTable
} from "./real/report.ts"
import { num, type Table } from "./report.ts"

const QUICK = process.env.BENCH_QUICK === "1"
const runs = QUICK ? 1 : RUNS
const only = (process.env.BENCH_ONLY ?? "1,2,3")
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => n >= 1 && n <= 3)

/** The pool size of every implementation: the machine has 2 cores. */
const WORKERS = 2
/** Workload 1 in a smoke test: this many files, spread over the corpus. */
const QUICK_FILES = 40
/** Workload 3: rounds (a fresh server each), and seconds of each load phase. */
const HTTP_ROUNDS = QUICK ? 1 : Math.min(runs, 3)
const HTTP_SECONDS = QUICK ? 3 : Number(process.env.BENCH_HTTP_SECONDS ?? 10)
const HTTP_WARM_SECONDS = QUICK ? 1 : 3
/** Time limits of one job process. */
const WARM_LIMIT_MS = 900_000
const COLD_LIMIT_MS = 120_000
/** Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN): a job's configuration travels as one. */
const MAX_ARG_BYTES = 128 * 1024 - 1

const here = new URL(".", import.meta.url)
const JOB = new URL("real/job.ts", here).pathname
const NODE_FLAGS = ["--conditions=effect-process-pool:source"]

// --- the jobs (workloads 1 and 2) -------------------------------------------------

const runJob = <A>(kind: string, mode: "warm" | "cold", config: JobConfig) => {
  const json = JSON.stringify(config)
  if (Buffer.byteLength(json) > MAX_ARG_BYTES) {
    throw new Error(`the job's configuration is ${Buffer.byteLength(json)} bytes, over Linux's limit for one argument`)
  }
  return Isolated.runGrouped<A>(process.execPath, [...NODE_FLAGS, JOB, kind, mode, json], {
    timeoutMs: mode === "warm" ? WARM_LIMIT_MS : COLD_LIMIT_MS
  })
}

/** Every implementation's HTML must be the same: a pool that lost or garbled a file would show here. */
const checkChars = (label: string, chars: number, expected: { value?: number }) => {
  if (expected.value === undefined) expected.value = chars
  else if (chars !== expected.value)
    throw new Error(`${label} rendered ${chars} characters of HTML, others ${expected.value}`)
}

/** What one implementation's program came to in one round. */
interface Sample<A> {
  readonly value?: A
  readonly error?: string
  readonly leftovers: number
  /** the figure, for the console */
  readonly show?: string
}

/**
 * Runs every implementation once per round, one after the other, `rounds`
 * times (after one untimed round with `untimedFirst`): a drift in the
 * machine's speed falls on all of them alike, and ratios are taken round by
 * round.
 */
const inRounds = async <A>(
  workload: 1 | 2 | 3,
  rounds: number,
  untimedFirst: boolean,
  measure: (impl: Impl) => Promise<Sample<A>>
): Promise<Array<Row<A>>> => {
  const rows = implsOf(workload).map((impl) => ({
    impl,
    rounds: [] as Array<A | undefined>,
    errors: new Set<string>(),
    leftovers: 0
  }))
  for (let round = untimedFirst ? -1 : 0; round < rounds; round++) {
    console.log(`  [${workload}] ${round < 0 ? "untimed round" : `round ${round + 1}/${rounds}`}`)
    for (const row of rows) {
      process.stdout.write(`      ${row.impl.label} … `)
      const sample = await measure(row.impl)
      row.leftovers += sample.leftovers
      if (sample.error !== undefined) row.errors.add(sample.error)
      if (round >= 0) row.rounds.push(sample.value)
      console.log(sample.error ?? sample.show ?? "")
    }
  }
  // a failure that repeats in every round says the same thing: once is enough
  return rows.map((row) => ({ ...row, errors: [...row.errors] }))
}

/** A job's outcome as a sample, its HTML checked against the other implementations'. */
const jobSample = <A, B>(
  impl: Impl,
  outcome: Isolated.Outcome<A>,
  expected: { value?: number },
  read: (
    answer: A,
    outcome: Isolated.Outcome<A>
  ) => { readonly value: B; readonly chars: number; readonly show: string }
): Sample<B> => {
  const leftovers = outcome.leftovers.length
  if (outcome.status !== "ok") return { error: `${outcome.status}: ${outcome.error}`, leftovers }
  const { value, chars, show } = read(outcome.result!, outcome)
  checkChars(impl.label, chars, expected)
  return { value, leftovers, show }
}

/**
 * Workload 1: in each round, each implementation's job is a new process that
 * makes its pool, runs the whole job once untimed, then once timed.
 */
const warmJob = (paths: ReadonlyArray<string>): Promise<Array<WarmRow>> => {
  const expected: { value?: number } = {}
  return inRounds(1, runs, false, async (impl) =>
    jobSample(
      impl,
      await runJob<WarmAnswer>(impl.kind, "warm", { paths, workers: WORKERS, runs: 1, poolOptions: impl.poolOptions }),
      expected,
      (answer) => ({ value: answer.ms[0]!, chars: answer.chars, show: `${num(answer.ms[0]!)} ms` })
    )
  )
}

/**
 * Workload 2: each run a new process, after one untimed round (the page
 * cache, Node's compile cache).
 */
const coldJob = (paths: ReadonlyArray<string>): Promise<Array<ColdRow>> => {
  const expected: { value?: number } = {}
  return inRounds(2, runs, true, async (impl) =>
    jobSample(
      impl,
      await runJob<ColdAnswer>(impl.kind, "cold", { paths, workers: WORKERS, runs: 1, poolOptions: impl.poolOptions }),
      expected,
      (answer, outcome) => ({
        value: { inProgramMs: answer.ms, wholeMs: outcome.exitMs },
        chars: answer.chars,
        show: `${num(answer.ms)} ms in the program, ${num(outcome.exitMs)} ms the whole process`
      })
    )
  )
}

// --- the server (workload 3) ---------------------------------------------------------

const http = (config: HttpConfig): Promise<Array<HttpRow>> =>
  inRounds(3, HTTP_ROUNDS, false, async (impl) => {
    const { round: r, error, leftovers } = await httpRound(impl, config)
    if (r === undefined) return { error: error ?? "failed", leftovers: leftovers.length }
    return {
      value: r,
      leftovers: leftovers.length,
      show:
        `1 conn ${num(r.one.latency.mean, 2)} ms; ${CONNECTIONS} conns ${num(r.many.requests.average, 1)} req/s, ` +
        `p99 ${num(r.many.latency.p99)} ms; /health p99 ${num(r.health.latency.p99)} ms (${r.health.latency.totalCount} probes); ` +
        `stopped (${r.stop}) in ${num(r.stopMs)} ms`
    }
  })

// --- the file -------------------------------------------------------------------------

const commit = (): string => {
  const git = (args: Array<string>) =>
    NodeChildProcess.spawnSync("git", args, { encoding: "utf8", cwd: here.pathname }).stdout?.trim() ?? ""
  const head = git(["rev-parse", "--short", "HEAD"])
  return head === ""
    ? "unknown"
    : `${head}${git(["status", "--porcelain"]) === "" ? "" : " (with changes not committed)"}`
}

const mb = (bytes: number) => `${num(bytes / 1024 / 1024, 1)} MB`
const kb = (bytes: number) => `${num(bytes / 1024, 1)} KB`

const hostLine = (q: Host.Quietness | undefined, when: string): string =>
  q === undefined
    ? `- Host check ${when}: skipped.`
    : `- Host check ${when}: one busy loop alone took ${num(q.alone.wallMs)} ms of wall for ${num(q.alone.cpuMs)} ms of CPU; ` +
      `two at once took ${q.pair.map((x) => num(x)).join(" and ")} ms: the slower ${num(q.ratio, 2)}× the one alone ` +
      `(about 1 on two free cores, about 2 when one core is taken): **${q.quiet ? "quiet" : "busy"}** ` +
      `(quiet: wall ≤ ${Host.QUIET_WALL_PER_CPU}× CPU alone, and the pair ≤ ${Host.QUIET_PAIR_RATIO}× the one).`

const main = async () => {
  const started = performance.now()
  const date = new Date().toISOString()
  const loadBefore = NodeOs.loadavg()
  const hostBefore = QUICK ? undefined : await Host.quietness()
  if (hostBefore !== undefined) console.log(hostLine(hostBefore, "before").slice(2))

  const corpus = Corpus.findMarkdown()
  const files = QUICK ? Corpus.spread(corpus, QUICK_FILES) : corpus
  const small = Corpus.spread(corpus, Corpus.SMALL_JOB_FILES)
  const bytes = (fs: ReadonlyArray<Corpus.MarkdownFile>) => fs.reduce((n, f) => n + f.bytes, 0)
  const perRoot = Corpus.ROOTS.map((root) => {
    const mine = corpus.filter((f) => f.path.startsWith(`${root}/`))
    return `${mine.length} under \`${root.replace(new URL("../", here).pathname, "")}\` (${mb(bytes(mine))})`
  })
  const sizes = corpus.map((f) => f.bytes).sort((a, b) => a - b)
  const corpusLine =
    `${corpus.length} Markdown files over 1 KB: ${perRoot.join(", ")}; ${mb(bytes(corpus))} in all, ` +
    `from ${kb(sizes[0] ?? 0)} to ${kb(sizes.at(-1) ?? 0)}, median ${kb(sizes[Math.floor(sizes.length / 2)] ?? 0)}` +
    (QUICK ? `; this smoke test renders ${files.length} of them (${mb(bytes(files))})` : "")
  console.log(corpusLine)

  const { renderText } = await import("./real/render.ts")
  const text = Corpus.document(Corpus.DOCUMENT_SOURCE, Corpus.DOCUMENT_REPEAT)
  const doc = only.includes(3) ? Corpus.renderCost(renderText, text) : undefined
  const docLine =
    doc === undefined
      ? ""
      : `${Corpus.DOCUMENT_SOURCE.replace(new URL("../", here).pathname, "")} ${Corpus.DOCUMENT_REPEAT} times (${num(text.length)} characters), ` +
        `rendered by \`marked\` in the harness's process at the start of the run in ${num(doc.fastestMs, 1)} ms at the fastest ` +
        `(median ${num(doc.medianMs, 1)} ms of wall, ${num(doc.cpuMs, 1)} ms of CPU)`
  if (doc !== undefined) console.log(`HTTP document: ${docLine}`)

  const cpu = Host.cpuModel()
  const versions = ["effect", "@effect/platform-node", "marked", "piscina", "autocannon"]
    .map((p) => `${p} ${Host.packageVersion(p)}`)
    .join(", ")
  console.log(
    `${cpu}, ${NodeOs.availableParallelism()} cores, node ${process.version}; ${versions}; ` +
      `${WORKERS} workers; median of ${runs} run(s)${QUICK ? " (BENCH_QUICK)" : ""}; workloads ${only.join(",")}`
  )

  const tables: Array<Table> = []
  const show = (ts: ReadonlyArray<Table>) => {
    for (const t of ts) console.log(`\n${consoleTable(t)}\n`)
    tables.push(...ts)
  }
  let leftovers = 0
  if (only.includes(1)) {
    const rows = await warmJob(files.map((f) => f.path))
    leftovers += rows.reduce((n, r) => n + r.leftovers, 0)
    show([
      warmTable(
        rows,
        `1. \`marked\` over ${files.length} real Markdown files (${mb(bytes(files))}) on a warm pool of ${WORKERS} — ms (lower is better)`
      )
    ])
  }
  if (only.includes(2)) {
    const rows = await coldJob(small.map((f) => f.path))
    leftovers += rows.reduce((n, r) => n + r.leftovers, 0)
    show([
      coldTable(
        rows,
        `2. The same job cut to ${small.length} files (${mb(bytes(small))}), start-up included — ms (lower is better)`
      )
    ])
  }
  if (only.includes(3) && doc !== undefined) {
    const rows = await http({
      workers: WORKERS,
      source: Corpus.DOCUMENT_SOURCE,
      repeat: Corpus.DOCUMENT_REPEAT,
      seconds: HTTP_SECONDS,
      warmSeconds: HTTP_WARM_SECONDS,
      htmlChars: renderText(text).length
    })
    leftovers += rows.reduce((n, r) => n + r.leftovers, 0)
    show(
      httpTables(rows, {
        one: `3a. GET /render (${num(text.length / 1024)} KB of Markdown, ~${num(doc.cpuMs)} ms of \`marked\`) at 1 connection, ${HTTP_SECONDS} s — latency (lower is better)`,
        many: `3b. GET /render at ${CONNECTIONS} connections, ${HTTP_SECONDS} s — throughput (higher is better) and latency`,
        health: `3c. GET /health during 3b, one connection at most ${HEALTH_RATE} requests/s — latency (lower is better)`
      })
    )
  }

  const stragglers = await Isolated.stragglers()
  leftovers += stragglers.length
  const hostAfter = QUICK ? undefined : await Host.quietness()
  if (hostAfter !== undefined) console.log(hostLine(hostAfter, "after").slice(2))
  const minutes = (performance.now() - started) / 60_000
  console.log(`processes left behind: ${leftovers}; whole run ${num(minutes, 1)} min`)

  const markdown = [
    "# Real workloads: effect-process-pool beside piscina",
    "",
    `Written by \`npm run bench:real\` (bench/real.ts), ${date}${QUICK ? ", **BENCH_QUICK smoke test: not figures to quote**" : ""}.`,
    "",
    "## This run",
    "",
    `- Machine: ${cpu}, ${NodeOs.availableParallelism()} cores, ${num(NodeOs.totalmem() / 1024 ** 3)} GB; Node ${process.version}.`,
    `- Versions: ${versions}; effect-process-pool at ${commit()}.`,
    `- Every figure below comes from this one run, on a machine of 2 cores that other people's work may have been sharing while it ran: ` +
      `medians of ${runs} rounds (workload 3: ${HTTP_ROUNDS} rounds of ${HTTP_SECONDS} s per phase) within the run, and every ratio is taken ` +
      "within the run, round by round between programs run one after the other, then the median. " +
      "Figures from another run are not comparable with these; the ratios travel better than the milliseconds.",
    `- Load average (1, 5, 15 min) before: ${loadBefore.map((x) => num(x, 2)).join(", ")}; after: ${NodeOs.loadavg()
      .map((x) => num(x, 2))
      .join(", ")}.`,
    hostLine(hostBefore, "before the run"),
    hostLine(hostAfter, "after the run"),
    `- Processes left behind by the programs of the run: ${leftovers}; the run took ${num(minutes, 1)} min.`,
    "",
    "## What is measured",
    "",
    `- The files: ${corpusLine}. Symbolic links are not followed; compressed files (\`.md.gz\`) are not Markdown. The start-up job takes ${small.length} of them spread evenly over the list sorted by path.`,
    `- Every implementation renders with \`marked\` ${Host.packageVersion("marked")} (its defaults), on ${WORKERS} workers: ours with \`ProcessPool.map\` (default \`chunksize: "auto"\`), ` +
      'the task importing `marked` inside `run` (README, "Lean task modules"); piscina with a `run` per file, `minThreads` = `maxThreads`; ' +
      "the sequential job one file after another in its own process. Each job is a process of its own.",
    "- **Paths cross, not contents**: each worker reads the files it renders and the HTML comes back to the parent (checked: every " +
      "implementation's HTML has the same length). Sending contents would have the parent read every file before a worker starts.",
    `- 1: ${runs} rounds; in each, every implementation in turn is a new process that makes its pool, runs the whole job once untimed ` +
      "(workers up, `marked` loaded, JIT warm, files in the page cache), then once timed. Speedup = the sequential job's wall / the " +
      "implementation's, round by round, then the median.",
    "- 2: each run is a new process (all implementations in turn, round after round, after one untimed round). *In the program*: from " +
      "before the pool is made (sequential: before `marked` is imported) to the last result with the pool shut down. *Whole process*: " +
      "from `spawn` to the process's exit, which it reaches by itself (no `process.exit`), so a pool that leaves a handle open shows here. " +
      "One more row, piscina with a worker file that imports `effect/Effect` and `effect/Schema` before the render " +
      "(bench/real/piscinaEffectWorker.ts), tells what loading `effect` in each thread costs (our task module imports both, as a " +
      "task written with Effect's Schema does) from what the pool costs; piscina's threads have no compile cache, ours have Node's.",
    `- 3: a fresh server per implementation and round (bench/real/server.ts, Effect's \`HttpRouter\` on \`NodeHttpServer\`, 127.0.0.1, ` +
      "request log off), checked once (the HTML's length), warmed up for " +
      `${HTTP_WARM_SECONDS} s at 2 connections, then autocannon ${Host.packageVersion("autocannon")} in a process of its own: ` +
      `${HTTP_SECONDS} s at 1 connection; ${HTTP_SECONDS} s at ${CONNECTIONS} connections, with a second autocannon probing /health on one connection ` +
      `at most ${HEALTH_RATE} requests/s from 1 s after its start to 1 s before its end (latencies of the requests really sent). ` +
      `The document: ${docLine || "(workload 3 not run)"}; it crosses to the worker with each request, and the HTML comes back. ` +
      "autocannon records latencies to the whole millisecond. The server is stopped with SIGTERM (it closes its pool).",
    "- The load generator, the server and its workers share the 2 cores: at 64 connections nothing is idle.",
    "",
    "## Results",
    "",
    ...tables.flatMap((t) => [markdownTable(t), ""])
  ].join("\n")
  const out = QUICK ? new URL(".tmp/", here) : here
  NodeFs.mkdirSync(out, { recursive: true })
  NodeFs.writeFileSync(new URL("REAL-RESULTS.md", out), markdown)
  console.log(`wrote ${QUICK ? "bench/.tmp/" : "bench/"}REAL-RESULTS.md`)
}

// the programs run in process groups of their own, which a Ctrl-C in the terminal does not reach
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    Isolated.killAll()
    process.exit(130)
  })
}

await main()
