/**
 * effect-process-pool, used as its README shows: a scoped pool, `submit` for
 * tasks handed over at once, `map` with `chunksize`, `mapStream` for a lazy
 * input, and `Fiber.interrupt` to cancel a running task.
 */
import * as NodeV8 from "node:v8"
import { Effect, Fiber, type Scope, Stream } from "effect"
import { ProcessPool } from "effect-process-pool"
import {
  type CellConfig,
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
import { burn, spin, square, squarePid } from "../tasks.ts"
import { SPIN_SETTLE_MS } from "./promisePool.ts"

const run =
  <A>(f: (config: CellConfig) => Effect.Effect<A, unknown, Scope.Scope>) =>
  (config: CellConfig) =>
    Effect.runPromise(Effect.scoped(f(config)) as Effect.Effect<A>)

const tiny = run((config) =>
  Effect.gen(function* () {
    const pool = yield* ProcessPool.make({ maxWorkers: config.workers })
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
    const pool = yield* ProcessPool.make({ maxWorkers: config.workers })
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
    const pool = yield* ProcessPool.make({ maxWorkers: config.workers })
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
      const pool = yield* ProcessPool.make({ maxWorkers: config.workers })
      yield* pool.run(square, 3)
      return { ms: since(start) }
    })
  )

const interrupt = (config: CellConfig) =>
  sampleScoped(config.runs, () =>
    Effect.gen(function* () {
      const pool = yield* ProcessPool.make({
        maxWorkers: config.workers,
        ...(config.interruptGrace !== undefined ? { interruptGrace: config.interruptGrace } : {})
      })
      // two tasks of 100 ms are spread over both workers: both are up afterwards
      yield* pool.map(spin, [100, 100], { chunksize: 1 })
      const a = yield* pool.submit(spin, config.spinMs)
      const b = yield* pool.submit(spin, config.spinMs)
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

const idleRss = (config: CellConfig) =>
  sampleScoped(
    config.runs,
    () =>
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: config.workers })
        const [, pid] = yield* pool.run(squarePid, 3)
        yield* Effect.sleep(IDLE_MS)
        return { workerRss: vmRssMb(pid) }
      }),
    { warmUp: false }
  )

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
          const pool = yield* ProcessPool.make({ maxWorkers: config.workers })
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

export const measure = measureWith("this implementation", {
  tiny: metricsOnly(tiny),
  bulk: metricsOnly(bulk),
  cpu: metricsOnly(cpu),
  cold: metricsOnly(cold),
  interrupt: metricsOnly(interrupt),
  idleRss: metricsOnly(idleRss),
  streamRss: metricsOnly(streamRss)
})
