/**
 * What a worker writes to its parent: records wait in the outbox and leave in
 * one batch (`flush`) through the worker's transport, which hands each batch
 * over synchronously (see `transport.ts`): when `flush` returns, the answers
 * reach the parent whatever ends the worker next.
 *
 * @internal
 */
import { ArrayPrototypePush, ArrayPrototypeSplice, SetImmediate } from "../primordials.ts"
import * as P from "../protocol.ts"
import type { Transport } from "./transport.ts"

export interface Outbox {
  readonly pending: Array<P.FromWorker>
  readonly transport: Transport
  /** false once the parent is gone: there is no one to answer */
  connected: boolean
}

export const make = (transport: Transport): Outbox => ({ pending: [], transport, connected: true })

/** Sends a batch at once; throws if it cannot be serialized. */
export const send = (outbox: Outbox, batch: ReadonlyArray<P.FromWorker>): void => {
  if (outbox.connected) outbox.transport.send(batch)
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
  // not at once: this may run inside a send, or inside the 'exit' event
  SetImmediate(() => outbox.transport.exit(0))
}
