/**
 * The pool's scheduling policies as pure functions of plain figures: how many
 * jobs a worker may hold, which worker gets the next one, which worker an idle
 * one steals from, how many workers are wanted, how long a failed start waits.
 * The engine applies them; test/internal/policy.test.ts checks them without a
 * process (compare piscina's balancer, `(task, workers) => choice`).
 *
 * @internal
 */

// ---------------------------------------------------------------------------
// tuning, each with its trade-off
// ---------------------------------------------------------------------------

/**
 * How much expected work (by the worker's measured time per job) the parent
 * sends a worker ahead of the job it is running. Enough that a worker running
 * tiny tasks never waits for a round trip through the parent; small enough
 * that work held by one worker while another idles is at most this long.
 */
export const PREFETCH_BUDGET_MS = 2

/**
 * At most this many jobs are held ahead by one worker, whatever their size:
 * it binds only for jobs under 4 µs (the budget binds above). A worker that
 * runs dry sleeps, and the parent's next batch wakes it, which on 2 cores
 * busy with the parent and two workers often takes the parent's core for the
 * batch's length (measured: the parent waited on the run queue 10–45 ms a
 * round of 20,000 tiny tasks). Measured, tiny tasks on 2 threads, 6 runs
 * alternated, medians of rounds 1–5 / 6–15: 128: 260k / 395k tasks/s;
 * 512: 303k / 431k; 1024: 318k / 393k (32, in 3 runs: 220k / 300k).
 * Processes, 5 runs alternated: 512 against 128 the same within noise
 * (170k / 235k).
 */
export const MAX_AHEAD = 512

/**
 * A worker whose jobs take less than `HOLD_AHEAD_BELOW_MS` holds at least
 * `MIN_AHEAD` jobs ahead, so that it does not idle for a round trip through
 * the parent between two jobs: with chunks of ~10 ms (`map`'s "auto"), that
 * round trip, with the parent decoding one chunk and encoding the next, is a
 * noticeable share (measured: workers 30% idle without it). Longer jobs are
 * not held ahead: the share is small, and a job held behind a long one would
 * wait for it. An idle worker takes held jobs back from a busy one (work
 * stealing), so holding ahead does not leave a worker idle while another has
 * work it has not started.
 */
export const MIN_AHEAD = 1
export const HOLD_AHEAD_BELOW_MS = 50

/** Weight of the newest sample in a worker's moving average of time per job. */
export const SERVICE_TIME_ALPHA = 0.3

/**
 * Start failures back off: the n-th consecutive failure delays the next start
 * by `RESTART_BACKOFF_INITIAL_MS * 2^(n-1)`, at most `RESTART_BACKOFF_MAX_MS`.
 * The pool never respawns in a tight loop, and it still retries often enough to
 * recover soon after starts succeed again.
 */
export const RESTART_BACKOFF_INITIAL_MS = 100
export const RESTART_BACKOFF_MAX_MS = 5_000

// ---------------------------------------------------------------------------
// policies
// ---------------------------------------------------------------------------

/** What the policies read of a worker. */
export interface Load {
  /** it takes work: started, not retiring, not sent its last job */
  readonly open: boolean
  /** jobs sent and not answered: the first may be running, the others are held */
  readonly inflight: { readonly length: number }
  /** moving average of its time per job; NaN before its first answer */
  readonly serviceMs: number
  /** jobs sent to it over its life */
  readonly jobsSent: number
  /** it holds a stream job, which holds it until it ends: nothing more is sent to it */
  readonly streaming?: boolean | undefined
}

/** How many jobs a worker may hold in all (running and ahead), by its pace. */
export const window = (serviceMs: number): number => {
  if (Number.isNaN(serviceMs) || serviceMs >= HOLD_AHEAD_BELOW_MS) return 1
  return 1 + Math.max(MIN_AHEAD, Math.min(MAX_AHEAD, Math.floor(PREFETCH_BUDGET_MS / Math.max(serviceMs, 0.001))))
}

/**
 * How many more jobs to send a worker now. A busy worker is topped up only
 * once it has used half of what it holds, so that one write carries many jobs
 * instead of one per answer; `maxTasksPerWorker` caps what it is ever sent.
 */
export const room = (load: Load, maxTasksPerWorker: number | undefined): number => {
  if (!load.open || load.streaming === true) return 0
  const size = window(load.serviceMs)
  if (load.inflight.length > size / 2) return 0
  const free = size - load.inflight.length
  return maxTasksPerWorker === undefined ? free : Math.min(free, maxTasksPerWorker - load.jobsSent)
}

/** The worker with room that holds the fewest jobs, and its room; `undefined` if none has room. */
export const leastLoaded = <L extends Load>(
  loads: Iterable<L>,
  maxTasksPerWorker: number | undefined
): readonly [load: L, room: number] | undefined => {
  let best: L | undefined
  let bestRoom = 0
  for (const load of loads) {
    const free = room(load, maxTasksPerWorker)
    if (free > 0 && (best === undefined || load.inflight.length < best.inflight.length)) {
      best = load
      bestRoom = free
    }
  }
  return best === undefined ? undefined : [best, bestRoom]
}

/** Whether no other worker with room holds fewer jobs than `load` (loads are kept even while filling one). */
export const isLeastLoaded = <L extends Load>(
  load: L,
  loads: Iterable<L>,
  maxTasksPerWorker: number | undefined
): boolean => {
  for (const other of loads) {
    if (other.inflight.length < load.inflight.length && room(other, maxTasksPerWorker) > 0) return false
  }
  return true
}

/**
 * Work stealing: the worker an idle one takes a held job back from, the one
 * that holds the most jobs ahead (at least one besides the one it runs).
 */
export const stealFrom = <L extends Load>(idle: L, loads: Iterable<L>): L | undefined => {
  let donor: L | undefined
  for (const load of loads) {
    if (
      load !== idle &&
      load.inflight.length >= 2 &&
      (donor === undefined || load.inflight.length > donor.inflight.length)
    )
      donor = load
  }
  return donor
}

/** What the engine knows when it decides how many workers to start. */
export interface Demand {
  /** workers that take or will take work: starting, or open */
  readonly live: number
  /** of those, still starting */
  readonly starting: number
  /** jobs waiting: in the queue, or held behind a running one (a new worker steals them) */
  readonly waiting: number
  /** workers sent their last job whose replacement has not started yet */
  readonly recycling: number
  readonly minWorkers: number
  readonly maxWorkers: number
}

/**
 * How many workers to start now: enough for the waiting jobs (a starting
 * worker counts as serving one), a replacement for each worker that is
 * finishing its last job whatever the queue holds (as Python keeps
 * `max_workers` alive), at least `minWorkers`, never over `maxWorkers` live.
 */
export const workersWanted = (demand: Demand): number =>
  Math.max(
    demand.minWorkers - demand.live,
    Math.min(Math.max(demand.waiting - demand.starting, demand.recycling), demand.maxWorkers - demand.live)
  )

/** The delay before the next start after `failures` consecutive failed starts. */
export const backoffMs = (failures: number): number =>
  Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_INITIAL_MS * 2 ** Math.max(0, failures - 1))

/** A worker's moving average of time per job, after one more sample. */
export const serviceTime = (average: number, sample: number): number =>
  Number.isNaN(average) ? sample : average + SERVICE_TIME_ALPHA * (sample - average)
