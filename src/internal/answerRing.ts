/**
 * A worker thread's answers through a
 * `SharedArrayBuffer` the parent owns, instead of a `MessagePort` message
 * each. The thread appends a batch's JSON text and a comma; it posts a wake-up
 * only when the ring was empty; the parent parses all it finds at once. What
 * is in the ring survives the thread's end (the parent drains it at `exit`).
 * Positions count bytes written and read, modulo 2^30 (a multiple of the
 * ring's size, so a position's place in the ring survives the wrap).
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
 * structured clone) even when each would fit the ring: the text of a value
 * costs 50–100 ns to write and as much to read for a number that is no small
 * integer (a square of a million), more than a port message's few µs over a
 * few dozen values. Measured: 1,000,000 squares in `"auto"` chunks on 2
 * threads, 6.9–7.2 M/s through the ring, 9.9–10.2 M/s cloned with a limit of
 * 16, 64 or 256 values; tiny tasks' answers (one value each) are unchanged.
 */
export const MAX_VALUES = 64

/** A value that crosses as JSON text (in the ring, or in a request's batch): a number JSON keeps exactly, or a short string. */
export const carriesAsText = (u: unknown): boolean =>
  typeof u === "string" ? u.length <= MAX_STRING : isExactJsonNumber(u)

export const RING_BYTES = 1 << 20
const MASK = RING_BYTES - 1
const POSITION_MASK = 2 ** 30 - 1

/** Bytes from position `from` to position `to`, modulo 2^30. */
const distance = (from: number, to: number) => (to - from) & POSITION_MASK

export interface Ring {
  readonly ctl: Int32Array
  readonly data: Uint8Array
}

export const make = (shared: SharedArrayBuffer = new SharedArrayBuffer(16 + RING_BYTES)): Ring => ({
  ctl: new Int32Array(shared, 0, 4),
  data: new Uint8Array(shared, 16, RING_BYTES)
})

export const bufferOf = (ring: Ring): SharedArrayBuffer => ring.ctl.buffer as SharedArrayBuffer

/** UTF-8 takes at most 3 bytes for each UTF-16 unit of a string. */
const MAX_BYTES_PER_UNIT = 3

/** Where a text that may not fit the room before the ring's end is encoded first; grows as needed. */
let scratch = new Uint8ArrayOf(4096)

/**
 * Appends `text` in UTF-8; "wake" if the ring was empty (the reader must be
 * told), "full" if it does not fit. It is encoded straight into the ring
 * when the room up to the ring's end holds it whatever its characters, and
 * through a scratch buffer otherwise: measured, `TextEncoder.encode`'s new
 * buffer per answer cost a worker thread ~0.3–0.8 µs an answer, more than
 * running a tiny task.
 */
export const write = (ring: Ring, text: string): "wake" | "written" | "full" => {
  const head = ring.ctl[0]!
  const tail = AtomicsLoad(ring.ctl, 1)
  const free = RING_BYTES - distance(tail, head)
  const at = head & MASK
  // each UTF-16 unit takes a byte at least: a longer text cannot fit, and is not encoded
  if (text.length > free) return "full"
  const room = MathMin(free, RING_BYTES - at)
  let length: number
  if (text.length * MAX_BYTES_PER_UNIT <= room) {
    length = encodeInto(encoder, text, TypedArraySubarray(ring.data, at, at + room)).written
  } else {
    if (scratch.length < text.length * MAX_BYTES_PER_UNIT) scratch = new Uint8ArrayOf(text.length * MAX_BYTES_PER_UNIT)
    length = encodeInto(encoder, text, scratch).written
    if (length > free) return "full"
    const first = MathMin(length, RING_BYTES - at)
    TypedArraySet(ring.data, TypedArraySubarray(scratch, 0, first), at)
    if (first < length) TypedArraySet(ring.data, TypedArraySubarray(scratch, first, length), 0)
  }
  const old = AtomicsExchange(ring.ctl, 0, (head + length) & POSITION_MASK)
  return AtomicsLoad(ring.ctl, 1) === old ? "wake" : "written"
}

const decoder = new TextDecoder()

/** The writer's position: everything before it is written. */
export const written = (ring: Ring): number => AtomicsLoad(ring.ctl, 0)

/** The text written from the reader's position up to `limit` (a writer's position), "" if none. */
export const drain = (ring: Ring, limit: number): string => {
  const tail = ring.ctl[1]!
  const length = distance(tail, limit)
  // a limit behind the reader comes out 2^30 ahead: nothing up to it
  if (length === 0 || length > RING_BYTES) return ""
  const at = tail & MASK
  const end = at + length
  let bytes: Uint8Array
  if (end <= RING_BYTES) bytes = ring.data.slice(at, end)
  else {
    bytes = new Uint8Array(length)
    bytes.set(ring.data.subarray(at), 0)
    bytes.set(ring.data.subarray(0, end - RING_BYTES), RING_BYTES - at)
  }
  AtomicsStore(ring.ctl, 1, limit)
  return decoder.decode(bytes)
}
