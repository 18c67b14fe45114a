/**
 * One pull that waits for something to arrive, woken in a microtask of its
 * own: what arrives (a worker's batch, a job's end) comes while the engine
 * routes a worker's message, and the waiting fiber's code must not run inside
 * that (see `StreamJobs.Sink`). The stream consumers of a local pool
 * (`taskStream.ts`) and of a cluster runner (`cluster/runnerStream.ts`) each
 * hold one.
 *
 * @internal
 */
import * as Effect from "effect/Effect"

export interface Wakeup {
  waiter: (() => void) | undefined
}

export const make = (): Wakeup => ({ waiter: undefined })

/** Wakes the waiting pull, if one waits, in a microtask. */
export const wake = (wakeup: Wakeup): void => {
  const waiter = wakeup.waiter
  if (waiter === undefined) return
  wakeup.waiter = undefined
  queueMicrotask(waiter)
}

/** Waits until the next `wake`; interrupted, it stops waiting. */
export const wait = (wakeup: Wakeup): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    wakeup.waiter = () => resume(Effect.void)
    return Effect.sync(() => {
      wakeup.waiter = undefined
    })
  })
