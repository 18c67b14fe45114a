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
 *   inside a message. A line without RS is not the pool's (bytes a task wrote
 *   to fd 4 by hand): it is dropped, and the message after it is intact even
 *   when those bytes did not end with a newline (the reader takes what
 *   follows the line's last RS).
 * - `"advanced"`: a 4-byte length, then the message in V8's serialization
 *   format (`v8.serialize`, what Node's "advanced" IPC uses). Binary frames
 *   cannot be resynchronised after foreign bytes: the parent treats such a
 *   channel as broken.
 *
 * @internal
 */
import * as NodeV8 from "node:v8"
import {
  ArrayPrototype,
  BufferAllocUnsafe,
  JSONParse,
  JSONStringify,
  ObjectHasOwn,
  ObjectPrototype
} from "./primordials.ts"

// taken before any task runs, like those of primordials.ts
const v8Serialize = NodeV8.serialize

/** The worker's fd that the parent writes to. */
export const TO_WORKER_FD = 3
/** The worker's fd that the parent reads from. */
export const FROM_WORKER_FD = 4

export type Serialization = "json" | "advanced"

/** What a decoder makes of the bytes it was given. */
export interface DecodeHandlers {
  readonly onMessage: (message: unknown) => void
  /** a run of bytes that is not a message: dropped (`json`: a line without RS, or not JSON) */
  readonly onForeign: (bytes: number) => void
}

export interface Decoder {
  /** Feeds bytes; whole messages go to `onMessage`. Throws `ChannelBroken` when the stream cannot be read any more. */
  readonly push: (chunk: Buffer) => void
  /** Whether it holds the first bytes of a message still arriving. */
  readonly partial: () => boolean
}

/** The stream can no longer be split into messages (`advanced` framing after foreign bytes). */
export class ChannelBroken extends Error {}

/** Frames one message; throws if it cannot be serialized. */
export const encoder = (serialization: Serialization): ((message: unknown) => string | Buffer) =>
  serialization === "json" ? encodeJson : encodeAdvanced

export const decoder = (serialization: Serialization, handlers: DecodeHandlers): Decoder =>
  serialization === "json" ? jsonDecoder(handlers) : advancedDecoder(handlers)

const RS = 0x1e
const LF = 0x0a

/**
 * A `toJSON` on `Object.prototype` or `Array.prototype` (a task's, or a
 * library's) would be called by `JSON.stringify` on every record: this
 * replacer gives back the value as it was before `toJSON` (the holder's own
 * property), which `JSON.stringify` then writes as it is. Slower, so used only
 * while such a `toJSON` is there.
 */
function beforeToJSON(this: Record<string, unknown>, key: string): unknown {
  return this[key]
}

const encodeJson = (message: unknown): string => {
  const text =
    ObjectHasOwn(ObjectPrototype, "toJSON") || ObjectHasOwn(ArrayPrototype, "toJSON")
      ? JSONStringify(message, beforeToJSON)
      : JSONStringify(message)
  // undefined, a function or a symbol: not a message at all
  if (text === undefined) throw new TypeError(`${typeof message} is not serializable`)
  return `\u001e${text}\n`
}

const jsonDecoder = (handlers: DecodeHandlers): Decoder => {
  /** the bytes of an unfinished line, in arrival order */
  let pending: Array<Buffer> = []
  const line = (bytes: Buffer) => {
    const rs = bytes[0] === RS ? 0 : bytes.lastIndexOf(RS)
    if (rs === -1) return handlers.onForeign(bytes.length)
    if (rs > 0) handlers.onForeign(rs)
    let message: unknown
    try {
      message = JSONParse(bytes.toString("utf8", rs + 1))
    } catch {
      return handlers.onForeign(bytes.length - rs)
    }
    handlers.onMessage(message)
  }
  return {
    push: (chunk) => {
      let start = 0
      for (;;) {
        const lf = chunk.indexOf(LF, start)
        if (lf === -1) break
        if (pending.length === 0) {
          line(chunk.subarray(start, lf))
        } else {
          pending.push(chunk.subarray(start, lf))
          const bytes = Buffer.concat(pending)
          pending = []
          line(bytes)
        }
        start = lf + 1
      }
      if (start < chunk.length) pending.push(start === 0 ? chunk : chunk.subarray(start))
    },
    partial: () => pending.length > 0
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
  const joined = (): Buffer => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
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
          message = NodeV8.deserialize(bytes.subarray(LENGTH_BYTES, frame))
        } catch (error) {
          throw new ChannelBroken(`a frame could not be deserialized: ${String(error)}`)
        }
        chunks = bytes.length > frame ? [bytes.subarray(frame)] : []
        buffered = bytes.length - frame
        frame = -1
        handlers.onMessage(message)
      }
    },
    partial: () => buffered > 0
  }
}
