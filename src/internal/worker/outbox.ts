/**
 * What a worker writes to its parent: records wait in the outbox and leave in
 * one batch (`flush`), each batch with a blocking write on the pool's channel
 * (see `../channel.ts` for why it blocks): when `flush` returns, the answers
 * are in the kernel, and reach the parent whatever ends the process next.
 *
 * @internal
 */
import * as Channel from "../channel.ts"
import {
  ArrayPrototypePush,
  ArrayPrototypeSplice,
  AtomicsWait,
  BufferFrom,
  exitProcess,
  FsWriteSync,
  SetImmediate
} from "../primordials.ts"
import * as P from "../protocol.ts"

export interface Outbox {
  readonly pending: Array<P.FromWorker>
  readonly encode: (message: unknown) => string | Buffer
  /** false once the parent is gone: there is no one to answer */
  connected: boolean
}

export const make = (serialization: Channel.Serialization): Outbox => ({
  pending: [],
  encode: Channel.encoder(serialization),
  connected: true
})

/** for a blocking wait of 1 ms (Atomics.wait on a private buffer) */
const pause = new Int32Array(new SharedArrayBuffer(4))

/** Writes a batch at once and returns when it is in the kernel. Throws if it cannot be serialized. */
export const send = (outbox: Outbox, batch: ReadonlyArray<P.FromWorker>): void => {
  const frame = outbox.encode(batch)
  const bytes = typeof frame === "string" ? BufferFrom(frame, "utf8") : frame
  let offset = 0
  while (offset < bytes.length && outbox.connected) {
    try {
      offset += FsWriteSync(Channel.FROM_WORKER_FD, bytes, offset)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // the fd is blocking; EAGAIN only if something made it non-blocking
      if (code === "EAGAIN") AtomicsWait(pause, 0, 0, 1)
      else if (code !== "EINTR") return parentGone(outbox)
    }
  }
}

export const push = (outbox: Outbox, message: P.FromWorker): void => {
  ArrayPrototypePush(outbox.pending, message)
}

/**
 * Sends every record waiting. An answer whose value cannot be serialized (a
 * Schema that lets a function or a cycle through) is replaced by a codec
 * error for that job alone.
 */
export const flush = (outbox: Outbox): void => {
  if (outbox.pending.length === 0 || !outbox.connected) return
  const batch = ArrayPrototypeSplice(outbox.pending, 0, outbox.pending.length)
  try {
    send(outbox, batch)
  } catch {
    for (const message of batch) {
      try {
        send(outbox, [message])
      } catch (error) {
        if (message[0] !== P.DONE && message[0] !== P.OUTCOMES) continue
        const reason = `could not be serialized: ${error instanceof Error ? error.message : String(error)}`
        try {
          send(outbox, [[P.OUTCOMES, message[1], [[P.CODEC_ERROR, "success", reason]]]])
        } catch {
          // cannot happen: that record holds only strings and numbers
        }
      }
    }
  }
}

/** The parent is gone (its end of the channel closed): nothing is waiting for answers any more. */
export const parentGone = (outbox: Outbox): void => {
  if (!outbox.connected) return
  outbox.connected = false
  outbox.pending.length = 0
  // not at once: this may run inside a write, or inside the 'exit' event
  SetImmediate(() => exitProcess(0))
}
