/**
 * Job ids: a counter, unique among the last 2^30 jobs (far more than a worker
 * ever holds at once), and small integers, which V8 keeps unboxed and both
 * framings write short: an id travels twice with every task.
 *
 * An id is no secret. A task can learn its own (`JobId` is found by key in its
 * context) and guess the next ones, but it cannot answer for them: a worker
 * process's runtime opens every frame it writes with a key that a task never
 * sees (`P.FirstFrame`), and a thread answers on a port that no task can
 * reach. Random ids came first: 11 more bytes a task each way on both kinds and
 * a boxed number for each; the key is 13 bytes a frame of answers, on
 * processes only, and holds against a task that knows its own id.
 *
 * @internal
 */

/** the largest id: below 2^30, V8's small-integer range on every platform */
const MAX_ID = 2 ** 30 - 1

export interface JobIds {
  counter: number
}

export const make = (): JobIds => ({ counter: 0 })

/** A fresh id. */
export const next = (ids: JobIds): number => (ids.counter = ids.counter === MAX_ID ? 1 : ids.counter + 1)
