/**
 * Job ids that code in a worker cannot guess. A worker's answers name their
 * job by id, and the parent takes an answer for any job that worker holds: a
 * task that writes well-formed answers to its worker's channel for ids it
 * guesses (a timer it leaves behind, counting up from its own job's id) would
 * otherwise answer for the later callers on that worker (seen: 100 of 100).
 *
 * An id is 32 random bits from the system's CSPRNG above a 21-bit counter:
 * the counter keeps ids unique among the last two million jobs (far more than
 * a worker ever holds at once), the random part makes a blind guess right
 * once in four billion, and the whole stays a safe integer for both framings.
 * What this does not stop, a task that reads the channel or the runtime's
 * memory to learn ids, is a deliberate attack on its own worker (README,
 * "What a task can do to its worker").
 *
 * @internal
 */
import * as NodeCrypto from "node:crypto"

const COUNTER_BITS = 21
const COUNTER_SPAN = 2 ** COUNTER_BITS
/** random words drawn at once: one `getRandomValues` call per this many jobs */
const BATCH = 1024

export interface JobIds {
  readonly random: Uint32Array
  next: number
  counter: number
}

export const make = (): JobIds => ({ random: new Uint32Array(BATCH), next: BATCH, counter: 0 })

/** A fresh id. */
export const next = (ids: JobIds): number => {
  if (ids.next === BATCH) {
    NodeCrypto.getRandomValues(ids.random)
    ids.next = 0
  }
  const high = ids.random[ids.next++]!
  ids.counter = (ids.counter + 1) % COUNTER_SPAN
  return high * COUNTER_SPAN + ids.counter
}
