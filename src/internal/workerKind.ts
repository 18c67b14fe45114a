/**
 * The seam between the engine and a kind of worker. The engine knows a worker
 * only through this interface; `workerProcess.ts` implements it with child
 * processes. A kind is built with its own configuration (a process kind with
 * its `execArgv`, `env`, framing...), and the engine asks it for workers by id.
 *
 * What a kind must do:
 * - `spawn` starts one worker (asynchronously) and answers its handle at once.
 *   It never throws: a worker that cannot be started (EMFILE, E2BIG...) is
 *   reported by `onEnd`, later, with `spawnError` set. The worker speaks the
 *   protocol: `READY` when it takes jobs, then answers in order (see
 *   `protocol.ts` for the ordering the engine relies on).
 * - Each frame the worker sends reaches `onFrame` as it arrived, unchecked:
 *   the engine validates it; frames read at once may reach it joined, in
 *   order (`deliverFrames`). What is not a frame of the pool's runtime goes to
 *   `onForeign`; a channel that can no longer be used (it cannot be read, or
 *   the worker can no longer read it) goes to `onBroken`: the engine kills
 *   that worker and counts it as lost, not as killed by the pool.
 * - `onEnd` is called exactly once, never from inside `spawn`, after every
 *   frame the worker sent has reached `onFrame`, with a kind-neutral account
 *   of the end (`WorkerEnd`).
 * - `send` writes a batch and never throws for a closed channel (`onEnd`
 *   tells); it throws if the batch cannot be serialized, so that the engine
 *   can find the job at fault.
 * - `kill` ends the worker at once, whatever it is doing (a synchronous loop
 *   included); `onEnd` follows.
 * - `close` releases what the kind keeps for a pool (the process kind's
 *   orphan guard), once the pool has no worker left.
 *
 * Figures the engine reads: the handle's `label` (in errors and log lines),
 * its `pid` (log annotations; none for a thread), and whether a message is
 * still arriving (`receiving`: the engine concludes nothing about what a
 * worker has started while one is). A worker measures its own memory
 * (`maxWorkerMemory`) and says so with `OVER_MEMORY`.
 *
 * @internal
 */
import type * as P from "./protocol.ts"

/** How a worker ended, as its kind saw it. */
export interface WorkerEnd {
  readonly exitCode: number | null
  /** the signal that ended a process; `null` for other kinds */
  readonly signal: string | null
  /** how it ended, in words: "was killed by SIGKILL", "exited with code 3", "could not be spawned: ..." */
  readonly detail: string
  /** it was killed by someone other than the pool (an operator, the OOM killer) */
  readonly killedFromOutside: boolean
  /** it ended because its channel was tampered with (a task read or closed it): why */
  readonly lostChannel: string | undefined
  /** it never started: the kind could not create it */
  readonly spawnError: Error | undefined
  /** the last lines it wrote to stderr, trimmed (for a worker that dies while starting) */
  readonly stderr: string
}

export interface Handlers {
  /** One frame from the worker, not validated yet: whatever arrived on its channel. */
  readonly onFrame: (frame: unknown) => void
  /** What arrived on the channel that is not a frame of the pool's runtime, said for the log. */
  readonly onForeign: (what: string) => void
  /** The channel can no longer be used; the worker should be killed. */
  readonly onBroken: (reason: string) => void
  /** A line the worker wrote, when its output is logged rather than inherited. */
  readonly onOutput: (stream: "stdout" | "stderr", line: string) => void
  /** Called once, when the worker is gone and every frame it sent has arrived. */
  readonly onEnd: (end: WorkerEnd) => void
}

export interface WorkerHandle {
  /** How errors and logs name the worker after its id: `pid 1234`. */
  readonly label: string
  /** The worker's process id, when it is a process of its own. */
  readonly pid: number | undefined
  /** The worker's `threadId`, when it is a thread. */
  readonly threadId?: number | undefined
  /** Throws if a message cannot be serialized; a closed channel is reported by `onEnd`. */
  readonly send: (messages: ReadonlyArray<P.ToWorker>) => void
  /** Whether what is sent can reach the worker; false once its channel is known to be closed (no job is sent then). */
  readonly accepting: () => boolean
  readonly kill: () => void
  /** Whether part of a message from the worker has arrived and the rest is still coming. */
  readonly receiving: () => boolean
}

export interface WorkerKind {
  /** `"process"`: what errors say died ("worker 3 (pid 1234)"). */
  readonly name: string
  readonly spawn: (id: number, handlers: Handlers) => WorkerHandle
  readonly close: () => void
  /** What may hold a worker's start, for the error of a start that timed out (an inspector flag...). */
  readonly startHint?: (() => string | undefined) | undefined
}

/**
 * Hands `onFrame` the frames read at once (one read of a pipe, one drain of a
 * thread's answers), in order: joined into one when each is a batch of
 * records, so that the engine takes them in one turn (one clock read, its
 * metrics applied once). A worker sends each answer as soon as it has it, so
 * a read of tiny tasks' answers holds dozens: measured on threads, one turn a
 * frame cost the parent ~0.2 µs a task more than one a read.
 */
export const deliverFrames = (frames: ReadonlyArray<unknown>, onFrame: (frame: unknown) => void): void => {
  if (frames.length > 1 && frames.every(Array.isArray)) return onFrame(frames.flat())
  for (const frame of frames) onFrame(frame)
}
