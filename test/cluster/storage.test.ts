/**
 * The cluster's storage (PostgreSQL) gone for good, as a user sees it
 * (issue #18): a running client's work fails with `RunnerUnavailable` once
 * the runners, which give up their shards without storage, have been
 * unreachable for `runnerTimeout` — never a hang; a new member's layer fails
 * at once, with a typed `SqlError` under `Cluster.withStorageErrors` rather
 * than the defect Effect Cluster's storage layers die with.
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as PgClient from "@effect/sql-pg/PgClient"
import { assert, describe, layer } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Redacted } from "effect"
import { isSqlError } from "effect/sql/SqlError"
import { failover } from "../../examples/cluster/config.ts"
import * as Cluster from "../../src/Cluster.ts"
import { ProcessPool } from "../../src/index.ts"
import * as T from "../fixtures/cluster/tasks.ts"
import { reasonOf } from "../helpers/exits.ts"
import { isAlive, waitGone } from "../helpers/processes.ts"
import { layer as clusterLayer, TestCluster } from "./helpers/cluster.ts"

/** Stops the file's PostgreSQL for good (a fast shutdown), once. */
const stopStorage = Effect.gen(function* () {
  const { server } = yield* TestCluster
  if (isAlive(server.pid)) process.kill(server.pid, "SIGINT")
  yield* Effect.orDie(waitGone([server.pid], 15_000))
})

/** A new client-only member of the cluster, as the README builds it. */
const newMember = (url: string) =>
  NodeClusterSocket.layer({ clientOnly: true, shardingConfig: failover }).pipe(
    Layer.provide(PgClient.layer({ url: Redacted.make(url) }))
  )

layer(clusterLayer({ runners: 2, maxWorkers: 1 }), { excludeTestServices: true, timeout: "90 seconds" })(
  "storage gone",
  (it) => {
    describe("a map running when PostgreSQL stops for good", () => {
      it.effect("fails with RunnerUnavailable once no runner has been reachable for runnerTimeout: no hang", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          const inputs = Array.from({ length: 200 }, (_, i) => ({ i, ms: 200 }))
          const exit = yield* Effect.gen(function* () {
            const fiber = yield* ProcessPool.map(T.nap, inputs, { chunksize: 1 }).pipe(Effect.exit, Effect.forkChild)
            yield* Effect.sleep("1 second")
            const stoppedAt = Date.now()
            yield* stopStorage
            const exit = yield* Fiber.join(fiber)
            // the runners give up their shards ~2 s after losing the storage, are found lost
            // ~1.5 s later, then runnerTimeout (3 s) passes: well within 30 s
            assert.isBelow(Date.now() - stoppedAt, 30_000)
            return exit
          }).pipe(Effect.provide(cluster.client({ runnerTimeout: "3 seconds" })))
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isSuccess(exit)) return
          const error = Cause.squash(exit.cause)
          assert.strictEqual(reasonOf(error)._tag, "RunnerUnavailable")
          assert.match((error as Error).message, /was reachable for 3000 ms/)
        })
      )
    })

    describe("a new client while PostgreSQL is gone", () => {
      it.effect("fails to build at once with a typed SqlError under Cluster.withStorageErrors", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          yield* stopStorage
          const client = Cluster.layerClient({ deployment: "test" }).pipe(
            Layer.provide(Cluster.withStorageErrors(newMember(cluster.server.url)))
          )
          const start = Date.now()
          const exit = yield* Effect.exit(Effect.provide(ProcessPool.stats, client))
          assert.isBelow(Date.now() - start, 10_000)
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isSuccess(exit)) return
          // a typed failure, not a defect: Effect.catchTag("SqlError", …) and Layer retries handle it
          const failure = exit.cause.reasons.find(Cause.isFailReason)
          assert.isDefined(failure, Cause.pretty(exit.cause))
          assert.isTrue(isSqlError(failure!.error))
          const error = failure!.error as { reason: { _tag: string; isRetryable: boolean }; message: string }
          assert.strictEqual(error.reason._tag, "ConnectionError")
          assert.isTrue(error.reason.isRetryable)
          assert.match(error.message, /^The cluster's storage could not be used while this member joined the cluster: /)
          assert.match(error.message, /ECONNREFUSED/)
        })
      )

      it.effect("without it, Effect Cluster's storage layer dies with the SqlError as a defect", () =>
        Effect.gen(function* () {
          const cluster = yield* TestCluster
          yield* stopStorage
          const client = Cluster.layerClient({ deployment: "test" }).pipe(Layer.provide(newMember(cluster.server.url)))
          const exit = yield* Effect.exit(Effect.provide(ProcessPool.stats, client))
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isSuccess(exit)) return
          const defect = exit.cause.reasons.find(Cause.isDieReason)
          assert.isDefined(defect, Cause.pretty(exit.cause))
          assert.isTrue(isSqlError(defect!.defect))
        })
      )
    })
  }
)
