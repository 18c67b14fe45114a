/**
 * The messages between the pool (parent) and a worker process; both sides
 * import this file and no message literal appears anywhere else.
 *
 * Every IPC message is an array of these records, so that several can share
 * one write: the per-message cost of IPC dominates tiny tasks.
 *
 * Three records carry a job: a `Job` stays in the parent and holds the
 * callers' callbacks; a `Run` crosses the pipe with the encoded inputs; a
 * `Done`, `Outcomes` or `JobFailed` comes back with what happened. A job is
 * one task applied to one or more inputs (a chunk); the worker runs its inputs
 * in order and answers the job once.
 *
 * The messages travel on the pool's own channel (`channel.ts`), which a task
 * cannot write to by accident; still, the parent validates every record that
 * comes back (`isFromWorker`) before it uses it, and drops what is not one.
 *
 * A stream job (`MODE_STREAM`, one input: the payload) runs a streaming task:
 * the worker sends its elements in `Elements` batches as they come, never more
 * in all than the parent has granted with `Credit` (the first grant follows
 * the `Run` in the same batch; the parent grants more as its consumer pulls),
 * and ends the job through the same answers as any job: `Done` with no values
 * is the end of the stream, an `Outcomes` with one outcome its typed failure,
 * defect, interruption or codec error (an element's: `"element"`, its index
 * being the number of elements sent before it). Nothing is sent to a worker
 * after a stream job until that job ends: it holds its worker.
 *
 * Ordering invariants the parent relies on:
 * - a worker runs jobs one at a time, in the order their `Run`s arrived;
 * - it writes every answer it has to the channel, with a blocking write,
 *   before it starts its next job, so the oldest unanswered job of a worker is
 *   the only one that may be running, a job behind it has certainly not
 *   started, and an answer written is delivered whatever ends the process;
 * - before it starts a job it reads the messages already in its pipe when the
 *   previous job took a while, so an `Interrupt` sent for a held job is seen
 *   before that job would start.
 *
 * @internal
 */
import type { SerializedDefect } from "./codec.ts"

// ---------------------------------------------------------------------------
// parent → worker
// ---------------------------------------------------------------------------

/** Declares a task reference once per worker, so that `Run`s carry a number. */
export const DEFINE = 0
/** Runs a task on one or more inputs. */
export const RUN = 1
/** Interrupts a job: a held one never starts, a running one's fiber is interrupted. */
export const INTERRUPT = 2
/** Asks the worker to finish what it holds, release its task layers and exit. */
export const SHUTDOWN = 3
/**
 * Takes back a job the worker holds but has not started, for a worker that
 * is idle (work stealing). Answered with `Revoked`, or ignored if it started.
 */
export const REVOKE = 4

export type Define = readonly [tag: typeof DEFINE, ref: number, module: string, key: string, name: string]
/**
 * `group` (0 for none) ties the chunks of one `map` or `mapStream` together:
 * once one of them fails, the worker drops the others it holds without
 * starting them (they are cancelled anyway), answering them as interrupted.
 */
export type Run =
  | readonly [tag: typeof RUN, id: number, ref: number, mode: Mode, inputs: ReadonlyArray<unknown>, group: number]
  | readonly [
      tag: typeof RUN,
      id: number,
      ref: number,
      mode: Mode,
      inputs: ReadonlyArray<unknown>,
      group: number,
      caller: Caller
    ]

/**
 * What the worker needs of the caller's fiber, sent only when it differs from
 * the defaults: the caller's span (the job's span in the worker is its child,
 * so the trace crosses the process) and its minimum log level.
 */
export type Caller = readonly [
  span: readonly [traceId: string, spanId: string, sampled: boolean] | null,
  minimumLogLevel: string
]
export type Interrupt = readonly [tag: typeof INTERRUPT, id: number]
export type Shutdown = readonly [tag: typeof SHUTDOWN]
export type Revoke = readonly [tag: typeof REVOKE, id: number]
/**
 * Nothing to do: a frame whose only use is its number (see `Frame`), sent
 * when a worker that owes the parent an answer has been silent a while, so
 * that a worker that lost frames to a task reading its channel learns of it.
 */
export const PING = 5
export type Ping = readonly [tag: typeof PING]
/** Lets a stream job's worker send `n` more elements (see `MODE_STREAM`). */
export const CREDIT = 6
export type Credit = readonly [tag: typeof CREDIT, id: number, n: number]
export type ToWorker = Define | Run | Interrupt | Shutdown | Revoke | Ping | Credit

/**
 * What the parent writes to a worker process: its batch of messages with a
 * number one more than the previous frame's, starting at 0. A worker that
 * sees a gap, or bytes that are not a frame, knows that something else in the
 * process reads its channel (a task's timer stealing from fd 3): it can no
 * longer tell which jobs it was sent, and exits at once with
 * `CHANNEL_LOST_EXIT_CODE`.
 */
export type Frame = readonly [seq: number, messages: ReadonlyArray<ToWorker>]

/**
 * The parent's first frame to a worker process (number 0, no messages): the
 * key that every frame the worker's runtime writes back opens with
 * (`KeyedFrame`). A task can write to its process's fd 4, but the key came
 * before any task ran (a task that reads fd 3 later finds no key, and loses
 * the channel: see `Frame`), so what it writes there is dropped however well
 * it guesses job ids. A thread needs no key: it answers on a port no task can
 * reach.
 */
export type FirstFrame = readonly [seq: 0, messages: readonly [], key: number]

/** What a worker process writes: the key of its `FirstFrame`, then its batch of messages. */
export type KeyedFrame = readonly [key: number, messages: ReadonlyArray<FromWorker>]

/**
 * The exit code of a worker that lost messages from its parent (see
 * `Frame`): sysexits' EX_IOERR, which Node itself never uses.
 */
export const CHANNEL_LOST_EXIT_CODE = 74

/** `map`: stop the chunk at its first failure (later inputs are cancelled anyway). */
export const MODE_STOP_ON_FAILURE = 0
/** `asCompleted`: every input of the chunk runs and reports its own outcome. */
export const MODE_ALL = 1
/** `stream`: a streaming task on its payload, its elements sent under credit (see the header). */
export const MODE_STREAM = 2
export type Mode = typeof MODE_STOP_ON_FAILURE | typeof MODE_ALL | typeof MODE_STREAM

// ---------------------------------------------------------------------------
// worker → parent
// ---------------------------------------------------------------------------

/** The worker has loaded its runtime and takes jobs. */
export const READY = 0
/** Every input of the job succeeded: their encoded values, in order. */
export const DONE = 1
/** At least one input did not succeed: one outcome per input that ran, in order. */
export const OUTCOMES = 2
/** The job failed before any input ran (module, task lookup or layer). */
export const JOB_FAILED = 3
/**
 * The task of a reference is loaded (module imported, layer built) and its
 * inputs are about to run; sent once per reference per worker. A worker that
 * dies before this for the job it runs died loading, not running, the task.
 */
export const LOADED = 4
/** After a job, the worker's memory (RSS) is above the pool's limit: it asks to be replaced. */
export const OVER_MEMORY = 5
/** A log entry made in the worker (`Effect.log`), for the caller's logger. */
export const LOG = 6
/** A held job was taken back (`Revoke`): it never started in this worker. */
export const REVOKED = 7

export type Ready = readonly [tag: typeof READY]
export type Done = readonly [tag: typeof DONE, id: number, values: ReadonlyArray<unknown>]
export type Outcomes = readonly [tag: typeof OUTCOMES, id: number, outcomes: ReadonlyArray<Outcome>]
export type JobFailed = readonly [tag: typeof JOB_FAILED, id: number, failure: JobFailure]
export type Loaded = readonly [tag: typeof LOADED, ref: number]
export type OverMemory = readonly [tag: typeof OVER_MEMORY, rss: number]
/** `job` is -1 for an entry made outside any job (a daemon fiber that outlived its job). */
export type Log = readonly [
  tag: typeof LOG,
  job: number,
  level: string,
  message: ReadonlyArray<unknown>,
  annotations: Readonly<Record<string, unknown>>
]
export type Revoked = readonly [tag: typeof REVOKED, id: number]
/**
 * The next elements of a stream job, encoded, in order: at most the credit
 * the parent granted and they have not used. On the `"bytes"` wire a batch of
 * plain elements may come as the JSON text of their array (`Packed`, see
 * `worker/streamRun.ts`); the parent reads it back before anything else.
 */
export const ELEMENTS = 8
export type Elements = readonly [tag: typeof ELEMENTS, id: number, values: ReadonlyArray<unknown> | Packed]
/** The JSON text of a non-empty array of elements. */
export type Packed = string
export type FromWorker = Ready | Done | Outcomes | JobFailed | Loaded | OverMemory | Log | Revoked | Elements

// outcome of one input
export const SUCCESS = 0
export const FAILURE = 1
export const DEFECT = 2
export const INTERRUPTED = 3
export const CODEC_ERROR = 4

export type CodecPhase = "payload" | "success" | "failure" | "element"
export type Outcome =
  | readonly [tag: typeof SUCCESS, value: unknown]
  | readonly [tag: typeof FAILURE, error: unknown]
  /** `stack`: the typed error's stack in the worker, when it is an `Error` */
  | readonly [tag: typeof FAILURE, error: unknown, stack: string]
  | readonly [tag: typeof DEFECT, defect: SerializedDefect]
  | readonly [tag: typeof INTERRUPTED]
  | readonly [tag: typeof CODEC_ERROR, phase: CodecPhase, message: string]
  /** `cause`: what a Schema threw, where it threw rather than failed */
  | readonly [tag: typeof CODEC_ERROR, phase: CodecPhase, message: string, cause: SerializedDefect]

// failure of a whole job
/** The task's module could not be imported. */
export const IMPORT_FAILED = 0
/** The module has no task with that name. */
export const NOT_FOUND = 1
/**
 * The job failed before its inputs ran with this outcome, for every input:
 * the task's layer failed to build (its typed failure, defect or codec
 * error), or code outside the task's Effect threw while setting the job up.
 */
export const SETUP_FAILED = 2

export type JobFailure =
  | readonly [tag: typeof IMPORT_FAILED, defect: SerializedDefect]
  | readonly [tag: typeof NOT_FOUND, message: string]
  | readonly [tag: typeof SETUP_FAILED, outcome: Outcome]

/** Set in a worker's environment; its value is the worker's id in the pool. */
export const WORKER_ENV = "EFFECT_PROCESS_POOL_WORKER"

/**
 * Set in a worker process's environment: the pid of the process whose pool
 * started it. A worker leads a process group of its own, so this is what
 * ties it to its parent's process tree once the parent is gone (a test that
 * looks for what a program left behind, an operator reading `ps e`).
 */
export const PARENT_ENV = "EFFECT_PROCESS_POOL_PARENT"

/**
 * Where a worker thread finds its configuration and channel in its
 * `workerData` (see `workerThread.ts`). Its runtime takes them out before
 * any task runs: the port is the pool's channel, not for a task to reach.
 */
export const THREAD_DATA_KEY = "effect-process-pool/thread"

export interface ThreadData {
  /** the worker's id in its pool */
  readonly id: number
  /** the pool's channel to the parent */
  readonly port: import("node:worker_threads").MessagePort
  /** `maxWorkerMemory`: bytes of heap above which it asks to be replaced after a job */
  readonly maxMemory: number | undefined
  /** the form of values on the channel (see `codec.ts`) */
  readonly wire: "json" | "bytes"
  /** where the thread writes its answers of numbers (as float64s) and of short JSON text (see `answerRing.ts`) */
  readonly ring: SharedArrayBuffer
}

/** Set in a worker's environment when the pool has `maxWorkerMemory`: the limit in bytes. */
export const MAX_RSS_ENV = "EFFECT_PROCESS_POOL_MAX_RSS"

/** Set in a worker process's environment: the form of values on the channel, `"json"` or `"bytes"` (see `codec.ts`). */
export const WIRE_ENV = "EFFECT_PROCESS_POOL_WIRE"

/**
 * Set in a worker process's environment beside the NODE_COMPILE_CACHE the
 * pool sets (unless the user set NODE_DISABLE_COMPILE_CACHE): the user's own
 * NODE_COMPILE_CACHE, or "" for none. Node turns the module compile cache on
 * before the entry loads, so that the entry itself comes from the cache, and
 * a TypeScript entry (the sources) does not load Node's type stripper; the
 * pool's directory is the user's or Node's default, or a subdirectory of it
 * for a worker that holds V8's tiers while it loads (`tiering.ts`). The entry
 * puts the user's variable back before any task runs: a task, and what it
 * starts, see the environment the user gave.
 */
export const COMPILE_CACHE_ENV = "EFFECT_PROCESS_POOL_COMPILE_CACHE"

/** Set in a worker's environment: the channel's framing, `"json"` or `"advanced"` (see `channel.ts`). */
export const SERIALIZATION_ENV = "EFFECT_PROCESS_POOL_SERIALIZATION"

// ---------------------------------------------------------------------------
// validation of what comes back
// ---------------------------------------------------------------------------

const isId = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u)
const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const LOG_LEVELS: ReadonlySet<unknown> = new Set(["All", "Fatal", "Error", "Warn", "Info", "Debug", "Trace", "None"])
const PHASES: ReadonlySet<unknown> = new Set(["payload", "success", "failure", "element"])

export const isSerializedDefect = (u: unknown): u is SerializedDefect => {
  if (!isRecord(u)) return false
  if (!("error" in u)) return "value" in u
  const error = u.error
  return (
    isRecord(error) &&
    typeof error.name === "string" &&
    typeof error.message === "string" &&
    (error.stack === undefined || typeof error.stack === "string")
  )
}

export const isOutcome = (u: unknown): u is Outcome => {
  if (!Array.isArray(u)) return false
  switch (u[0]) {
    case SUCCESS:
      return u.length === 2
    case FAILURE:
      return u.length === 2 || (u.length === 3 && typeof u[2] === "string")
    case DEFECT:
      return u.length === 2 && isSerializedDefect(u[1])
    case INTERRUPTED:
      return u.length === 1
    case CODEC_ERROR:
      return (
        PHASES.has(u[1]) && typeof u[2] === "string" && (u.length === 3 || (u.length === 4 && isSerializedDefect(u[3])))
      )
    default:
      return false
  }
}

const isJobFailure = (u: unknown): u is JobFailure => {
  if (!Array.isArray(u) || u.length !== 2) return false
  switch (u[0]) {
    case IMPORT_FAILED:
      return isSerializedDefect(u[1])
    case NOT_FOUND:
      return typeof u[1] === "string"
    case SETUP_FAILED:
      return isOutcome(u[1])
    default:
      return false
  }
}

/**
 * Whether a record from a worker has the shape of one of the protocol's.
 * Whether it makes sense (an answer for a job that worker holds, with one
 * outcome per input) is for the parent to check against its state.
 */
export const isFromWorker = (u: unknown): u is FromWorker => {
  if (!Array.isArray(u)) return false
  switch (u[0]) {
    case READY:
      return u.length === 1
    case DONE:
      return u.length === 3 && isId(u[1]) && Array.isArray(u[2])
    case OUTCOMES:
      return u.length === 3 && isId(u[1]) && Array.isArray(u[2]) && u[2].length > 0 && u[2].every(isOutcome)
    case JOB_FAILED:
      return u.length === 3 && isId(u[1]) && isJobFailure(u[2])
    case LOADED:
      return u.length === 2 && isId(u[1])
    case OVER_MEMORY:
      return u.length === 2 && typeof u[1] === "number"
    case LOG:
      return u.length === 5 && isId(u[1]) && LOG_LEVELS.has(u[2]) && Array.isArray(u[3]) && isRecord(u[4])
    case REVOKED:
      return u.length === 2 && isId(u[1])
    case ELEMENTS:
      // packed: its text is read, and checked, where the elements are routed (see streamJobs.ts)
      return u.length === 3 && isId(u[1]) && (Array.isArray(u[2]) || typeof u[2] === "string") && u[2].length > 0
    default:
      return false
  }
}
