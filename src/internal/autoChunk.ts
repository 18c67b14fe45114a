/**
 * `chunksize: "auto"`: how many inputs go into the next chunk, from what the
 * chunks so far cost. A pure policy, tested without processes.
 *
 * A chunk costs `overhead + size × perItem`: the overhead (an IPC round trip
 * and the per-message work on both sides, ~0.1 ms) is paid once per chunk. The
 * policy sizes chunks so that one takes about `TARGET_CHUNK_MS`, which makes
 * the overhead about a percent, while keeping chunks short enough that
 * work spreads over the workers and an interruption is honoured soon.
 *
 * - It starts at one input, so a heavy task never waits behind a big first
 *   chunk, and grows at most `MAX_GROWTH`-fold per observed chunk: tiny tasks
 *   reach their ideal size in four or five chunks (joblib doubles, and needs
 *   a dozen or more).
 * - Its estimate of the per-input cost is a size-weighted, decaying average:
 *   big chunks, where the overhead is amortised, outweigh the first tiny ones,
 *   whose time is mostly overhead.
 * - It also keeps a decaying maximum of the per-input cost of single chunks,
 *   and sizes a chunk so that it would take about the target even at that
 *   cost. For inputs of even cost this is the average; for uneven ones (real
 *   files: a few take 100× the median) it keeps chunks small while heavy
 *   inputs come, so that one heavy chunk does not hold a worker while the
 *   others idle (measured: rendering 413 Markdown files, map's "auto" took
 *   1.15–1.5× the wall time of `chunksize: 1` with the average alone, chunks
 *   of 26 files taking 100–300 ms).
 * - Near the end of a known-length input, chunks shrink so that the rest is
 *   spread over every worker (`TAIL_CHUNKS_PER_WORKER` chunks each at most),
 *   down to `TAIL_MIN_CHUNK_MS` of work: no worker idles while another
 *   finishes one big last chunk.
 *
 * Anchor: joblib's auto batching (target 0.2–2 s per batch, durations smoothed
 * 0.8/0.2, at most doubling per step). Our per-chunk overhead is far smaller
 * than joblib's, so our target is far shorter.
 *
 * @internal
 */

/**
 * The duration one chunk aims at. Measured, rendering 413 real Markdown files
 * (1 KB to 934 KB) on a warm pool of 2 threads, 3 rounds alternated, medians
 * of 5 runs: 20 ms: 894, 907, 993 ms; 10 ms: 830, 828, 808; 5 ms: 862, 842,
 * 830 (`chunksize: 1`: 828–920 in the same minutes). After a run of light
 * files, a chunk sized for 20 ms took 54 of the heavy ones that follow them and
 * ran 341 ms while the other worker had little left. Tiny tasks are unchanged:
 * their chunks stop at `MAX_CHUNK` well before either target (1 M squares,
 * 2 runs alternated: 12.0–13.1 M/s at 20 ms, 11.8–12.9 at 10 ms).
 */
export const TARGET_CHUNK_MS = 10

/** A chunk is at most this many times the size of the one it learned from. */
export const MAX_GROWTH = 8

/**
 * Chunks never carry more inputs than this. Bigger messages stop paying off
 * well before this target size would (bench/map.ts: chunks of 100,000 tiny
 * inputs ran at 1.6 M inputs/s where chunks of 10,000 ran at 2.5 M/s), and a
 * smaller bound keeps what a stream holds in flight small.
 *
 * 8,192 also keeps a chunk's arrays under V8's large-object size (128 KB, 16K
 * elements of 8 bytes): larger ones are allocated straight into the large
 * object space, which only a full GC frees. With 16,384, a parent streaming
 * 10 M tiny inputs piled up ~75 MB of them; with 8,192 it keeps none.
 */
export const MAX_CHUNK = 8_192

/** At the end of a known-length input, at least this many chunks per worker remain. */
export const TAIL_CHUNKS_PER_WORKER = 2

/**
 * ...but a chunk never shrinks below this much work: the imbalance that a
 * shorter chunk would avoid is smaller than the round trip it costs. (For
 * tiny tasks the tail rule then never applies: their chunks are short anyway.)
 */
export const TAIL_MIN_CHUNK_MS = 2

/** How much of the past the per-input estimate keeps at each new chunk. */
const DECAY = 0.5

export interface AutoChunk {
  /** the size the next chunk would have, before the tail rule */
  readonly size: number
  /** decayed sums of the inputs and the milliseconds of the chunks observed */
  readonly items: number
  readonly ms: number
  /** the highest per-input cost of a chunk lately (decayed), in ms */
  readonly high: number
}

export const initial: AutoChunk = { size: 1, items: 0, ms: 0, high: 0 }

/** Learns from one chunk of `items` inputs that took `ms` (round trip included). */
export const observe = (state: AutoChunk, items: number, ms: number): AutoChunk => {
  if (!(items > 0) || !(ms >= 0)) return state
  const totalItems = state.items * DECAY + items
  const totalMs = state.ms * DECAY + ms
  const perItem = totalMs / totalItems
  const high = Math.max(state.high * DECAY, ms / items)
  const ideal = perItem > 0 ? TARGET_CHUNK_MS / perItem : MAX_CHUNK
  const atHigh = high > 0 ? TARGET_CHUNK_MS / high : MAX_CHUNK
  const size = Math.max(1, Math.min(MAX_CHUNK, Math.floor(ideal), Math.floor(atHigh), items * MAX_GROWTH))
  return { size, items: totalItems, ms: totalMs, high }
}

/**
 * The size of the next chunk. `remaining` is how many inputs are left, when
 * the input's length is known; `workers` is how many can run chunks at once.
 */
export const next = (state: AutoChunk, remaining: number | undefined, workers: number): number => {
  let size = state.size
  if (remaining !== undefined) {
    const spread = Math.ceil(remaining / (workers * TAIL_CHUNKS_PER_WORKER))
    const perItem = state.items > 0 ? state.ms / state.items : Number.POSITIVE_INFINITY
    const floor = perItem > 0 ? Math.floor(TAIL_MIN_CHUNK_MS / perItem) : MAX_CHUNK
    size = Math.min(size, Math.max(spread, floor))
  }
  return Math.max(1, size)
}
