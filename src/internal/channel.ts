/**
 * The pool's private channel to a worker process: two pipes of its own, not
 * Node's IPC channel. The parent writes on the worker's fd 3 and reads its
 * fd 4; the worker reads fd 3 asynchronously and writes fd 4 synchronously.
 * Both sides import this file for the framing.
 *
 * Why not Node's IPC channel (`fork`, `process.send`):
 * - it is public: a task, or a library it uses, may call `process.send`, and
 *   whatever it sends arrives among the pool's messages. A worker here has no
 *   IPC channel at all, so `process.send` is undefined in it, as in any
 *   process started without one, and nothing a task does by accident reaches
 *   the pool's channel.
 * - Node parses IPC messages inside its own stream handler: one line on the
 *   IPC fd that is not JSON throws a `SyntaxError` there and kills the parent
 *   (seen with Node 24), beyond the reach of any check of ours. Here the
 *   parent parses, and a frame that is not a message is dropped and counted.
 * - `process.send` of a message larger than the pipe buffer returns before
 *   the message is written; a `process.exit` right after drops the rest, and
 *   the parent blames the crash on the job that had in fact answered. The
 *   worker writes fd 4 with blocking writes instead: once `write` returns, the
 *   message is in the kernel, and it reaches the parent whatever ends the
 *   process next (exit, SIGKILL, an uncaught exception). The worker blocks
 *   only while the parent is slow to read, and has nothing else to do then.
 *   Measured: round trips of tiny messages as fast as Node's IPC.
 *
 * Framing, by the pool's `serialization` option:
 * - `"json"`: RFC 7464 JSON text sequences: RS (0x1E), the JSON text, LF.
 *   `JSON.stringify` escapes every control character, so neither byte occurs
 *   inside a message. Bytes a task writes to fd 4 by hand are dropped and
 *   counted, and the frame after them is always found: a record starts at
 *   every RS (see `jsonDecoder`), and a foreign record costs bounded memory.
 * - `"advanced"`: a 4-byte length, then the message in V8's serialization
 *   format (`v8.serialize`, what Node's "advanced" IPC uses). Binary frames
 *   cannot be resynchronised after foreign bytes: the parent treats such a
 *   channel as broken.
 *
 * @internal
 */
import * as NodeBuffer from "node:buffer"
import * as NodeCrypto from "node:crypto"
import * as NodeV8 from "node:v8"
import * as JsonText from "./jsonText.ts"
import { BufferAllocUnsafe, BufferConcat, JSONParse } from "./primordials.ts"

// taken before any task runs, like those of primordials.ts
const v8Serialize = NodeV8.serialize
const v8Deserialize = NodeV8.deserialize

/** The worker's fd that the parent writes to. */
export const TO_WORKER_FD = 3
/** The worker's fd that the parent reads from. */
export const FROM_WORKER_FD = 4

export type Serialization = "json" | "advanced"

/**
 * A worker process's key (see `P.FirstFrame`): 30 bits from the system's
 * CSPRNG, not 0. Every answer frame carries it, so it is kept short and a
 * small integer (10 digits, no boxed number to parse): a blind guess is right
 * once in a billion frames (the random job ids it replaced: once in four
 * billion jobs). It comes in frame 0 only, which the runtime reads before any
 * task runs: a task learns it only from the runtime's memory.
 */
export const newKey = (): number => {
  const words = new Uint32Array(1)
  NodeCrypto.getRandomValues(words)
  return words[0]! & 0x3fff_ffff || 1
}

/** What a decoder makes of the bytes it was given. */
export interface DecodeHandlers {
  readonly onMessage: (message: unknown) => void
  /** a run of bytes that is not a message: dropped (`json`: bytes outside a record, or a record that is not JSON), once per run */
  readonly onForeign: (bytes: number) => void
}

export interface Decoder {
  /** Feeds bytes; whole messages go to `onMessage`. Throws `ChannelBroken` when the stream cannot be read any more. */
  readonly push: (chunk: Buffer) => void
  /** Whether it holds the first bytes of a message still arriving. */
  readonly partial: () => boolean
  /** How many bytes it holds: those of a message still arriving. */
  readonly buffered: () => number
}

/** The stream can no longer be split into messages (`advanced` framing after foreign bytes). */
export class ChannelBroken extends Error {}

/** Frames one message; throws if it cannot be serialized. */
export const encoder = (serialization: Serialization): ((message: unknown) => string | Buffer) =>
  serialization === "json" ? encodeJson : encodeAdvanced

/** `maxRecordBytes` (JSON framing): see `MAX_RECORD_BYTES`; smaller only in tests. */
export const decoder = (
  serialization: Serialization,
  handlers: DecodeHandlers,
  maxRecordBytes: number = MAX_RECORD_BYTES
): Decoder => (serialization === "json" ? jsonDecoder(handlers, maxRecordBytes) : advancedDecoder(handlers))

const RS = 0x1e
const LF = 0x0a

const encodeJson = (message: unknown): string => {
  // immune to a task's `JSON.stringify` or `toJSON` (see jsonText.ts)
  const text = JsonText.stringify(message)
  // undefined, a function or a symbol: not a message at all
  if (text === undefined) throw new TypeError(`${typeof message} is not serializable`)
  return `\u001e${text}\n`
}

/**
 * The longest record the JSON decoder keeps, in bytes (RS included): beyond
 * it, a record is dropped as it streams. A frame is one string
 * (`encodeJson`), at most `MAX_STRING_LENGTH` UTF-16 code units (2^29 − 24 in
 * 64-bit V8), and a code unit takes at most 3 bytes in UTF-8 (a surrogate
 * pair, two units, takes 4): no side can write a longer frame, and no bound
 * below it is safe, since an answer may legitimately be hundreds of MB. So
 * this is the bound on what a foreign record can cost (about 1.5 GiB), and
 * the cheaper rules come first: only the bytes since the last RS are kept, and
 * a record that does not open as a frame is not kept at all (see `jsonDecoder`).
 */
export const MAX_RECORD_BYTES = 3 * NodeBuffer.constants.MAX_STRING_LENGTH

/** Every frame is a batch of messages: a JSON array, so its record opens with RS `[`. */
const OPEN = 0x5b

const NOT_JSON: unique symbol = Symbol("NOT_JSON")

/**
 * RFC 7464 §2.4, with the pool's frames: a record starts at every RS and ends
 * at the next LF, or at the next RS, which drops it (a truncated record). A
 * record that does not parse, and bytes outside any record, are dropped and
 * counted once per run (`onForeign`). Neither byte occurs inside a real frame,
 * so a frame written after any foreign bytes is always found whole: the record
 * that ends at a line's LF is the one that starts at the line's last RS.
 *
 * Memory: the decoder keeps only the record still arriving, from its RS on;
 * what came before that RS is dropped as it comes. A record is let go (its
 * later bytes are dropped as they stream, up to the next RS or LF) as soon as
 * it cannot be a frame: when the byte after its RS is not `[` (one byte
 * decides, so foreign text costs nothing), or when it grows past
 * `maxRecordBytes`, which no real frame reaches.
 */
const jsonDecoder = (handlers: DecodeHandlers, maxRecordBytes: number): Decoder => {
  /** the record still arriving, from its RS on, in the reads it came in; empty when none is */
  let held: Array<Buffer> = []
  let heldBytes = 0
  /** the length of a run of foreign bytes still going on (dropped, not kept); counted when it ends */
  let skipped = 0

  const endSkipped = () => {
    if (skipped === 0) return
    handlers.onForeign(skipped)
    skipped = 0
  }

  /** Drops what was carried over from earlier reads, then `bytes[0, end)`; `end` is an RS. One count per record. */
  const dropTo = (bytes: Buffer, end: number) => {
    let run = heldBytes + skipped
    held = []
    heldBytes = 0
    skipped = 0
    let from = 0
    let at = 0
    for (;;) {
      let to = at < end ? bytes.indexOf(RS, at) : end
      if (to === -1 || to > end) to = end
      run += to - from
      if (run > 0) handlers.onForeign(run)
      if (to === end) return
      run = 0
      from = to
      at = to + 1
    }
  }

  /** A whole record, RS first, LF excluded: its message, or `NOT_JSON`. */
  const parse = (bytes: Buffer): unknown => {
    if (bytes.length > maxRecordBytes) return NOT_JSON
    try {
      return JSONParse(bytes.toString("utf8", 1))
    } catch {
      return NOT_JSON
    }
  }

  /** The text of `bytes[from, to)` parsed, or `NOT_JSON`. */
  const parseAt = (bytes: Buffer, from: number, to: number): unknown => {
    try {
      return JSONParse(bytes.toString("utf8", from, to))
    } catch {
      return NOT_JSON
    }
  }

  const record = (bytes: Buffer) => {
    const message = parse(bytes)
    if (message === NOT_JSON) handlers.onForeign(bytes.length)
    else handlers.onMessage(message)
  }

  /** Bytes of the record still arriving; it is let go once it cannot be a frame. */
  const hold = (bytes: Buffer) => {
    held.push(bytes)
    heldBytes += bytes.length
    if (heldBytes === 1) return
    const first = held[0]!.length > 1 ? held[0]![1] : held[1]![0]
    if (first === OPEN && heldBytes <= maxRecordBytes) return
    skipped = heldBytes
    held = []
    heldBytes = 0
  }

  /** A line: from the end of the last line (or what was carried over) to an LF, excluded. */
  const line = (bytes: Buffer) => {
    if (bytes[0] === RS && heldBytes + skipped === 0) {
      // The common case, a whole frame in one read, costs one parse: JSON
      // text cannot hold RS (a control character), so a record that parses
      // holds no other RS. Only a line that does not is searched for its last.
      const message = parse(bytes)
      if (message !== NOT_JSON) return handlers.onMessage(message)
      const rs = bytes.lastIndexOf(RS)
      if (rs === 0) return handlers.onForeign(bytes.length)
      dropTo(bytes, rs)
      return record(bytes.subarray(rs))
    }
    const rs = bytes.lastIndexOf(RS)
    if (rs === -1) {
      if (heldBytes === 0) {
        skipped += bytes.length
        return endSkipped()
      }
      held.push(bytes)
      const whole = BufferConcat(held, heldBytes + bytes.length)
      held = []
      heldBytes = 0
      return record(whole)
    }
    if (rs > 0 || heldBytes + skipped > 0) dropTo(bytes, rs)
    record(rs === 0 ? bytes : bytes.subarray(rs))
  }

  /** The end of a read, without an LF: kept from its last RS on, if that can be a frame. */
  const carry = (bytes: Buffer) => {
    const rs = bytes.lastIndexOf(RS)
    if (rs === -1) {
      if (heldBytes > 0) hold(bytes)
      else skipped += bytes.length
      return
    }
    if (rs > 0 || heldBytes + skipped > 0) dropTo(bytes, rs)
    hold(rs === 0 ? bytes : bytes.subarray(rs))
  }

  return {
    push: (chunk) => {
      let start = 0
      for (;;) {
        const lf = chunk.indexOf(LF, start)
        if (lf === -1) break
        // `line`'s common case read in place: a read of tiny tasks' answers holds dozens of
        // frames, and a view of each (a `Buffer`) was ~5% of the parent's CPU a task
        const message =
          chunk[start] === RS && heldBytes + skipped === 0 && lf - start <= maxRecordBytes
            ? parseAt(chunk, start + 1, lf)
            : NOT_JSON
        if (message !== NOT_JSON) handlers.onMessage(message)
        else line(chunk.subarray(start, lf))
        start = lf + 1
      }
      if (start < chunk.length) carry(start === 0 ? chunk : chunk.subarray(start))
    },
    partial: () => heldBytes > 0,
    buffered: () => heldBytes
  }
}

const LENGTH_BYTES = 4
/** V8's serialization format opens with this byte (its version tag) */
const V8_HEADER = 0xff

const encodeAdvanced = (message: unknown): Buffer => {
  const body = v8Serialize(message)
  const frame = BufferAllocUnsafe(LENGTH_BYTES + body.length)
  frame.writeUInt32BE(body.length, 0)
  body.copy(frame, LENGTH_BYTES)
  return frame
}

const advancedDecoder = (handlers: DecodeHandlers): Decoder => {
  let chunks: Array<Buffer> = []
  let buffered = 0
  /** the length of the frame being read, header included; -1 until its header is in */
  let frame = -1
  const joined = (): Buffer => (chunks.length === 1 ? chunks[0]! : BufferConcat(chunks))
  return {
    push: (chunk) => {
      chunks.push(chunk)
      buffered += chunk.length
      for (;;) {
        if (frame === -1) {
          if (buffered <= LENGTH_BYTES) return
          const head = chunks[0]!.length > LENGTH_BYTES ? chunks[0]! : (chunks = [joined()])[0]!
          // foreign bytes make a nonsense length: caught here rather than waited for
          if (head[LENGTH_BYTES] !== V8_HEADER) throw new ChannelBroken("a frame does not hold a V8 message")
          frame = LENGTH_BYTES + head.readUInt32BE(0)
        }
        if (buffered < frame) return
        // one copy per frame, however many chunks it came in
        const bytes = joined()
        let message: unknown
        try {
          message = v8Deserialize(bytes.subarray(LENGTH_BYTES, frame))
        } catch (error) {
          throw new ChannelBroken(`a frame could not be deserialized: ${String(error)}`)
        }
        chunks = bytes.length > frame ? [bytes.subarray(frame)] : []
        buffered = bytes.length - frame
        frame = -1
        handlers.onMessage(message)
      }
    },
    partial: () => buffered > 0,
    buffered: () => buffered
  }
}
