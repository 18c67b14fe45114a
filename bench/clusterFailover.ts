/**
 * Failover when runners die together (issue #18): `runners` runners of one
 * worker each, a map of `marked` tasks over them, and `kills` of them
 * SIGKILLed at once while each runs some of its inputs. Per kill, from the
 * moment of the kill:
 *
 * - lost: when the client declared the last of the victims lost (its Warn
 *   log "a runner is lost");
 * - again: when the work of the last victim ran again on a survivor (for
 *   each victim, the first re-run of an input it had started; the latest
 *   of those);
 * - shards: when the survivors held all 300 shards (the cluster's own
 *   failover, which the client does not wait for).
 *
 * Each repetition kills fresh victims: the killed runners are replaced and
 * the cluster settles before the next.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as PgClient from "@effect/sql-pg/PgClient"
import type * as Context from "effect/Context"
import type { Sharding } from "effect/cluster/Sharding"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { SqlClient } from "effect/sql/SqlClient"
import { ProcessPool } from "effect-process-pool"
import * as Cluster from "effect-process-pool/Cluster"
import * as H from "../scripts/cluster/harness.ts"
import { marked } from "../test/fixtures/cluster/tasks.ts"

const SHARDS = 300
/** Inputs of each map, 100 ms each: long enough that work is left on the survivors after the failover. */
const INPUTS = 100
const TASK_MS = 100
/** A figure not reached by then is reported as missing (NaN): the bench never hangs. */
const GIVE_UP_MS = 60_000

export interface Failover {
  readonly lostMs: number
  readonly againMs: number
  readonly shardsMs: number
}

export interface Scenario {
  readonly runners: number
  readonly kills: number
}

/** Advisory locks held, and by how many sessions (one per runner). */
const locks = (url: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient
    const [row] = yield* sql<{
      n: number
      sessions: number
    }>`SELECT count(*)::int AS n, count(DISTINCT pid)::int AS sessions FROM pg_locks WHERE locktype = 'advisory' AND granted`
    return row ?? { n: 0, sessions: 0 }
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url) })))

const readMarker = (marker: string) =>
  NodeFs.existsSync(marker)
    ? NodeFs.readFileSync(marker, "utf8")
        .trim()
        .split("\n")
        .map((l) => {
          const [i, runner, at] = l.split(" ").map(Number)
          return { i: i!, runner: runner!, at: at! }
        })
    : []

/** `repeats` correlated deaths of `scenario.kills` of `scenario.runners` runners, on the server at `url`. */
export const correlatedDeaths = (
  scenario: Scenario,
  repeats: number,
  spec: H.RunnerSpec,
  sharding: Context.Context<Sharding>
): Effect.Effect<Array<Failover>, Error, Scope.Scope> =>
  Effect.gen(function* () {
    const url = spec.databaseUrl
    const live = yield* Effect.all(
      Array.from({ length: scenario.runners }, () => H.startRunner(spec)),
      { concurrency: "unbounded" }
    )
    const results: Array<Failover> = []
    for (let k = 0; k < repeats; k++) {
      yield* H.settled(url, scenario.runners)
      const marker = NodePath.join(NodeOs.tmpdir(), `epp-bench-correlated-${process.pid}-${k}.log`)
      const victims = live.slice(0, scenario.kills)
      const { lost, layer: logs } = H.lossLog()
      const pool = Cluster.layerClient({ deployment: spec.deployment }).pipe(
        Layer.provide(Layer.succeedContext(sharding)),
        Layer.provide(logs)
      )
      const result = yield* Effect.gen(function* () {
        const start = Date.now()
        while ((yield* ProcessPool.stats).workers < scenario.runners && Date.now() - start < GIVE_UP_MS) {
          yield* Effect.sleep(50)
        }
        const work = Array.from({ length: INPUTS }, (_, i) => ({ i, ms: TASK_MS, marker }))
        const fiber = yield* ProcessPool.map(marked, work, { chunksize: 1 }).pipe(Effect.forkChild)
        while (
          !victims.every((v) => readMarker(marker).filter((l) => l.runner === v.pid).length >= 2) &&
          Date.now() - start < GIVE_UP_MS
        ) {
          yield* Effect.sleep(20)
        }
        const killedAt = Date.now()
        for (const victim of victims) victim.kill()
        let shardsMs = Number.NaN
        while (Number.isNaN(shardsMs) && Date.now() - killedAt < GIVE_UP_MS) {
          const held = yield* Effect.orElseSucceed(locks(url), () => ({ n: 0, sessions: 0 }))
          if (held.n === SHARDS && held.sessions === scenario.runners - scenario.kills) shardsMs = Date.now() - killedAt
          else yield* Effect.sleep(100)
        }
        yield* Fiber.join(fiber)
        const lines = readMarker(marker)
        const again = victims.map((victim) => {
          const started = new Set(lines.filter((l) => l.runner === victim.pid && l.at <= killedAt).map((l) => l.i))
          const rerun = lines.filter((l) => l.at > killedAt && l.runner !== victim.pid && started.has(l.i))
          return Math.min(...rerun.map((l) => l.at)) - killedAt
        })
        const lostAt = victims.map((victim) => (lost.get(`127.0.0.1:${victim.port}`) ?? Number.NaN) - killedAt)
        return { lostMs: Math.max(...lostAt), againMs: Math.max(...again), shardsMs } satisfies Failover
      }).pipe(Effect.provide(pool), Effect.ensuring(Effect.sync(() => NodeFs.rmSync(marker, { force: true }))))
      results.push(result)
      // fresh victims for the next kill
      const replacements = yield* Effect.all(
        victims.map(() => H.startRunner(spec)),
        { concurrency: "unbounded" }
      )
      live.splice(0, scenario.kills)
      live.push(...replacements)
    }
    // the scenario's runners leave before the next scenario starts its own
    yield* Effect.all(
      live.map((r) => r.stop),
      { concurrency: "unbounded", discard: true }
    )
    return results
  })
