/**
 * Effect Cluster's own failover, without this library's client-side watch:
 * how long after a runner's SIGKILL a message to one of its shards is
 * answered (by the survivor, once the cluster has moved the shard). This is
 * the experiment behind docs/cluster-notes.md's "why 38 s": each kill starts a fresh
 * cluster (PostgreSQL, 2 runners, a client-only member), finds an entity id on
 * the victim, kills it, and times a `Hello` to that id.
 *
 *   npm run bench:cluster-native                           runners and client at the `failover` settings
 *   RUNNER_SHARDING='{…}' CLIENT_SHARDING='{…}' npm run bench:cluster-native
 *                                                          `ShardingConfig` fields over `failover`, per side
 *   BENCH_KILLS=4 (default)
 *
 * The study's case: RUNNER_SHARDING='{"runnerHealthCheckInterval":"2 seconds","refreshAssignmentsInterval":"3 seconds","shardLockRefreshInterval":"10 seconds"}'
 * CLIENT_SHARDING='{"shardLockExpiration":"35 seconds","runnerHealthCheckInterval":"60 seconds","refreshAssignmentsInterval":"3 seconds","shardLockRefreshInterval":"10 seconds"}'
 */
import * as Effect from "effect/Effect"
import * as H from "../scripts/cluster/harness.ts"
import { ChunkEntity } from "../src/internal/cluster/protocol.ts"

const KILLS = Number(process.env.BENCH_KILLS ?? 4)
/** A message to the victim's shard not answered by then counts as "over 90 s". */
const ANSWER_TIMEOUT = "90 seconds"
const runnerSharding = process.env.RUNNER_SHARDING ?? "{}"
const clientSharding = JSON.parse(process.env.CLIENT_SHARDING ?? "{}")

const once = (victimIndex: number) =>
  Effect.gen(function* () {
    const server = yield* H.postgres
    const spec = {
      databaseUrl: server.url,
      deployment: "native",
      maxWorkers: 1,
      stdio: "ignore" as const,
      env: { SHARDING_CONFIG: runnerSharding }
    }
    const runners = yield* Effect.all([H.startRunner(spec), H.startRunner(spec)], { concurrency: "unbounded" })
    yield* H.settled(server.url, 2)
    return yield* Effect.gen(function* () {
      const client = yield* ChunkEntity.client
      // an entity id on each runner
      const ids = new Map<number, string>()
      for (let n = 0; ids.size < 2 && n < 1_000; n++) {
        const info = yield* client(`native-${n}`).Hello()
        if (!ids.has(info.pid)) ids.set(info.pid, `native-${n}`)
      }
      const victim = runners[victimIndex]!
      const killedAt = Date.now()
      victim.kill()
      const answer = yield* client(ids.get(victim.pid)!).Hello().pipe(Effect.timeoutOption(ANSWER_TIMEOUT))
      return answer._tag === "Some" ? Date.now() - killedAt : Number.POSITIVE_INFINITY
    }).pipe(Effect.provide(H.clientSharding(server.url, clientSharding)))
  }).pipe(Effect.scoped)

const program = Effect.gen(function* () {
  console.log(`runners: failover + ${runnerSharding}\nclient:  failover + ${JSON.stringify(clientSharding)}`)
  for (let k = 0; k < KILLS; k++) {
    const ms = yield* once(k % 2)
    console.log(`kill ${k + 1} (runner ${k % 2}): answered after ${Number.isFinite(ms) ? `${ms} ms` : "over 90 s"}`)
  }
})

Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
