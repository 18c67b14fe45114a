/**
 * The pool's accounting of replaced workers: `crashed` and `restarted` (what
 * `stats` shows), and the two counts that decide them, `toReplace` (workers
 * lost and not replaced yet: the next starts count as restarts) and
 * `recycling` (workers sent their last job whose replacement has not started:
 * it starts at once, whatever the queue holds). Only the transitions here
 * change the record; the engine tells it what happened to a worker.
 *
 * @internal
 */

export interface Replacements {
  /** workers that died unexpectedly */
  crashed: number
  /** workers started to replace one that died, was killed or was recycled */
  restarted: number
  /** workers lost (crashed, killed, retired early) and not replaced yet */
  toReplace: number
  /** workers sent their last job (`maxTasksPerWorker`) whose replacement has not started */
  recycling: number
}

export const make = (): Replacements => ({ crashed: 0, restarted: 0, toReplace: 0, recycling: 0 })

/** A worker was sent its last job: its replacement starts now, while it finishes. */
export const sentLast = (r: Replacements): void => {
  r.toReplace++
  r.recycling++
}

/**
 * A worker is to be replaced before its time: it asked to be (over its memory
 * limit), or a module poisoned it (it is retired).
 */
export const retiredEarly = (r: Replacements): void => {
  r.toReplace++
}

/** How a worker's end looks to the accounting. */
export interface Ended {
  /** it died unexpectedly */
  readonly crashed: boolean
  /** the pool killed it while it took work (an interrupt past its grace), not while it was retiring */
  readonly killedByPool: boolean
  /** it had been sent its last job: its replacement was counted then */
  readonly finishing: boolean
  /** the pool is shutting down: nothing is replaced */
  readonly closed: boolean
}

/** A worker is gone. A retired one was counted when it retired, a finishing one when it was sent its last job. */
export const ended = (r: Replacements, end: Ended): void => {
  if (end.closed) return
  if (end.crashed) r.crashed++
  if ((end.crashed || end.killedByPool) && !end.finishing) r.toReplace++
}

/** A worker starts: it replaces one lost, if any (a restart), and one recycling, if any. */
export const started = (r: Replacements): void => {
  if (r.toReplace > 0) {
    r.toReplace--
    r.restarted++
  }
  if (r.recycling > 0) r.recycling--
}
