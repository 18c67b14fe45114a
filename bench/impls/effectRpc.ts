/**
 * Effect v4's own worker pool: `RpcClient.layerProtocolWorker({ size, concurrency })`
 * over `NodeWorker.layer` child processes (`child_process.fork`, "advanced"
 * serialization, as in Effect's example), one RPC per task. A call is
 * cancelled by interrupting the calling fiber, which sends an Interrupt
 * message to the child.
 */
import * as ChildProcess from "node:child_process"
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import { Context, Effect, Fiber, Layer, type Scope } from "effect"
import { RpcClient, type RpcClientError } from "effect/rpc"
import {
  batches,
  type CellConfig,
  checkSquares,
  IDLE_MS,
  measureWith,
  metricsOnly,
  range,
  sampleEffect,
  sampleScoped,
  since,
  vmRssMb,
  withSequential
} from "../kit.ts"
import { BenchRpcs } from "../peers/rpcProtocol.ts"
import { SPIN_SETTLE_MS } from "./promisePool.ts"

class Client extends Context.Service<Client, RpcClient.FromGroup<typeof BenchRpcs, RpcClientError.RpcClientError>>()(
  "bench/EffectRpcClient"
) {}

const child = new URL("../peers/rpcChild.ts", import.meta.url)

const clientLayer = (config: CellConfig) =>
  Layer.effect(Client, RpcClient.make(BenchRpcs)).pipe(
    Layer.provide(RpcClient.layerProtocolWorker({ size: config.workers, concurrency: config.concurrency ?? 1 })),
    Layer.provide(NodeWorker.layer(() => ChildProcess.fork(child, [], { serialization: "advanced" })))
  )

/** Builds the pool in the current scope and answers its client. */
const makeClient = (config: CellConfig): Effect.Effect<Client["Service"], unknown, Scope.Scope> =>
  Effect.map(Layer.build(clientLayer(config)), (context) => Context.get(context, Client))

const withClient = <A>(config: CellConfig, f: (client: Client["Service"]) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(makeClient(config), f)) as Effect.Effect<A>)

const tiny = (config: CellConfig) =>
  withClient(config, (client) => {
    const inputs = range(config.tinyTasks)
    return sampleEffect(config.runs, () =>
      Effect.gen(function* () {
        const start = performance.now()
        const results = yield* Effect.forEach(inputs, (n) => client.Square({ n }), { concurrency: "unbounded" })
        const ms = since(start)
        checkSquares(results, inputs.length)
        return { rate: inputs.length / (ms / 1000) }
      })
    )
  })

const bulk = (config: CellConfig) =>
  withClient(config, (client) => {
    const inputs = range(config.bulkInputs)
    return sampleEffect(config.runs, () =>
      Effect.gen(function* () {
        const start = performance.now()
        const parts = yield* Effect.forEach(batches(inputs, config.batch), (xs) => client.Squares({ xs }), {
          concurrency: "unbounded"
        })
        const results = parts.flat()
        const ms = since(start)
        checkSquares(results, inputs.length)
        return { rate: inputs.length / (ms / 1000) }
      })
    )
  })

const cpu = (config: CellConfig) =>
  withClient(config, (client) =>
    sampleEffect(config.runs, () =>
      Effect.gen(function* () {
        const start = performance.now()
        yield* Effect.forEach(range(config.cpuTasks), () => client.CountPrimes({ limit: config.burnLimit }), {
          concurrency: "unbounded"
        })
        return withSequential(since(start), config)
      })
    )
  )

const cold = (config: CellConfig) =>
  sampleScoped(config.runs, () =>
    Effect.gen(function* () {
      const start = performance.now()
      const client = yield* makeClient(config)
      yield* client.Square({ n: 3 })
      return { ms: since(start) }
    })
  )

/**
 * Interrupting the caller sends Interrupt to the child, whose event loop is
 * blocked by the synchronous loop: the child goes on until the loop ends, and
 * the next task waits for a worker to come free.
 */
const interrupt = (config: CellConfig) =>
  sampleScoped(config.runs, () =>
    Effect.gen(function* () {
      const client = yield* makeClient(config)
      yield* Effect.all([client.Spin({ ms: 100 }), client.Spin({ ms: 100 })], { concurrency: 2 })
      const a = yield* Effect.forkChild(client.Spin({ ms: config.spinMs }), { startImmediately: true })
      const b = yield* Effect.forkChild(client.Spin({ ms: config.spinMs }), { startImmediately: true })
      yield* Effect.sleep(SPIN_SETTLE_MS)
      const start = performance.now()
      yield* Fiber.interrupt(a)
      const resume = since(start)
      yield* client.Square({ n: 3 }).pipe(Effect.timeout(config.spinMs + 10_000))
      const next = since(start)
      yield* Fiber.interrupt(b)
      return { resume, next }
    })
  )

const idleRss = (config: CellConfig) =>
  sampleScoped(
    config.runs,
    () =>
      Effect.gen(function* () {
        const client = yield* makeClient(config)
        const pid = yield* client.Pid()
        yield* Effect.sleep(IDLE_MS)
        return { workerRss: vmRssMb(pid) }
      }),
    { warmUp: false }
  )

export const measure = measureWith("Effect RPC", {
  tiny: metricsOnly(tiny),
  bulk: metricsOnly(bulk),
  cpu: metricsOnly(cpu),
  cold: metricsOnly(cold),
  interrupt: metricsOnly(interrupt),
  idleRss: metricsOnly(idleRss)
})
