/**
 * A client of the demo cluster: the main job of `examples/primes.ts` —
 * count the primes below 5,000,000 in 40 ranges — with the same
 * `ProcessPool.map` call, on the cluster's runners instead of local workers.
 * Only the layer differs.
 *
 *   DATABASE_URL=postgres://… DEPLOYMENT=v1 node examples/cluster/client.ts
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Layer, Metric } from "effect"
import { ProcessPool } from "effect-process-pool"
import * as Cluster from "effect-process-pool/Cluster"
import { countPrimes, type Range } from "../tasks/primes.ts"
import { deployment, sharding, storage } from "./config.ts"

const LIMIT = 5_000_000
const RANGES = 40
const ranges: Array<Range> = Array.from({ length: RANGES }, (_, i) => ({
  from: (i * LIMIT) / RANGES,
  to: ((i + 1) * LIMIT) / RANGES
}))

// the program is the local one's (only the count of runners it prints is the cluster's)
const program = Effect.gen(function* () {
  const start = performance.now()
  const counts = yield* ProcessPool.map(countPrimes, ranges)
  const ms = performance.now() - start
  const runners = (yield* Metric.value(Cluster.runners)).value
  yield* Console.log(`total: ${counts.reduce((a, b) => a + b, 0)} primes below ${LIMIT.toLocaleString("en")}`)
  yield* Console.log(`on the cluster's ${runners} runners: ${(ms / 1000).toFixed(2)} s`)
})

const ClusterLive = NodeClusterSocket.layer({ clientOnly: true, shardingConfig: sharding() }).pipe(
  Layer.provide(storage())
)

program.pipe(
  Effect.provide(Cluster.layerClient({ deployment: deployment() }).pipe(Layer.provide(ClusterLive))),
  NodeRuntime.runMain
)
