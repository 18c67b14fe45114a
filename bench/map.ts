/**
 * `map` over 1,000,000 tiny inputs (square a number) at chunksize 1, at
 * `"auto"`, and at fixed sizes, to find the best fixed size and see how close
 * `"auto"` comes to it. Workers are started before timing.
 *
 *   npm run bench:map              (BENCH_RUNS=5 by default; BENCH_INPUTS to change the size)
 */
import * as NodeOs from "node:os"
import { Effect } from "effect"
import { ProcessPool } from "effect-process-pool"
import { square } from "../examples/tasks/heavy.ts"
import { fmt, median, RUNS } from "./measure.ts"

const INPUTS = Number(process.env.BENCH_INPUTS ?? 1_000_000)
const inputs = Array.from({ length: INPUTS }, (_, i) => i)
const workers = NodeOs.availableParallelism()

const measure = (pool: ProcessPool.Service, chunksize: number | "auto", runs: number) =>
  Effect.gen(function* () {
    const samples: Array<number> = []
    for (let i = 0; i < runs; i++) {
      const start = performance.now()
      const results = yield* pool.map(square, inputs, { chunksize })
      const ms = performance.now() - start
      if (results.length !== INPUTS || results[INPUTS - 1] !== (INPUTS - 1) ** 2) throw new Error("wrong results")
      samples.push(INPUTS / (ms / 1000))
    }
    return median(samples)
  })

const program = Effect.gen(function* () {
  const pool = yield* ProcessPool.make({ maxWorkers: workers })
  yield* pool.map(square, inputs.slice(0, 10_000)) // start the workers
  console.log(
    `map over ${fmt(INPUTS)} tiny inputs, ${workers} workers, node ${process.version}, median of ${RUNS} runs`
  )
  const rows: Array<[string, number]> = []
  for (const chunksize of [1, 10, 100, 1_000, 10_000, 100_000, "auto"] as const) {
    // chunksize 1 is slow: fewer runs keep the bench short
    const rate = yield* measure(pool, chunksize, chunksize === 1 ? Math.min(RUNS, 3) : RUNS)
    rows.push([String(chunksize), rate])
    console.log(`  chunksize ${String(chunksize).padStart(7)}: ${fmt(rate).padStart(12)} inputs/s`)
  }
  const fixed = rows.filter(([c]) => c !== "auto")
  const [bestSize, bestRate] = fixed.reduce((a, b) => (b[1] > a[1] ? b : a))
  const auto = rows.find(([c]) => c === "auto")![1]
  console.log(
    `best fixed chunksize: ${bestSize} (${fmt(bestRate)} inputs/s); "auto" reaches ${fmt((auto / bestRate) * 100)}% of it`
  )
})

await Effect.runPromise(Effect.scoped(program))
