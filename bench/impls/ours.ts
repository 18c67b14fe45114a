/**
 * effect-process-pool, used as its README shows: a scoped pool, `submit` for
 * tasks handed over at once, `map` with `chunksize`, `mapStream` for a lazy
 * input, and `Fiber.interrupt` to cancel a running task. Each workload runs
 * on processes or threads (`config.workerType`, always passed: a pool that
 * leaves it out reads EFFECT_PROCESS_POOL_WORKER_TYPE).
 *
 * Workload 7 (bytes) also builds, from the pool's internals, a pool whose
 * `"advanced"` framing carries values as JSON (bytes as base64 text), as it
 * did before bytes crossed as bytes: the baseline of the target.
 */
import * as NodeV8 from "node:v8"
import { Effect, Fiber, Result, Scope, Stream } from "effect"
import { ProcessPool } from "effect-process-pool"
import * as Engine from "../../src/internal/engine.ts"
import * as Metrics from "../../src/internal/metrics.ts"
import * as PoolOptions from "../../src/internal/options.ts"
import { makeService } from "../../src/internal/service.ts"
import {
  bytesPayload,
  type CellConfig,
  type CellResult,
  checkBytes,
  checkSquares,
  heapMb,
  IDLE_MS,
  type Metric,
  measureWith,
  metricsOnly,
  range,
  rssMb,
  sampleEffect,
  sampleScoped,
  since,
  vmRssMb,
  withSequential
} from "../kit.ts"
import { burn, echoBytes, napThreadId, spin, square, squarePid } from "../tasks.ts"
import { SPIN_SETTLE_MS } from "./promisePool.ts"

/** The pool of a cell: `config.workers` workers of `config.workerType`, and `extra` options. */
const makePool = (config: CellConfig, extra: ProcessPool.Options = {}) =>
  ProcessPool.make({ maxWorkers: config.workers, workerType: config.workerType ?? "process", ...extra })

/** Waits until `n` workers run a job at once (`stats`, polled), at most `ms`: each has started and taken one. */
const untilBusy = (pool: ProcessPool.Service, n: number, ms: number) =>
  Effect.gen(function* () {
    const start = performance.now()
    while ((yield* pool.stats).busy < n) {
      if (since(start) > ms) return yield* Effect.die(new Error(`fewer than ${n} workers busy after ${ms} ms`))
      yield* Effect.sleep(5)
    }
  })

/**
 * Rounds of `n` short naps until `n` threads have each served one (at most
 * 30 s): on a busy machine one thread may take a round's every task while
 * another is still starting. Naps, not busy loops: a thread compares with the
 * thread floor's, which answered once and ran nothing hot.
 */
const allServed = (pool: ProcessPool.Service, n: number) =>
  Effect.gen(function* () {
    const start = performance.now()
    const served = new Set<number>()
    while (served.size < n) {
      if (since(start) > 30_000) return yield* Effect.die(new Error(`${served.size} of ${n} threads served in 30 s`))
      for (const id of yield* pool.map(
        napThreadId,
        range(n).map(() => 50),
        { chunksize: 1 }
      ))
        served.add(id)
    }
  })

const run =
  <A>(f: (config: CellConfig) => Effect.Effect<A, unknown, Scope.Scope>) =>
  (config: CellConfig) =>
    Effect.runPromise(Effect.scoped(f(config)) as Effect.Effect<A>)

const tiny = run((config) =>
  Effect.gen(function* () {
    const pool = yield* makePool(config)
    const inputs = range(config.tinyTasks)
    return yield* sampleEffect(config.runs, () =>
      Effect.gen(function* () {
        const start = performance.now()
        const fibers = yield* Effect.forEach(inputs, (i) => pool.submit(square, i))
        const results = yield* Fiber.joinAll(fibers)
        const ms = since(start)
        checkSquares(results, inputs.length)
        return { rate: inputs.length / (ms / 1000) }
      })
    )
  })
)

const bulk = run((config) =>
  Effect.gen(function* () {
    const pool = yield* makePool(config)
    const inputs = range(config.bulkInputs)
    return yield* sampleEffect(config.runs, () =>
      Effect.gen(function* () {
        const start = performance.now()
        const results = yield* pool.map(square, inputs, { chunksize: "auto" })
        const ms = since(start)
        checkSquares(results, inputs.length)
        return { rate: inputs.length / (ms / 1000) }
      })
    )
  })
)

const cpu = run((config) =>
  Effect.gen(function* () {
    const pool = yield* makePool(config)
    const inputs = range(config.cpuTasks).map(() => config.burnLimit)
    return yield* sampleEffect(config.runs, () =>
      Effect.gen(function* () {
        const start = performance.now()
        yield* pool.map(burn, inputs, { chunksize: 1 })
        return withSequential(since(start), config)
      })
    )
  })
)

const cold = (config: CellConfig) =>
  sampleScoped(config.runs, () =>
    Effect.gen(function* () {
      const start = performance.now()
      const pool = yield* makePool(config)
      yield* pool.run(square, 3)
      return { ms: since(start) }
    })
  )

const interrupt = (config: CellConfig) =>
  sampleScoped(config.runs, () =>
    Effect.gen(function* () {
      const pool = yield* makePool(
        config,
        config.interruptGrace !== undefined ? { interruptGrace: config.interruptGrace } : {}
      )
      // two tasks of 100 ms start both workers
      yield* pool.map(spin, [100, 100], { chunksize: 1 })
      const a = yield* pool.submit(spin, config.spinMs)
      const b = yield* pool.submit(spin, config.spinMs)
      // on a busy machine a second thread may still be starting after the map (its first worker took both tasks)
      yield* untilBusy(pool, 2, config.spinMs - SPIN_SETTLE_MS - 500)
      yield* Effect.sleep(SPIN_SETTLE_MS)
      // both must be running (not one held ahead by the other's worker)
      const busy = (yield* pool.stats).busy
      if (busy !== 2) return yield* Effect.die(new Error(`expected 2 busy workers, found ${busy}`))
      const start = performance.now()
      yield* Fiber.interrupt(a)
      const resume = since(start)
      yield* pool.run(square, 3)
      const next = since(start)
      yield* Fiber.interrupt(b)
      return { resume, next }
    })
  )

/** A worker process's VmRSS after one task and `IDLE_MS` idle. */
const idleProcessRss = (config: CellConfig) =>
  sampleScoped(
    config.runs,
    () =>
      Effect.gen(function* () {
        const pool = yield* makePool(config)
        const [, pid] = yield* pool.run(squarePid, 3)
        yield* Effect.sleep(IDLE_MS)
        return { workerRss: vmRssMb(pid) }
      }),
    { warmUp: false }
  )

/**
 * Threads share this process: the growth of its RSS from before the pool to
 * its threads idle `IDLE_MS` after a task each, per thread alive (as the
 * thread floor's). One run per process (the harness repeats the cell): memory
 * freed by an earlier run's threads would hide the next run's growth.
 */
const idleThreadRss = async (config: CellConfig): Promise<CellResult> => {
  let threads = 0
  const metrics = await sampleScoped(
    config.runs,
    () =>
      Effect.gen(function* () {
        globalThis.gc?.()
        const before = rssMb()
        const pool = yield* makePool(config)
        yield* allServed(pool, config.workers)
        yield* Effect.sleep(IDLE_MS)
        globalThis.gc?.()
        threads = (yield* pool.stats).workers
        return { workerRss: (rssMb() - before) / threads }
      }),
    { warmUp: false }
  )
  return { metrics, notes: [`the process's RSS growth with the pool's ${threads} idle threads, / ${threads}`] }
}

const idleRss = (config: CellConfig): Promise<CellResult> =>
  config.workerType === "thread" ? idleThreadRss(config) : idleProcessRss(config).then((metrics) => ({ metrics }))

/** How often the parent's RSS is sampled during `mapStream`. */
const RSS_SAMPLE_MS = 10

function* naturals(n: number) {
  for (let i = 0; i < n; i++) yield i
}

/** The size of V8's young generation (semi-spaces), MB: it grows under load, up to a limit V8 sets */
const youngMb = (): number => {
  for (const space of NodeV8.getHeapSpaceStatistics()) {
    if (space.space_name === "new_space") return space.space_size / 1024 / 1024
  }
  return 0
}

/**
 * The parent's RSS before and at its peak while `mapStream` squares a lazy
 * range; with `inProcess`, the same stream squared in this process, no pool:
 * what V8 does with the same consumer when no chunk is in flight. One run: a
 * fresh cell each time.
 */
const streamRss = run((config) =>
  Effect.gen(function* () {
    const n = config.streamInputs
    const squares: Stream.Stream<number, unknown> = config.inProcess
      ? Stream.fromIterable(naturals(n)).pipe(Stream.map((x) => x * x))
      : yield* Effect.gen(function* () {
          const pool = yield* makePool(config)
          yield* pool.map(square, range(1_000)) // the workers are up
          return pool.mapStream(square, naturals(n), { chunksize: "auto" })
        })
    globalThis.gc?.()
    const baseline = rssMb()
    const heapBefore = heapMb()
    let peak = baseline
    let heapPeak = heapBefore
    let youngPeak = youngMb()
    const timer = setInterval(() => {
      peak = Math.max(peak, rssMb())
      heapPeak = Math.max(heapPeak, heapMb())
      youngPeak = Math.max(youngPeak, youngMb())
    }, RSS_SAMPLE_MS)
    const start = performance.now()
    let count = 0
    let last = -1
    yield* squares.pipe(
      Stream.runForEach((x) =>
        Effect.sync(() => {
          count++
          last = x
        })
      ),
      Effect.ensuring(Effect.sync(() => clearInterval(timer)))
    )
    const ms = since(start)
    peak = Math.max(peak, rssMb())
    if (count !== n || last !== (n - 1) ** 2) throw new Error(`the stream answered ${count} results, the last ${last}`)
    // what is still held once garbage is collected: retention, as opposed to garbage not yet collected
    globalThis.gc?.()
    const heapAfter = heapMb()
    const one = (x: number): Metric => ({ median: x, samples: [x] })
    return {
      baseline: one(baseline),
      peak: one(peak),
      growth: one(peak - baseline),
      heapPeakGrowth: one(heapPeak - heapBefore),
      youngPeak: one(youngPeak),
      heapRetained: one(heapAfter - heapBefore),
      rate: one(n / (ms / 1000))
    }
  })
)

/**
 * The pool `"advanced"` was before bytes crossed as bytes: `"advanced"`
 * framing (v8.serialize) with values in the `"json"` wire form (bytes as
 * base64 text), built as `ProcessPool.make` builds a pool (its `makeWith`),
 * with the one option changed. Metrics go to this context; logs are dropped.
 */
const advancedAsBefore = (config: CellConfig) =>
  Effect.gen(function* () {
    const validated = PoolOptions.poolOptions({
      maxWorkers: config.workers,
      workerType: "process",
      serialization: "advanced"
    })
    if (Result.isFailure(validated)) return yield* Effect.die(new Error(validated.failure))
    const options: Engine.EngineOptions = { ...validated.success, wire: "json" }
    const scope = yield* Effect.scope
    const fibers = yield* Scope.fork(scope)
    const context = yield* Effect.context<never>()
    const engine = Engine.make(options, { metrics: Metrics.recorder(context), onLog: () => {} })
    yield* Scope.addFinalizer(
      scope,
      Effect.callback<void>((resume) => engine.shutdown(() => resume(Effect.void)))
    )
    return makeService(engine, () => options.maxWorkers, fibers)
  })

/** Workload 7: one `Uint8Array` of `config.bytesSize` bytes to a worker and back (`echoBytes`), per run. */
const bytes = run((config) =>
  Effect.gen(function* () {
    const pool =
      config.channel === "advanced-json"
        ? yield* advancedAsBefore(config)
        : yield* makePool(config, config.workerType === "thread" ? {} : { serialization: config.channel ?? "json" })
    const payload = bytesPayload(config.bytesSize)
    return yield* sampleEffect(config.runs, () =>
      Effect.gen(function* () {
        const start = performance.now()
        const back = yield* pool.run(echoBytes, payload)
        const ms = since(start)
        checkBytes(back, payload)
        return { ms }
      })
    )
  })
)

export const measure = measureWith("this implementation", {
  tiny: metricsOnly(tiny),
  bulk: metricsOnly(bulk),
  cpu: metricsOnly(cpu),
  cold: metricsOnly(cold),
  interrupt: metricsOnly(interrupt),
  idleRss,
  streamRss: metricsOnly(streamRss),
  bytes: metricsOnly(bytes)
})
