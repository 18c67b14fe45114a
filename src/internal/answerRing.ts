/**
 * A worker thread's answers through a `SharedArrayBuffer` the parent owns,
 * instead of a `MessagePort` message each. The thread appends a record per
 * batch and posts a wake-up only when the ring was empty; the parent reads all
 * it finds at once. What is in the ring survives the thread's end (the parent
 * drains it at `exit`). Positions count bytes written and read, modulo 2^30
 * (a multiple of the ring's size, so a position's place in the ring survives
 * the wrap).
 *
 * A record is an 8-byte header (its kind, its length) and its body, padded
 * to 8 bytes; a record never wraps (a `WRAP` header skips the ring's end). A
 * batch of `Done`s whose values are all numbers is a `NUMBERS` record, their
 * ids, counts and values as float64s, written and read with no text at all;
 * any other batch JSON carries is a `TEXT` record, its JSON in UTF-8.
 * Measured on 20,000 tiny tasks: as text, a number's answer cost the thread
 * ~0.5 µs to write and the parent ~0.25 µs to read (decode, parse).
 *
 * @internal
 */
import { isExactJsonNumber } from "./codecFastPaths.ts"
import { uncurryThis } from "./primordials.ts"

// taken before any task runs: a thread's task may replace the globals (see primordials.ts)
const AtomicsLoad = Atomics.load
const AtomicsStore = Atomics.store
const AtomicsExchange = Atomics.exchange
const MathMin = Math.min
const TypedArraySet = uncurryThis(Uint8Array.prototype.set) as (
  target: Uint8Array,
  source: Uint8Array,
  at: number
) => void
const TypedArraySubarray = uncurryThis(Uint8Array.prototype.subarray) as (
  array: Uint8Array,
  start: number,
  end?: number
) => Uint8Array
const Uint8ArrayOf = Uint8Array
const encoder = new TextEncoder()
const encodeInto = uncurryThis(TextEncoder.prototype.encodeInto) as (
  encoder: object,
  text: string,
  into: Uint8Array
) => { readonly read: number; readonly written: number }

/**
 * Past this many UTF-16 units, a string crosses by structured clone, not as
 * JSON text (answers in the ring; requests to a thread, see `workerThread.ts`):
 * JSON text written, encoded, decoded and parsed costs 8–20 ns a character, a
 * clone of a string a fraction of that, and a port message's own few µs no
 * longer count. Measured: rendering 413 Markdown files (21 MB of HTML a run)
 * spent 16% of each thread's time and 12% of the main thread's in the ring's
 * JSON when every string took it.
 */
export const MAX_STRING = 256

/**
 * A batch of answers with more values than this crosses by a port message (a
 * structured clone) rather than as text in the ring: the text of a value
 * costs 50–100 ns to write and as much to read for a number that is no small
 * integer (a square of a million), more than a port message's few µs over a
 * few dozen values. Measured: 1,000,000 squares in `"auto"` chunks on 2
 * threads, 6.9–7.2 M/s through the ring, 9.9–10.2 M/s cloned with a limit of
 * 16, 64 or 256 values; tiny tasks' answers (one value each) are unchanged.
 */
export const MAX_VALUES = 64

/** A batch of numbers' answers with more values than this takes the port (a `NUMBERS` record stays far below the ring's size). */
export const MAX_NUMBERS = 8192

/** A value that crosses as JSON text (in the ring, or in a request's batch): a number JSON keeps exactly, or a short string. */
export const carriesAsText = (u: unknown): boolean =>
  typeof u === "string" ? u.length <= MAX_STRING : isExactJsonNumber(u)

export const RING_BYTES = 1 << 20
const MASK = RING_BYTES - 1
const POSITION_MASK = 2 ** 30 - 1

const HEADER = 8
/** A batch's JSON text, in UTF-8; its length in bytes. */
const TEXT = 1
/** `Done`s of numbers: for each, its id, its count of values and its values, as float64s; their count. */
const NUMBERS = 2
/** Nothing more up to the ring's end: the next record is at its start. */
const WRAP = 3

/** Bytes from position `from` to position `to`, modulo 2^30. */
const distance = (from: number, to: number) => (to - from) & POSITION_MASK
/** `n` rounded up to a multiple of 8. */
const aligned = (n: number) => (n + 7) & ~7

export interface Ring {
  readonly ctl: Int32Array
  readonly data: Uint8Array
  readonly words: Int32Array
  readonly numbers: Float64Array
}

export const make = (shared: SharedArrayBuffer = new SharedArrayBuffer(16 + RING_BYTES)): Ring => ({
  ctl: new Int32Array(shared, 0, 4),
  data: new Uint8Array(shared, 16, RING_BYTES),
  words: new Int32Array(shared, 16, RING_BYTES / 4),
  numbers: new Float64Array(shared, 16, RING_BYTES / 8)
})

export const bufferOf = (ring: Ring): SharedArrayBuffer => ring.ctl.buffer as SharedArrayBuffer

/** UTF-8 takes at most 3 bytes for each UTF-16 unit of a string. */
const MAX_BYTES_PER_UNIT = 3

/** Where a text that may not fit the room before the ring's end is encoded first; grows as needed. */
let scratch = new Uint8ArrayOf(4096)

export type Written = "wake" | "written" | "full"

/**
 * The index in the ring where a record of `size` bytes starts, after a
 * `WRAP` at the ring's end if it does not fit before it; -1 if the ring has
 * no room for it (nothing written then). `head` and `free`: the writer's.
 */
const place = (ring: Ring, head: number, free: number, size: number): number => {
  const at = head & MASK
  if (at + size <= RING_BYTES) return size <= free ? at : -1
  if (RING_BYTES - at + size > free) return -1
  ring.words[at >> 2] = WRAP
  return 0
}

/** Makes a record written at `at` (its header) readable: "wake" if the ring was empty (the reader must be told). */
const publish = (ring: Ring, head: number, at: number, kind: number, length: number, size: number): Written => {
  ring.words[at >> 2] = kind
  ring.words[(at >> 2) + 1] = length
  const skipped = at < (head & MASK) ? RING_BYTES - (head & MASK) : 0
  const old = AtomicsExchange(ring.ctl, 0, (head + skipped + size) & POSITION_MASK)
  return AtomicsLoad(ring.ctl, 1) === old ? "wake" : "written"
}

/**
 * Appends a batch's JSON `text` in UTF-8. It is encoded straight into the
 * ring when the room up to the ring's end holds it whatever its characters,
 * and through a scratch buffer otherwise: measured, `TextEncoder.encode`'s new
 * buffer per answer cost a worker thread ~0.3–0.8 µs an answer, more than
 * running a tiny task.
 */
export const writeText = (ring: Ring, text: string): Written => {
  const head = ring.ctl[0]!
  const free = RING_BYTES - distance(AtomicsLoad(ring.ctl, 1), head)
  const at = head & MASK
  // each UTF-16 unit takes a byte at least: a longer text cannot fit, and is not encoded
  if (HEADER + text.length > free) return "full"
  const room = MathMin(free, RING_BYTES - at) - HEADER
  if (text.length * MAX_BYTES_PER_UNIT <= room) {
    const length = encodeInto(encoder, text, TypedArraySubarray(ring.data, at + HEADER, at + HEADER + room)).written
    return publish(ring, head, at, TEXT, length, aligned(HEADER + length))
  }
  if (scratch.length < text.length * MAX_BYTES_PER_UNIT) scratch = new Uint8ArrayOf(text.length * MAX_BYTES_PER_UNIT)
  const length = encodeInto(encoder, text, scratch).written
  const start = place(ring, head, free, aligned(HEADER + length))
  if (start < 0) return "full"
  TypedArraySet(ring.data, TypedArraySubarray(scratch, 0, length), start + HEADER)
  return publish(ring, head, start, TEXT, length, aligned(HEADER + length))
}

/** Appends a batch of `Done`s (`[tag, id, values]`) whose values are numbers. */
export const writeNumbers = (ring: Ring, batch: ReadonlyArray<ReadonlyArray<any>>): Written => {
  let count = 0
  for (let i = 0; i < batch.length; i++) count += 2 + batch[i]![2].length
  const head = ring.ctl[0]!
  const free = RING_BYTES - distance(AtomicsLoad(ring.ctl, 1), head)
  const size = HEADER + 8 * count
  const at = place(ring, head, free, size)
  if (at < 0) return "full"
  const numbers = ring.numbers
  let k = (at + HEADER) >> 3
  for (let i = 0; i < batch.length; i++) {
    const record = batch[i]!
    const values = record[2]
    numbers[k++] = record[1]
    numbers[k++] = values.length
    for (let j = 0; j < values.length; j++) numbers[k++] = values[j]
  }
  return publish(ring, head, at, NUMBERS, count, size)
}

const decoder = new TextDecoder()
/** What `drain` gives for a record it cannot read. */
const MALFORMED = "a malformed record in a thread's answer ring"
/** The reader's copy of consecutive `TEXT` records, joined by commas (a decoder takes no shared memory). */
let joined = new Uint8Array(4096)

/** The writer's position: everything before it is written. */
export const written = (ring: Ring): number => AtomicsLoad(ring.ctl, 0)

/**
 * The batches written from the reader's position up to `limit` (a writer's
 * position), in order: a `TEXT` record's parsed, a `NUMBERS` record's as
 * its `Done` records (`[done, id, values]`). What cannot be read (text that
 * is no JSON, a malformed record) comes as a string, which no handler takes
 * for a batch; the ring is read up to `limit` whatever it held.
 */
export const drain = (ring: Ring, limit: number, done: number): Array<unknown> => {
  const out: Array<unknown> = []
  let tail = ring.ctl[1]!
  // a limit behind the reader comes out 2^30 ahead: nothing up to it
  if (distance(tail, limit) > RING_BYTES) return out
  let texts = 0
  const flushTexts = () => {
    if (texts === 0) return
    const text = decoder.decode(joined.subarray(0, texts))
    texts = 0
    try {
      const batches: Array<unknown> = JSON.parse(`[${text}]`)
      for (let i = 0; i < batches.length; i++) out.push(batches[i])
    } catch {
      out.push(text)
    }
  }
  while (tail !== limit) {
    const left = distance(tail, limit)
    const at = tail & MASK
    const kind = ring.words[at >> 2]
    const length = ring.words[(at >> 2) + 1]!
    if (kind === WRAP && at + left >= RING_BYTES) {
      tail = (tail + RING_BYTES - at) & POSITION_MASK
      continue
    }
    const size = aligned(HEADER + (kind === NUMBERS ? 8 * length : length))
    if ((kind !== TEXT && kind !== NUMBERS) || length < 0 || size > left || at + size > RING_BYTES) {
      out.push(MALFORMED)
      break
    }
    if (kind === TEXT) {
      const need = texts + length + 1
      if (joined.length < need) {
        const bigger = new Uint8Array(Math.max(need, 2 * joined.length))
        bigger.set(joined.subarray(0, texts))
        joined = bigger
      }
      if (texts > 0) joined[texts++] = 44 // ","
      joined.set(ring.data.subarray(at + HEADER, at + HEADER + length), texts)
      texts += length
    } else {
      flushTexts()
      const batch = numbersBatch(ring.numbers, (at + HEADER) >> 3, length, done)
      out.push(batch ?? MALFORMED)
      if (batch === undefined) break
    }
    tail = (tail + size) & POSITION_MASK
  }
  flushTexts()
  AtomicsStore(ring.ctl, 1, limit)
  return out
}

/** A `NUMBERS` record's `Done`s (their tag: `done`), or `undefined` if its counts do not add up. */
const numbersBatch = (
  numbers: Float64Array,
  from: number,
  count: number,
  done: number
): Array<readonly [number, number, Array<number>]> | undefined => {
  const batch: Array<readonly [number, number, Array<number>]> = []
  const end = from + count
  let k = from
  while (k < end) {
    if (end - k < 2) return undefined
    const id = numbers[k++]!
    const n = numbers[k++]!
    if (!(n >= 0 && n <= end - k && Number.isInteger(n))) return undefined
    const values = new Array<number>(n)
    for (let j = 0; j < n; j++) values[j] = numbers[k++]!
    batch.push([done, id, values])
  }
  return batch
}
