/**
 * Placement: which runner the next chunk goes to, and which entity id
 * reaches a given runner. Pure functions, tested without a cluster.
 *
 * Effect Cluster routes an entity id to the runner holding the id's shard (a
 * hash of the id). Routing by hashes of chunk ids is not balanced (measured:
 * 150/50 over two runners with 8 random ids), so a client addresses each
 * runner through a *route*: an entity id whose shard that runner holds, found
 * from the shards the runner reports (`Hello`). Each runner has a credit,
 * `workers × chunksPerWorker` chunks in flight, and the next chunk goes to
 * the runner with the most credit left relative to its size — pull-based, so
 * a faster or bigger runner takes more, and none idles while another holds
 * queued work it has not started. Among runners equally loaded, the one sent
 * a chunk least recently: with fewer chunks in flight than runners (a
 * `mapStream` with a small `bufferSize`, a few `run`s at a time) every runner
 * takes its turn, a runner that joined included. With "the first" instead, a
 * runner that joined mid-`mapStream` got no chunk in 40 s (issue #18).
 *
 * @internal
 */

/** What placement needs to know of a runner. */
export interface Candidate {
  /** chunks sent to it and not ended */
  readonly inflight: number
  /** how many it may hold at once; 0 for a runner that takes nothing now */
  readonly credit: number
  /** when it was last sent a chunk (any increasing count; 0: never) */
  readonly lastSent: number
}

/**
 * The index of the runner the next chunk goes to: the one with the smallest
 * share of its credit in use (ties: the one sent a chunk least recently), or
 * `undefined` when every runner's credit is used up.
 */
export const pick = (candidates: ReadonlyArray<Candidate>): number | undefined => {
  let best: number | undefined
  let bestLoad = Number.POSITIVE_INFINITY
  let bestSent = Number.POSITIVE_INFINITY
  for (let i = 0; i < candidates.length; i++) {
    const { credit, inflight, lastSent } = candidates[i]!
    if (credit <= 0 || inflight >= credit) continue
    const load = inflight / credit
    if (load < bestLoad || (load === bestLoad && lastSent < bestSent)) {
      best = i
      bestLoad = load
      bestSent = lastSent
    }
  }
  return best
}

/** The prefix of route ids: an entity id is `${ROUTE_PREFIX}${n}`. */
export const ROUTE_PREFIX = "route-"

/**
 * One entity id per shard (`1..shardsPerGroup`): for each shard, the first
 * `${ROUTE_PREFIX}${n}` that hashes to it. About `S·ln S` hashes (≈1,700 for
 * the default 300 shards, well under a millisecond), once per client.
 */
export const idsByShard = (shardsPerGroup: number, shardOf: (id: string) => number): ReadonlyMap<number, string> => {
  const ids = new Map<number, string>()
  // bounded: a shard function that never reaches some shard must not loop for ever
  const limit = Math.max(1_000, shardsPerGroup * 200)
  for (let n = 0; ids.size < shardsPerGroup && n < limit; n++) {
    const id = `${ROUTE_PREFIX}${n}`
    const shard = shardOf(id)
    if (!ids.has(shard)) ids.set(shard, id)
  }
  return ids
}

/**
 * The route to a runner that holds `shards`: `current` while its shard is
 * still among them (a route that stays put keeps the runner's entity warm),
 * else the id of the runner's first shard that has one.
 */
export const routeFor = (
  shards: ReadonlyArray<number>,
  ids: ReadonlyMap<number, string>,
  current: string | undefined,
  shardOf: (id: string) => number
): string | undefined => {
  if (current !== undefined && shards.includes(shardOf(current))) return current
  for (const shard of shards) {
    const id = ids.get(shard)
    if (id !== undefined) return id
  }
  return undefined
}
