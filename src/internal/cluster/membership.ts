/**
 * The client's view of the runners: who they are, how to reach each one (its
 * route, see `placement.ts`), and whether it is alive — learned with `Hello`,
 * on the client's own schedule, from what runners say about themselves.
 *
 * Two loops, which never wait for each other:
 *
 * 1. every `TICK_MS` (every `pingInterval` while the client is idle), each
 *    known runner that is due (`liveness.ts`) is sent `Hello` through its
 *    route, in a fiber of its own that waits for that runner only: until it
 *    has been silent for `pingTimeout` (at least half of it after the
 *    question). An answer refreshes what the client knows
 *    (shards, stats) and its route; an answer from another runner means the
 *    route's shard has moved; silence marks it down (`onDown`), and its
 *    chunks go elsewhere. So any number of runners dying at once are each
 *    found lost about `pingTimeout` after their last answer.
 * 2. every `pingInterval`, shards that no live runner reports are probed (a
 *    few at a time, in parallel, with the same bound): that is how a runner
 *    that joined, or one whose route moved, is found. A dead runner's shards
 *    stay uncovered until the cluster moves them, and their probes wait out
 *    their bound here, not in the pings' way.
 *
 * Why the client watches runners itself rather than wait for the cluster to
 * move a dead runner's shards: that move takes the cluster's own detection
 * (health checks or lock expiry) plus its assignment refresh — 8–38 s in the
 * feasibility study, see docs/cluster-notes.md — and until then every message to
 * those shards waits. The client needs only a live runner with free workers,
 * which it can find in about `pingTimeout`.
 *
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { ClusterJob } from "./clientJobs.ts"
import { within } from "./deadline.ts"
import * as Liveness from "./liveness.ts"
import type { RunnerInfo } from "./protocol.ts"

/**
 * Shards probed per pass at most: enough to find a joining runner within a
 * pass or two, few enough that probing a dead runner's shards costs a
 * handful of messages.
 */
const PROBES_PER_ROUND = 4

/** Probe passes per discovery round at most (a pass that finds no new runner ends the round). */
const DISCOVERY_PASSES = 3

/** A runner not heard from for this many `pingTimeout`s (down, or lost track of) is forgotten. */
const FORGET_AFTER_TIMEOUTS = 10

export interface RunnerView extends Liveness.Heard {
  readonly incarnation: string
  info: RunnerInfo
  /** the entity id that reaches it, while the client knows one */
  route: string | undefined
  lastSeen: number
  infoAt: number
  askedAt: number | undefined
  down: boolean
  /** its deployment tag is not the client's: it gets no work */
  readonly mismatch: boolean
  /** chunks sent to it and not ended (the engine's) */
  readonly inflight: Set<ClusterJob>
  /** when it was last sent a chunk, in the engine's count of sends (0: never) */
  lastSent: number
}

export interface MembershipOptions extends Liveness.LivenessConfig {
  readonly deployment: string
  /** whether the client has chunks queued or in flight */
  readonly busy: () => boolean
  readonly hello: (entityId: string) => Effect.Effect<RunnerInfo, unknown>
  readonly shardOf: (entityId: string) => number
  /** one entity id per shard, once the number of shards is known */
  readonly idsByShard: (shardsPerGroup: number) => ReadonlyMap<number, string>
  /** an entity id that reaches a runner holding `shards`: `current` if it still does (`placement.ts`) */
  readonly routeFor: (
    shards: ReadonlyArray<number>,
    current: string | undefined,
    ids: ReadonlyMap<number, string>
  ) => string | undefined
  readonly onDown: (view: RunnerView, why: string) => void
  /** something the engine reads changed: a runner joined, was lost, answered (its stats), or may take work again */
  readonly onChange: () => void
  readonly onMismatch: (view: RunnerView) => void
}

export interface Membership {
  readonly runners: ReadonlyMap<string, RunnerView>
  /** Watches the runners (pings and discovery, see above) for as long as it runs. */
  readonly run: Effect.Effect<never>
  /** Waits until `run` has looked for runners once (its first discovery round). */
  readonly discovered: Effect.Effect<void>
}

const FIRST_PROBE = "route-0"

export const make = (options: MembershipOptions): Membership => {
  const runners = new Map<string, RunnerView>()
  let ids: ReadonlyMap<number, string> | undefined
  const firstRound = Deferred.makeUnsafe<void>()

  /** `Some(info)` when the runner behind `entityId` answered within `ms` */
  const hello = (entityId: string, ms: number) =>
    Effect.map(within(options.hello(entityId), ms), (answer) =>
      Option.isSome(answer) && Exit.isSuccess(answer.value)
        ? Option.some(answer.value.value)
        : Option.none<RunnerInfo>()
    )

  const markDown = (view: RunnerView, why: string) => {
    view.route = undefined
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
        askedAt: undefined,
        down: false,
        mismatch: info.deployment !== options.deployment,
        inflight: new Set(),
        lastSent: 0
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
    view.route = options.routeFor(view.info.shards, view.route, ids) ?? route
  }

  /**
   * The route's shard has moved to the runner that answered (a runner joined, or the cluster
   * rebalanced): reach the runner through another shard it reported that the other does not
   * hold, and ask it at once what it holds now. Without another route it is lost once silent
   * for `pingTimeout` (see `tick`), and discovery finds it again.
   */
  const reroute = (view: RunnerView, holder: RunnerInfo): void => {
    const taken = new Set(holder.shards)
    view.route =
      ids === undefined
        ? undefined
        : options.routeFor(
            view.info.shards.filter((shard) => !taken.has(shard)),
            undefined,
            ids
          )
    view.infoAt = 0
  }

  /** One question to one runner, in a fiber of its own: nothing else waits for its answer. */
  const ping = (view: RunnerView, route: string, now: number) => {
    view.askedAt = now
    return hello(route, Liveness.answerWaitMs(view.lastSeen, now, options)).pipe(
      Effect.flatMap((answer) =>
        Effect.sync(() => {
          view.askedAt = undefined
          const later = Date.now()
          if (Option.isSome(answer)) {
            if (answer.value.incarnation !== view.incarnation && view.route === route) reroute(view, answer.value)
            learn(answer.value, route, later)
          } else if (Liveness.isLost(view.lastSeen, later, options)) {
            markDown(view, `it did not answer for ${later - view.lastSeen} ms`)
          }
          options.onChange()
        })
      ),
      Effect.forkChild({ startImmediately: true })
    )
  }

  const tick = Effect.gen(function* () {
    const now = Date.now()
    const busy = options.busy()
    for (const view of [...runners.values()]) {
      if (view.route === undefined) {
        // no way to ask it (its route's shard moved to another runner): lost once silent for
        // long enough, so that its shards count as uncovered and discovery finds it again
        if (!view.down && Liveness.isLost(view.lastSeen, now, options)) {
          markDown(view, `no route reaches it, and it has not answered for ${now - view.lastSeen} ms`)
          options.onChange()
        }
      } else if (Liveness.isDue(view, now, busy, options)) {
        yield* ping(view, view.route, now)
      }
      if (now - view.lastSeen > options.pingTimeoutMs * FORGET_AFTER_TIMEOUTS && view.inflight.size === 0) {
        runners.delete(view.incarnation)
      }
    }
  })

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

  // shards no live runner reports: probe a few; again at once while that finds
  // runners, so a new client (or a burst of joins) learns the whole cluster in one round
  const discover = Effect.gen(function* () {
    for (let pass = 0; pass < DISCOVERY_PASSES; pass++) {
      const probes = uncoveredProbes()
      if (probes.length === 0) break
      const known = runners.size
      const hadIds = ids !== undefined
      const answers = yield* Effect.forEach(
        probes,
        (id) => Effect.map(hello(id, options.pingTimeoutMs), (answer) => [id, answer] as const),
        { concurrency: "unbounded" }
      )
      const later = Date.now()
      for (const [id, answer] of answers) if (Option.isSome(answer)) learn(answer.value, id, later)
      options.onChange()
      if (runners.size === known && hadIds) break
    }
  })

  const run = Effect.all(
    [
      // see TICK_MS: an idle client's runners are due every IDLE_PING_MS, every pingInterval is enough
      Effect.forever(
        Effect.andThen(
          tick,
          Effect.suspend(() =>
            Effect.sleep(options.busy() ? Math.min(Liveness.TICK_MS, options.pingIntervalMs) : options.pingIntervalMs)
          )
        )
      ),
      Effect.andThen(discover, Deferred.succeed(firstRound, undefined)).pipe(
        Effect.andThen(discover.pipe(Effect.delay(options.pingIntervalMs), Effect.forever))
      )
    ],
    { concurrency: 2, discard: true }
  ).pipe(Effect.andThen(Effect.never))

  return { runners, run, discovered: Deferred.await(firstRound) }
}
