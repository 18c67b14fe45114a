/**
 * Liveness: when the client asks a runner whether it is alive, how long it
 * waits for the answer, when a silent runner is lost, and when a runner
 * gets no new chunk while a question to it is unanswered. Pure functions of
 * the times the membership loop keeps (`membership.ts`), tested without a
 * cluster.
 *
 * Each runner is judged on its own: its question goes out when that runner
 * is due and waits for that runner only, so several runners dying at once
 * are all found lost about `pingTimeout` after their last answer — one
 * dead runner's silence can no longer delay the verdict on another (issue
 * #18: with rounds that waited for every answer and then probed the first
 * dead runner's shards, a second runner killed at the same time was found
 * lost a round later, ~5.3 s after the kill).
 *
 * @internal
 */

/** The two client options liveness depends on, in milliseconds. */
export interface LivenessConfig {
  readonly pingIntervalMs: number
  readonly pingTimeoutMs: number
}

/** What liveness knows of a runner (times are `Date.now()` values). */
export interface Heard {
  /** when it last answered: a `Hello`, or a chunk's reply */
  readonly lastSeen: number
  /** when what the client knows of it (shards, stats) was last refreshed by a `Hello` */
  readonly infoAt: number
  /** when the `Hello` awaiting its answer was sent; `undefined` when none is */
  readonly askedAt: number | undefined
}

/**
 * An idle client (nothing queued or in flight) asks each runner this often
 * rather than every `pingInterval`: nothing would need resending, and
 * `stats` stays this fresh. Measured: an idle client with two runners spent
 * ~20 ms of CPU a second pinging at 500 ms.
 */
export const IDLE_PING_MS = 5_000

/**
 * A busy client refreshes what it knows of each runner (its shards above all)
 * at least this often, even of a runner whose chunks' answers show it alive:
 * a runner that joins takes shards from the others, and their shrinking is
 * how the client finds it.
 */
export const BUSY_REFRESH_MS = 1_000

/**
 * A question goes unanswered at least this share of `pingTimeout` before
 * its runner may be found lost, however long the runner was silent before
 * it was asked (an idle client asks every `IDLE_PING_MS`): a live runner
 * answers a `Hello` in a few milliseconds, two busy loops beside it on two
 * cores included.
 */
export const MIN_ANSWER_SHARE = 0.5

/**
 * A runner whose question has gone unanswered this long, with no other
 * answer from it since, gets no new chunk until it answers or is found lost.
 * When several runners die at once, the first one found lost hands its chunks
 * back while the others are still being asked: without this they would go to
 * a dead runner and be resent once more (a second redelivery of the same
 * chunk, counted against `maxRedeliveries`). Well above a live runner's
 * answer time (a few ms), well below the `pingTimeout - pingInterval` (1 s
 * with the defaults) that a dead runner's question waits before the first
 * loss is declared; a live runner that is slow to answer only keeps its new
 * chunks in the client's queue for that long.
 */
export const SUSPECT_AFTER_MS = 250

/**
 * How often the membership loop looks at its runners while the client has
 * work: a due runner is asked within this of being due, so a busy client's
 * question goes out about `pingInterval` after the runner's last answer
 * rather than up to twice that. An idle client looks every `pingInterval`
 * (its runners are due every `IDLE_PING_MS`): measured, looking every 100 ms
 * cost an idle client ~3 ms of CPU a second, every 500 ms ~1 ms.
 */
export const TICK_MS = 100

/** Whether the runner should be asked now: see `IDLE_PING_MS` and `BUSY_REFRESH_MS`. */
export const isDue = (heard: Heard, now: number, busy: boolean, config: LivenessConfig): boolean => {
  if (heard.askedAt !== undefined) return false // one question at a time
  return busy
    ? now - heard.lastSeen >= config.pingIntervalMs || now - heard.infoAt >= BUSY_REFRESH_MS
    : now - heard.infoAt >= IDLE_PING_MS
}

/**
 * How long a question sent at `askedAt` waits for its answer: until the
 * runner has been silent for `pingTimeout`, and at least
 * `MIN_ANSWER_SHARE × pingTimeout`.
 */
export const answerWaitMs = (lastSeen: number, askedAt: number, config: LivenessConfig): number =>
  Math.max(lastSeen + config.pingTimeoutMs - askedAt, config.pingTimeoutMs * MIN_ANSWER_SHARE)

/** Whether a runner whose question went unanswered is lost: silent for `pingTimeout`. */
export const isLost = (lastSeen: number, now: number, config: LivenessConfig): boolean =>
  now - lastSeen >= config.pingTimeoutMs

/** Whether a runner gets no new chunk for now: see `SUSPECT_AFTER_MS`. */
export const isSuspect = (heard: Heard, now: number): boolean =>
  heard.askedAt !== undefined && heard.lastSeen < heard.askedAt && now - heard.askedAt >= SUSPECT_AFTER_MS
