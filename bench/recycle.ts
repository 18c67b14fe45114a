/**
 * Recycling: tasks on a pool with `maxTasksPerWorker: 1` (every task costs a
 * worker start), against the rate at which bare children that load `effect`
 * can be started on the same number of slots, side by side in one run. Tasks
 * are tiny, or sleep 100 ms (less than a start takes). A pool that starts
 * each replacement while the old worker runs its last task comes close to that
 * rate; one that waits for the old worker to retire pays a start, a task and a
 * shutdown per task, one after the other.
 *
 * Measured 2026-12-02 (2 cores, quiet), 100 ms tasks: 1 slot 6.3 tasks/s
 * against 6.3 bare starts/s (1.00×), 2 slots 10.4 against 10.7 (0.97×). The
 * same file run against fd5eae7, which started a replacement only after the old
 * worker retired: 3.9 (0.63×) and 7.3 (0.71×).
 *
 *   npm run bench:recycle
 */
import { Effect } from "effect"
import { ProcessPool } from "effect-process-pool"
import { fmt, forkFloor, medianOf } from "./measure.ts"
import { nap } from "./tasks.ts"

const TASKS = 40

/** Tasks per second over `TASKS` tasks that sleep `ms`, each in a fresh worker. */
const pool = (workers: number, ms: number) => () => {
  const start = performance.now()
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* ProcessPool.make({ maxWorkers: workers, maxTasksPerWorker: 1 })
        yield* pool.map(
          nap,
          Array.from({ length: TASKS }, () => ms),
          { chunksize: 1 }
        )
        return TASKS / ((performance.now() - start) / 1000)
      })
    )
  )
}

/**
 * Children started per second: `workers` slots, each starting a bare child
 * that imports `effect/Effect` and `effect/Schema` (what any worker loads),
 * sending it one tiny message and, once it answers, the next child.
 */
const bareStarts = (workers: number) => () =>
  new Promise<number>((resolve) => {
    const start = performance.now()
    let started = 0
    let answered = 0
    const next = () => {
      if (started === TASKS) return
      started++
      const child = forkFloor("json", "effect")
      child.once("message", () => {
        child.kill()
        if (++answered === TASKS) resolve(TASKS / ((performance.now() - start) / 1000))
        else next()
      })
      child.send(3)
    }
    for (let i = 0; i < workers; i++) next()
  })

console.log(`${TASKS} tasks with maxTasksPerWorker: 1 (medians of 3)`)
for (const workers of [1, 2]) {
  const bare = await medianOf(bareStarts(workers), 3)
  console.log(`  ${workers} slot(s): bare children that load effect, started back to back: ${fmt(bare, 1)} starts/s`)
  for (const ms of [0, 100]) {
    const ours = await medianOf(pool(workers, ms), 3)
    console.log(
      `    the pool, tasks of ${String(ms).padStart(3)} ms: ${fmt(ours, 1)} tasks/s (${fmt(ours / bare, 2)}x)`
    )
  }
}
