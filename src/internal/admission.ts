/**
 * The admission line: jobs that wait for room in the pool under `maxQueue`,
 * the most inputs that may wait in the pool (queued, or held ahead by a
 * worker and not started). A job that does not fit when it is submitted, or
 * that arrives while others wait, takes its place at the end of the line and
 * joins the queue when room frees, in arrival order: back-pressure on the
 * caller instead of piscina's exception when its queue is full, and no
 * drain signal to get wrong.
 *
 * The line is the fourth place a job can be (see `jobs.ts`): `WAITING` here,
 * then `QUEUED`, `SENT`, `ENDED`. Only the functions here change the line
 * and its count; a job leaves it by `next` (admitted: the engine queues it)
 * or by `leave` (ended while waiting: its caller interrupted it, or the pool
 * closed). A job that leaves takes no room. Like the queue, the line drops
 * ended jobs as its head passes them.
 *
 * A job of more inputs than `max` would never fit: it is admitted once the
 * pool holds nothing waiting, so it cannot wait forever. The operations cut
 * their chunks to at most `max` inputs (`Fanout.maxChunk`), so `stats.queued`
 * never exceeds `maxQueue`.
 *
 * @internal
 */
export const WAITING = "waiting"

/**
 * The head of an array consumed from its front (this line, and the queue in
 * `jobs.ts`): the consumed part is cut off once it is over 1,024 entries and
 * more than half of the array, and the new head (0) is answered; else `head`.
 */
export const compacted = (jobs: Array<unknown>, head: number): number => {
  if (head <= 1024 || head * 2 <= jobs.length) return head
  jobs.splice(0, head)
  return 0
}

/** What the line needs of a job. */
export interface Entry {
  /** how many inputs it would add to the queue */
  readonly count: number
  /** the job's place: `WAITING` while it is in the line (the other values are its owner's) */
  state: unknown
}

export interface Line<J extends Entry> {
  /** `maxQueue`: the most inputs waiting in the pool; `Infinity` when unbounded */
  readonly max: number
  readonly jobs: Array<J | undefined>
  head: number
  /** jobs in the line (ended ones that the head has not passed yet excluded) */
  waiting: number
  /** callers to tell that their jobs were admitted, with the next microtask (`notify`) */
  readonly notices: Array<() => void>
}

export const make = <J extends Entry>(max: number): Line<J> => ({ max, jobs: [], head: 0, waiting: 0, notices: [] })

/** Whether `count` more inputs fit in a pool where `queued` inputs wait. */
export const fits = (max: number, queued: number, count: number): boolean => queued === 0 || queued + count <= max

/**
 * Whether a job of `count` inputs may join the queue at once, with `queued`
 * inputs waiting in the pool: nobody waits before it (arrival order), and it fits.
 */
export const admitsNow = <J extends Entry>(line: Line<J>, queued: number, count: number): boolean =>
  line.waiting === 0 && fits(line.max, queued, count)

/** The job takes its place at the end of the line: → `WAITING`. */
export const join = <J extends Entry>(line: Line<J>, job: J): void => {
  job.state = WAITING
  line.jobs.push(job)
  line.waiting++
}

/**
 * The job ends while it waits (the caller then ends it: `Jobs.end`). It
 * takes no room, and the one behind it may now be first.
 */
export const leave = <J extends Entry>(line: Line<J>, job: J): void => {
  if (job.state === WAITING) line.waiting--
}

/**
 * The first job of the line, taken off it, if it fits in a pool where
 * `queued` inputs wait; the caller queues it (its state is the caller's to
 * change). `undefined` when the line is empty or its first job does not fit:
 * nobody behind it goes first.
 */
export const next = <J extends Entry>(line: Line<J>, queued: number): J | undefined => {
  const jobs = line.jobs
  while (line.head < jobs.length) {
    const job = jobs[line.head]
    if (job?.state !== WAITING) {
      // an ended job is dropped as the head passes it: it holds its caller's callback
      jobs[line.head++] = undefined
      continue
    }
    if (!fits(line.max, queued, job.count)) return undefined
    jobs[line.head++] = undefined
    line.waiting--
    line.head = compacted(jobs, line.head)
    return job
  }
  jobs.length = line.head = 0
  return undefined
}

/**
 * Takes every job off the line, oldest first: the pool is closing, and the
 * caller ends each of them (`leave`, then `Jobs.end`).
 */
export const drain = <J extends Entry>(line: Line<J>): Array<J> => {
  const out: Array<J> = []
  for (let i = line.head; i < line.jobs.length; i++) {
    const job = line.jobs[i]
    if (job?.state === WAITING) out.push(job)
  }
  line.jobs.length = line.head = 0
  return out
}

/**
 * Tells a caller that its job was admitted, in a microtask, as a job's end
 * is delivered (`delivery.ts`): the engine never calls out while it changes
 * its own state, and a caller that resumes and submits again finds it
 * consistent. A callback that throws is reported to `onThrow`; the others
 * are still called.
 */
export const notify = <J extends Entry>(line: Line<J>, callback: () => void, onThrow: (error: unknown) => void) => {
  line.notices.push(callback)
  if (line.notices.length > 1) return
  queueMicrotask(() => {
    const notices = line.notices
    try {
      for (let i = 0; i < notices.length; i++) {
        try {
          notices[i]!()
        } catch (error) {
          onThrow(error)
        }
      }
    } finally {
      notices.length = 0
    }
  })
}
