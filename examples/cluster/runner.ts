/**
 * A runner of the demo cluster: a member of the Effect Cluster (socket
 * transport, PostgreSQL storage) that runs the chunks clients send it on a
 * local pool of `MAX_WORKERS` workers (default: one per core).
 *
 *   DATABASE_URL=postgres://… RUNNER_PORT=34431 DEPLOYMENT=v1 node examples/cluster/runner.ts
 *
 * `WORKER_TYPE` (`process` or `thread`) is its local pool's kind of worker.
 * `ROOT` is its deployment root (default: the working directory): where its
 * copy of the code lives, against which task references resolve.
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Cluster from "effect-process-pool/Cluster"
import { deployment, env, runnerSharding, storage } from "./config.ts"

const maxWorkers = process.env.MAX_WORKERS === undefined ? undefined : Number(process.env.MAX_WORKERS)
const workerType = process.env.WORKER_TYPE === "thread" ? "thread" : "process"

// a supervisor that started us over IPC (the tests, the demo) may die without
// stopping us: leave with it, through the same graceful path as Ctrl-C
process.on("disconnect", () => process.kill(process.pid, "SIGTERM"))

const Ready = Layer.effectDiscard(
  Effect.sync(() => {
    process.send?.({ ready: process.pid })
    console.log(`runner ${process.pid} ready on port ${env("RUNNER_PORT")}`)
  })
)

Cluster.layerRunner({ deployment: deployment(), maxWorkers, workerType, root: env("ROOT", process.cwd()) }).pipe(
  Layer.provideMerge(NodeClusterSocket.layer({ shardingConfig: runnerSharding() })),
  Layer.provide(storage()),
  (runner) => Layer.provide(Ready, runner),
  Layer.launch,
  NodeRuntime.runMain
)
