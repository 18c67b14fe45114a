/**
 * The child side of the seam between the pool and a kind of worker: how the
 * worker's runtime (`runtime.ts`, and everything under it) hears from its
 * parent and answers it. The runtime is the same code for every kind; a
 * kind's entry builds its transport and starts the runtime with it:
 * `processTransport.ts` (a child process: the pool's pipes on fds 3 and 4)
 * and `threadTransport.ts` (a worker thread: a private `MessagePort`).
 *
 * What a transport must do:
 * - `listen` delivers each batch the parent sent, whole and in order, and
 *   calls `onGone` once if the parent is gone or the channel can no longer be
 *   trusted; the worker then has no one to answer and ends.
 * - `send` hands a batch to the parent synchronously: once it returns, the
 *   batch reaches the parent whatever ends the worker next (`process.exit`, an
 *   uncaught exception, a kill). It throws if the batch cannot be serialized,
 *   so that the outbox can find the record at fault.
 * - `exit` ends the worker (its process, or its thread) and does not return.
 * - `memory` is what `maxWorkerMemory` is compared with, in bytes.
 *
 * @internal
 */
import type * as P from "../protocol.ts"

export interface Transport {
  /** the worker's id in its pool, for its spans and logs */
  readonly workerId: number
  /** what a job's span says of the worker besides its id: `{ "worker.pid": 1234 }` */
  readonly attributes: Readonly<Record<string, number>>
  /** `maxWorkerMemory`, in bytes, as `memory` measures it */
  readonly maxMemory: number | undefined
  /** this worker's memory: a process's RSS, a thread's heap */
  readonly memory: () => number
  /** the form of values on the channel (see `../codec.ts`) */
  readonly wire: "json" | "bytes"
  readonly listen: (onBatch: (messages: ReadonlyArray<P.ToWorker>) => void, onGone: () => void) => void
  readonly send: (batch: ReadonlyArray<P.FromWorker>) => void
  readonly exit: (code: number) => never
}
