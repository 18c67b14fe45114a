/**
 * A clock the test moves by hand (the engine's `Clock`, see
 * src/internal/clock.ts): `advance` runs the waits that fall due, in time
 * order, and `turn` runs what was put off to the event loop's next turn. The
 * microtasks the engine queues (its dispatch, its deliveries) run between
 * steps, as they would between the loop's events.
 */
import type { Clock, Timer } from "../../src/internal/clock.ts"

interface Pending {
  readonly at: number
  readonly seq: number
  readonly f: () => void
  cancelled: boolean
}

export interface FakeClock {
  readonly clock: Clock
  /** the time now, in ms */
  readonly now: () => number
  /** Moves time on by `ms`, running each wait that falls due at its time, and the microtasks after each. */
  readonly advance: (ms: number) => Promise<void>
  /** Runs what was put off to the next turn (and what that puts off again, up to `turns` turns). */
  readonly turn: (turns?: number) => Promise<void>
  /** the waits armed and not run or cancelled yet */
  readonly pending: () => number
}

/** Lets the microtasks queued so far run (and those they queue). */
export const microtasks = (): Promise<void> => new Promise((resume) => setImmediate(resume))

export const make = (): FakeClock => {
  let time = 0
  let seq = 0
  let waits: Array<Pending> = []
  let turns: Array<() => void> = []
  const clock: Clock = {
    now: () => time,
    after: (ms, f): Timer => {
      const wait: Pending = { at: time + Math.max(0, ms), seq: seq++, f, cancelled: false }
      waits.push(wait)
      return {
        cancel: () => {
          wait.cancelled = true
        }
      }
    },
    nextTurn: (f) => {
      turns.push(f)
    }
  }
  const advance = async (ms: number): Promise<void> => {
    // what was queued before (a wait armed in a microtask) is armed first
    await microtasks()
    const until = time + ms
    for (;;) {
      waits = waits.filter((w) => !w.cancelled)
      const due = waits.filter((w) => w.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (due === undefined) break
      waits = waits.filter((w) => w !== due)
      time = due.at
      due.f()
      await microtasks()
    }
    time = until
    await microtasks()
  }
  const turn = async (count = 1): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const now = turns
      turns = []
      for (const f of now) f()
      await microtasks()
    }
  }
  return { clock, now: () => time, advance, turn, pending: () => waits.filter((w) => !w.cancelled).length }
}
