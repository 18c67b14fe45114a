/**
 * The seam between the engine and a kind of worker. The engine knows a worker
 * only through this interface; `workerProcess.ts` implements it with child
 * processes. Another kind (worker threads) is one more implementation of it,
 * with a child entry of its own that speaks `protocol.ts`, and no change to
 * the engine.
 *
 * What a kind must do:
 * - `spawn` starts one worker at once (asynchronously) and answers its handle.
 *   The worker speaks the protocol: `READY` when it takes jobs, then answers
 *   in order (see `protocol.ts` for the ordering the engine relies on).
 * - Each frame the worker sends reaches `onMessage` as it arrived, unchecked:
 *   the engine validates it. Bytes that are not a frame go to `onForeign`; a
 *   channel that can no longer be read goes to `onBroken` (the engine kills
 *   that worker).
 * - `onGone` is called exactly once, after every frame the worker sent has
 *   reached `onMessage`: with its exit code or signal, or a spawn error.
 * - `send` writes a batch and never throws for a closed channel (`onGone`
 *   tells); it throws if the batch cannot be serialized, so that the engine
 *   can find the job at fault.
 * - `kill` ends the worker at once, whatever it is doing (a synchronous loop
 *   included); `onGone` follows.
 * - `close` releases what the kind keeps for a pool (the process kind's
 *   orphan guard), once the pool has no worker left.
 *
 * Figures the engine reads: `pid` (in errors and log annotations; -1 when
 * there is none), the worker's stderr tail for a worker that dies while
 * starting, and whether a message is still arriving (`receiving`: the engine
 * concludes nothing about what a worker has started while one is). A worker measures its own memory (`maxWorkerMemory`) and says so
 * with `OVER_MEMORY`.
 *
 * @internal
 */
import type { Serialization } from "./channel.ts"
import type * as P from "./protocol.ts"

export interface SpawnOptions {
  readonly id: number
  readonly execArgv: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly serialization: Serialization
  /** bytes of RSS after a job above which the worker asks to be replaced */
  readonly maxRss: number | undefined
  readonly stdio: "inherit" | "log"
}

export interface Handlers {
  /** One frame from the worker, not validated yet: whatever arrived on its channel. */
  readonly onMessage: (message: unknown) => void
  /** Bytes on the channel that are not a frame of the pool's. */
  readonly onForeign: (bytes: number) => void
  /** The channel can no longer be read; the worker should be killed. */
  readonly onBroken: (reason: string) => void
  /** A line the worker wrote, when its output is logged rather than inherited. */
  readonly onOutput: (stream: "stdout" | "stderr", line: string) => void
  /** Called once, when the worker is gone and every message it sent has arrived. */
  readonly onGone: (exitCode: number | null, signal: NodeJS.Signals | null, spawnError: Error | undefined) => void
}

export interface WorkerHandle {
  readonly pid: number
  /** Throws if a message cannot be serialized; a closed channel is reported by `onGone`. */
  readonly send: (messages: ReadonlyArray<P.ToWorker>) => void
  readonly kill: () => void
  /** The last bytes the worker wrote to stderr. */
  readonly stderrTail: () => string
  /** Whether part of a message from the worker has arrived and the rest is still coming. */
  readonly receiving: () => boolean
}

export interface WorkerKind {
  readonly spawn: (options: SpawnOptions, handlers: Handlers) => WorkerHandle
  readonly close: () => void
}
