/**
 * The engine's time: what it reads of the clock and every wait it arms, in
 * one interface, so that the engine's tests can drive time and the event
 * loop's turns by hand (`test/internal/fakeClock.ts`), and script the orders
 * of events that hunting flaky tests under load once found by chance.
 *
 * `nextTurn` is the engine's "once what has arrived is read": Node's
 * `setImmediate` runs after the poll phase of the loop's current turn, so the
 * bytes a worker wrote before it are read first.
 *
 * @internal
 */

/** A wait armed with `after`; `cancel` makes sure it never fires. */
export interface Timer {
  readonly cancel: () => void
}

export interface Clock {
  /** milliseconds, monotonic (`performance.now()`) */
  readonly now: () => number
  /** Calls `f` after `ms`. A `weak` wait does not keep the process alive by itself. */
  readonly after: (ms: number, f: () => void, weak?: boolean) => Timer
  /** Calls `f` in the event loop's next turn, after what has arrived in this one is read. */
  readonly nextTurn: (f: () => void) => void
}

/** The clock of the process. */
export const system: Clock = {
  now: () => performance.now(),
  after: (ms, f, weak) => {
    const timeout = setTimeout(f, ms)
    if (weak) timeout.unref()
    return { cancel: () => clearTimeout(timeout) }
  },
  nextTurn: (f) => {
    setImmediate(f)
  }
}
