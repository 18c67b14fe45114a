/**
 * The client's view of the runners: who they are, how to reach each one (its
 * route, see `placement.ts`), and whether it is alive — learned with `Hello`,
 * on the client's own schedule, from what runners say about themselves.
 *
 * Each round (every `pingInterval`):
 *
 * 1. each known runner that is due is sent `Hello` through its route, bounded
 *    by `pingTimeout`: while the client has work, one that has not answered
 *    (a `Hello` or a chunk) within `pingInterval`, and every runner at least
 *    every `BUSY_REFRESH_MS`; while it is idle, every `IDLE_PING_MS`. An
 *    answer refreshes what the client knows (shards, stats) and its route; an
 *    answer from another runner means the route's shard has moved; a runner
 *    asked and silent for longer than `pingTimeout` since its last answer is
 *    marked down (`onDown`), and its chunks go elsewhere.
 * 2. shards that no live runner reports are probed (a few per round, in
 *    parallel, with the same bound): that is how a runner that joined, or
 *    one whose route moved, is found.
 *
 * Why the client watches runners itself rather than wait for the cluster to
 * move a dead runner's shards: that move takes the cluster's own detection
 * (health checks or lock expiry) plus its assignment refresh — 8–38 s in the
 * feasibility study, see docs/cluster-notes.md — and until then every message to
 * those shards waits. The client needs only a live runner with free workers,
 * which it can find in about `pingInterval + pingTimeout`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { within } from "./deadline.ts"
import type { RunnerInfo } from "./protocol.ts"

/**
 * Shards probed per round at most: enough to find a joining runner within a
 * round or two, few enough that a round spent probing a dead runner's shards
 * costs a handful of messages.
 */
const PROBES_PER_ROUND = 4

/**
 * An idle client (nothing queued or in flight) pings each runner this often
 * rather than every `pingInterval`: nothing would need resending, and
 * `stats` stays this fresh. Measured: an idle client with two runners spent
 * ~20 ms of CPU a second pinging at 500 ms.
 */
const IDLE_PING_MS = 5_000

/**
 * A busy client refreshes what it knows of each runner (its shards above all)
 * at least this often, even of a runner whose chunks' answers show it alive:
 * a runner that joins takes shards from the others, and their shrinking is
 * how the client finds it.
 */
const BUSY_REFRESH_MS = 1_000

/** Probe passes per round at most (a pass that finds no new runner ends the round). */
const DISCOVERY_PASSES = 3

/** A runner not heard from for this many `pingTimeout`s (down, or lost track of) is forgotten. */
const FORGET_AFTER_TIMEOUTS = 10

export interface RunnerView {
  readonly incarnation: string
  info: RunnerInfo
  /** the entity id that reaches it, while the client knows one */
  route: string | undefined
  /** when it last answered (a `Hello` or a chunk's reply): a runner that answers needs no ping */
  lastSeen: number
  /** when `info` was last refreshed by a `Hello` */
  infoAt: number
  down: boolean
  /** its deployment tag is not the client's: it gets no work */
  readonly mismatch: boolean
  /** chunks sent to it and not ended (the engine's) */
  readonly inflight: Set<unknown>
}

export interface MembershipOptions {
  readonly deployment: string
  readonly pingIntervalMs: number
  readonly pingTimeoutMs: number
  /** whether the client has chunks queued or in flight */
  readonly busy: () => boolean
  readonly hello: (entityId: string) => Effect.Effect<RunnerInfo, unknown>
  readonly shardOf: (entityId: string) => number
  /** one entity id per shard, once the number of shards is known */
  readonly idsByShard: (shardsPerGroup: number) => ReadonlyMap<number, string>
  readonly routeFor: (view: RunnerView, ids: ReadonlyMap<number, string>) => string | undefined
  readonly onDown: (view: RunnerView, why: string) => void
  readonly onChange: () => void
  readonly onMismatch: (view: RunnerView) => void
}

export interface Membership {
  readonly runners: ReadonlyMap<string, RunnerView>
  /** One round: ping the known runners, probe uncovered shards. */
  readonly round: Effect.Effect<void>
}

const FIRST_PROBE = "route-0"

export const make = (options: MembershipOptions): Membership => {
  const runners = new Map<string, RunnerView>()
  let ids: ReadonlyMap<number, string> | undefined

  /** `Success(Some(info))` when the runner behind `entityId` answered within `pingTimeout` */
  const hello = (entityId: string) =>
    Effect.map(within(options.hello(entityId), options.pingTimeoutMs), (answer) =>
      Option.isSome(answer) && Exit.isSuccess(answer.value)
        ? Exit.succeed(Option.some(answer.value.value))
        : Exit.succeed(Option.none<RunnerInfo>())
    )

  const markDown = (view: RunnerView, why: string) => {
    if (view.down) return
    view.down = true
    options.onDown(view, why)
  }

  /** What an answer through `route` says: about the runner that answered. */
  const learn = (info: RunnerInfo, route: string, now: number): void => {
    ids ??= options.idsByShard(info.shardsPerGroup)
    let view = runners.get(info.incarnation)
    if (view === undefined) {
      // a runner restarted on the same address is a new runner: the old one is gone
      for (const old of runners.values()) {
        if (old.info.address === info.address && old.incarnation !== info.incarnation) {
          markDown(old, "it restarted")
          runners.delete(old.incarnation)
        }
      }
      view = {
        incarnation: info.incarnation,
        info,
        route: undefined,
        lastSeen: now,
        infoAt: now,
        down: false,
        mismatch: info.deployment !== options.deployment,
        inflight: new Set()
      }
      runners.set(info.incarnation, view)
      if (view.mismatch) options.onMismatch(view)
    }
    view.info = info
    view.lastSeen = now
    view.infoAt = now
    view.down = false
    // a runner that holds no shard yet (still acquiring its locks) is reached through the id
    // that just reached it: the cluster assigns that id's shard to it
    view.route = options.routeFor(view, ids) ?? route
  }

  const uncoveredProbes = (): Array<string> => {
    if (ids === undefined) return [FIRST_PROBE]
    const covered = new Set<number>()
    for (const view of runners.values()) {
      if (!view.down) for (const shard of view.info.shards) covered.add(shard)
    }
    const uncovered = [...ids.keys()].filter((shard) => !covered.has(shard))
    const probes: Array<string> = []
    for (let i = 0; i < PROBES_PER_ROUND && uncovered.length > 0; i++) {
      const [shard] = uncovered.splice(Math.floor(Math.random() * uncovered.length), 1)
      probes.push(ids.get(shard!)!)
    }
    return probes
  }

  const round = Effect.gen(function* () {
    const known = [...runners.values()]
    const start = Date.now()
    const busy = options.busy()
    const due = (view: RunnerView) =>
      busy
        ? start - view.lastSeen >= options.pingIntervalMs || start - view.infoAt >= BUSY_REFRESH_MS
        : start - view.infoAt >= IDLE_PING_MS
    const pings = yield* Effect.forEach(
      known.filter((view) => view.route !== undefined && (view.down || due(view))),
      (view) => Effect.map(hello(view.route!), (exit) => [view, view.route!, exit] as const),
      { concurrency: "unbounded" }
    )
    const now = Date.now()
    for (const [view, route, exit] of pings) {
      if (Exit.isSuccess(exit) && exit.value._tag === "Some") {
        const info = exit.value.value
        if (info.incarnation !== view.incarnation && view.route === route) view.route = undefined // its shard moved
        learn(info, route, now)
      }
    }
    const pinged = new Set(pings.map(([view]) => view))
    for (const view of known) {
      // only a runner asked this round can be found silent: one that answered a chunk
      // within `pingInterval`, or an idle client's, was not asked
      if (pinged.has(view) && now - view.lastSeen > options.pingTimeoutMs) {
        markDown(view, `it did not answer for ${now - view.lastSeen} ms`)
        view.route = undefined
      }
      if (now - view.lastSeen > options.pingTimeoutMs * FORGET_AFTER_TIMEOUTS && view.inflight.size === 0) {
        runners.delete(view.incarnation)
      }
    }

    // shards no live runner reports: probe a few; again at once while that finds
    // runners, so a new client (or a burst of joins) learns the whole cluster in one round
    for (let pass = 0; pass < DISCOVERY_PASSES; pass++) {
      const probes = uncoveredProbes()
      if (probes.length === 0) break
      const known = runners.size
      const hadIds = ids !== undefined
      const answers = yield* Effect.forEach(probes, (id) => Effect.map(hello(id), (exit) => [id, exit] as const), {
        concurrency: "unbounded"
      })
      const later = Date.now()
      for (const [id, exit] of answers) {
        if (Exit.isSuccess(exit) && exit.value._tag === "Some") learn(exit.value.value, id, later)
      }
      if (runners.size === known && hadIds) break
    }
    options.onChange()
  })

  return { runners, round }
}
