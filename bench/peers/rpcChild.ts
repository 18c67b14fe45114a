/**
 * Effect v4's own worker pool: the child process behind `RpcClient.layerProtocolWorker`
 * and `NodeWorker.layer` (as in Effect's RPC-over-worker docs and
 * /work/shared/effect4-examples/worker/child.ts).
 */
// deep imports: the "@effect/platform-node" barrel also loads redis/undici (slower start)
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
import { Effect, Layer } from "effect"
import { RpcServer } from "effect/rpc"
import { BenchRpcs } from "./rpcProtocol.ts"
import { countPrimes, spin, square, squares } from "./work.ts"

const Handlers = BenchRpcs.toLayer({
  Square: ({ n }) => Effect.succeed(square(n)),
  Squares: ({ xs }) => Effect.succeed(squares(xs)),
  CountPrimes: ({ limit }) => Effect.sync(() => countPrimes(limit)),
  Spin: ({ ms }) => Effect.sync(() => spin(ms)),
  Pid: () => Effect.succeed(process.pid)
})

const Main = RpcServer.layer(BenchRpcs).pipe(
  Layer.provide(Handlers),
  Layer.provide(RpcServer.layerProtocolWorkerRunner),
  Layer.provide(NodeWorkerRunner.layer)
)

// NodeWorkerRunner ignores IPC disconnect: without this a SIGKILLed parent would leave us running
process.on("disconnect", () => process.exit(0))

NodeRuntime.runMain(Layer.launch(Main))
