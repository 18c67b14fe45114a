/**
 * effect-process-pool, used as its README shows: a scoped pool, `submit` for
 * tasks handed over at once, `map` with `chunksize`, `mapStream` for a lazy
 * input, and `Fiber.interrupt` to cancel a running task.
 */
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
  Effect.runPromise(
    sampleEffect(config.runs, () =>
      Effect.scoped(
        Effect.gen(function* () {
          const start = performance.now()
          const pool = yield* ProcessPool.make({ maxWorkers: config.workers })
          yield* pool.run(square, 3)
          return { ms: since(start) }
        })
      )
    )
  )

const interrupt = (config: CellConfig) =>
  Effect.runPromise(
    sampleEffect(config.runs, () =>
      Effect.scoped(
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
    )
  )

const idleRss = (config: CellConfig) =>
  Effect.runPromise(
    sampleEffect(
      config.runs,
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            const pool = yield* ProcessPool.make({ maxWorkers: config.workers })
            const [, pid] = yield* pool.run(squarePid, 3)
            yield* Effect.sleep(IDLE_MS)
            return { workerRss: vmRssMb(pid) }
          })
        ),
      { warmUp: false }
    )
  )

/** How often the parent's RSS is sampled during `mapStream`. */
const RSS_SAMPLE_MS = 10

function* naturals(n: number) {
  for (let i = 0; i < n; i++) yield i
}

/** The parent's RSS before and at its peak while `mapStream` squares a lazy range. One run: a fresh cell each time. */
const streamRss = run((config) =>
  Effect.gen(function* () {
    const pool = yield* ProcessPool.make({ maxWorkers: config.workers })
    yield* pool.map(square, range(1_000)) // the workers are up
    globalThis.gc?.()
    const baseline = rssMb()
    const heapBefore = heapMb()
    let peak = baseline
    let heapPeak = heapBefore
    const timer = setInterval(() => {
      peak = Math.max(peak, rssMb())
      heapPeak = Math.max(heapPeak, heapMb())
    }, RSS_SAMPLE_MS)
    const start = performance.now()
    let count = 0
    let last = -1
    yield* pool.mapStream(square, naturals(config.streamInputs), { chunksize: "auto" }).pipe(
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
    const n = config.streamInputs
    if (count !== n || last !== (n - 1) ** 2) throw new Error(`mapStream answered ${count} results, the last ${last}`)
    // what is still held once garbage is collected: retention, as opposed to garbage not yet collected
    globalThis.gc?.()
    const heapAfter = heapMb()
    const one = (x: number): Metric => ({ median: x, samples: [x] })
    return {
      baseline: one(baseline),
      peak: one(peak),
      growth: one(peak - baseline),
      heapPeakGrowth: one(heapPeak - heapBefore),
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
