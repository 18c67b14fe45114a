/**
 * The main job (`npm start`): count the primes below 5,000,000 in 40 ranges,
 * once sequentially in this process and once on a pool of workers. Both runs
 * drive a live progress bar; the pool's is fed by `asCompleted` (results
 * arrive in completion order). It then prints the counts in input order, the
 * wall times, and the machine's cores and load, which bound the ratio.
 */
import * as NodeOs from "node:os"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Stream } from "effect"
import { ProcessPool } from "effect-process-pool"
import { progress } from "./lib/progress.ts"
import { countPrimes, primesIn, type Range } from "./tasks/primes.ts"

const LIMIT = 5_000_000
const RANGES = 40
const ranges: Array<Range> = Array.from({ length: RANGES }, (_, i) => ({
  from: (i * LIMIT) / RANGES,
  to: ((i + 1) * LIMIT) / RANGES
}))
const workers = NodeOs.availableParallelism()

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`

const program = Effect.gen(function* () {
  yield* Console.log(`Counting the primes below ${LIMIT.toLocaleString("en")} in ${RANGES} ranges`)
  // the 1-minute load average before the job: how busy the other processes keep the cores
  const loadBefore = NodeOs.loadavg()[0]!

  let start = performance.now()
  const sequentialBar = progress("sequential", RANGES)
  const sequential = yield* Effect.forEach(ranges, (range) =>
    Effect.sync(() => primesIn(range)).pipe(
      Effect.tap(() => Effect.sync(sequentialBar.tick)),
      // a range is synchronous: yielding to the event loop after each one lets Ctrl-C in
      Effect.tap(() => Effect.yieldNow)
    )
  ).pipe(Effect.ensuring(Effect.sync(sequentialBar.done)))
  const sequentialMs = performance.now() - start

  // the pool's time includes starting its workers, as a user would see it
  start = performance.now()
  const counts: Array<number> = new Array(RANGES)
  const bar = progress(`pool of ${workers}`, RANGES)
  yield* ProcessPool.asCompleted(countPrimes, ranges).pipe(
    Stream.runForEach(({ exit, index }) =>
      Effect.gen(function* () {
        counts[index] = yield* exit // a failed range fails the program, with its error
        bar.tick()
      })
    ),
    Effect.ensuring(Effect.sync(bar.done)),
    Effect.provide(ProcessPool.layer({ maxWorkers: workers }))
  )
  const poolMs = performance.now() - start

  for (const [i, range] of ranges.entries()) {
    yield* Console.log(`  [${range.from}, ${range.to}): ${counts[i]} primes`)
  }
  const same = counts.every((n, i) => n === sequential[i])
  yield* Console.log(`total: ${counts.reduce((a, b) => a + b, 0)} primes (${same ? "same" : "DIFFERENT"} both ways)`)
  yield* Console.log(`sequential, in this process:      ${seconds(sequentialMs)}`)
  yield* Console.log(
    `pool of ${workers} workers, with start-up: ${seconds(poolMs)} (${(sequentialMs / poolMs).toFixed(2)}x)`
  )
  yield* Console.log(`machine: ${workers} cores, load average ${loadBefore.toFixed(2)} when the job began`)
  // a load of L means other processes kept about L cores busy: a share of the cores the workers did not get
  if (loadBefore >= Math.max(0.5, workers / 4)) {
    yield* Console.log(
      `a busy machine: other processes kept about ${loadBefore.toFixed(1)} of the ${workers} cores busy, and the workers ` +
        `had to share them; on an idle machine the ratio nears ${workers}x, less the workers' start-up`
    )
  }
  if (!same) return yield* Effect.die(new Error("the pool's counts differ from the sequential ones"))
})

NodeRuntime.runMain(program)
