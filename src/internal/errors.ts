/**
 * Every pool error, built from the event that causes it, in one place: what
 * a caller reads in a `ProcessPoolError` is written here.
 *
 * @internal
 */
import {
  PoolClosed,
  ProcessPoolError,
  TaskCodecError,
  TaskNotFound,
  Unsupported,
  WorkerCrashed,
  WorkerStartError
} from "../ProcessPoolError.ts"
import { type CodecFailure, deserializeDefect, type SerializedDefect } from "./codec.ts"
import type { TaskRef } from "./jobs.ts"
import type * as P from "./protocol.ts"

/** A worker, as errors name it (see `Slots.identity`). */
export interface WorkerIdentity {
  /** its kind's name: `"process"`, `"thread"` */
  readonly type: string
  readonly id: number
  readonly pid: number | undefined
  readonly threadId: number | undefined
  /** `worker 3 (pid 4242)`, `worker 3 (thread 7)` */
  readonly name: string
}

/** How a worker ended, as the parent saw it. */
export interface ProcessEnd {
  readonly worker: WorkerIdentity
  readonly exitCode: number | null
  readonly signal: string | null
  /** how it ended, in words: "was killed by SIGKILL", "exited with code 3: it lost its channel: ..." */
  readonly detail: string
  /** the last lines it wrote to stderr, trimmed */
  readonly stderr: string
}

/** What a reason says of the worker it names: its kind, id, and pid or thread id. */
const identityFields = (worker: WorkerIdentity) => ({
  workerType: worker.type,
  workerId: worker.id,
  ...(worker.pid !== undefined ? { pid: worker.pid } : {}),
  ...(worker.threadId !== undefined ? { threadId: worker.threadId } : {})
})

export const poolClosed = (task: TaskRef): PoolClosed => new PoolClosed({ task: task.name })

/** The worker running `task` died before it answered. */
export const workerCrashed = (task: TaskRef, end: ProcessEnd): WorkerCrashed =>
  new WorkerCrashed({
    task: task.name,
    ...identityFields(end.worker),
    exitCode: end.exitCode,
    signal: end.signal,
    detail: end.detail
  })

/** The error of a job whose task's module could not be imported. */
export const importFailed = (task: TaskRef, defect: SerializedDefect, worker: string): WorkerStartError => {
  const cause = deserializeDefect(defect, worker, task.name)
  return new WorkerStartError({
    message: `The module of task "${task.name}" could not be imported (${task.module}) in ${worker}: ${
      cause instanceof Error ? cause.message : String(cause)
    }`,
    task: task.name,
    worker,
    cause
  })
}

/** The worker died while importing a task's module or building its layer. */
export const loadFailed = (task: TaskRef, end: ProcessEnd): WorkerStartError =>
  new WorkerStartError({
    message: `The ${end.worker.name} ${end.detail} while loading task "${task.name}" (${task.module})${
      end.stderr ? `:\n${end.stderr}` : ""
    }`,
    task: task.name,
    worker: end.worker.name,
    ...(end.worker.pid !== undefined ? { pid: end.worker.pid } : {}),
    exitCode: end.exitCode,
    signal: end.signal,
    ...(end.stderr ? { stderr: end.stderr } : {})
  })

/** Why a worker did not start, for the tasks waiting for one (named later, see `withTask`). */
export type StartFailure =
  | { readonly _tag: "spawn"; readonly error: Error }
  /** `heldBy`: what the kind knows may hold a start (an inspector flag, a preloaded module) */
  | { readonly _tag: "timeout"; readonly afterMs: number; readonly heldBy: string | undefined }
  | { readonly _tag: "exited" }
  /** killed from outside this many times in a row while starting */
  | { readonly _tag: "killed"; readonly times: number }

export const startFailed = (failure: StartFailure, end: ProcessEnd): WorkerStartError => {
  const worker = end.worker
  const message =
    failure._tag === "killed"
      ? `${failure.times} worker ${worker.type}es in a row were killed by ${end.signal} while starting, the last ` +
        `(${worker.name}) too: something outside the pool kills its workers (an operator, the OOM killer); the ` +
        "tasks waiting fail, and starts resume after a back-off"
      : `The ${worker.name} ${
          failure._tag === "spawn"
            ? `could not be spawned: ${failure.error.message}`
            : failure._tag === "timeout"
              ? `did not start within ${failure.afterMs / 1000} s${failure.heldBy === undefined ? "" : ` (${failure.heldBy})`}`
              : `${end.detail} before it was ready`
        }`
  return new WorkerStartError({
    message: `${message}${end.stderr ? `:\n${end.stderr}` : ""}`,
    task: "",
    worker: worker.name,
    ...(worker.pid === undefined ? {} : { pid: worker.pid }),
    exitCode: end.exitCode,
    signal: end.signal,
    ...(end.stderr ? { stderr: end.stderr } : {}),
    ...(failure._tag === "spawn" ? { cause: failure.error } : {})
  })
}

/** The same start error, for another waiting task. */
export const withTask = (error: WorkerStartError, task: string): WorkerStartError => {
  if (error.task === task) return error
  const { cause, exitCode, message, pid, signal, stderr, worker } = error
  return new WorkerStartError({
    message,
    task,
    ...(worker !== undefined ? { worker } : {}),
    ...(pid !== undefined ? { pid } : {}),
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(signal !== undefined ? { signal } : {}),
    ...(stderr !== undefined ? { stderr } : {}),
    ...(cause !== undefined ? { cause } : {})
  })
}

/**
 * A streaming task through an engine that cannot stream (one without
 * `Engine.credit`). Local pools and the cluster's client both stream (the
 * client over a `RunStream` RPC: `cluster/clientStream.ts`), so no engine
 * refuses today; an engine that cannot must refuse at once rather than send
 * what cannot be answered element by element.
 */
export const streamUnsupported = (task: TaskRef): Unsupported =>
  new Unsupported({
    task: task.name,
    operation: "stream",
    message: `Task "${task.name}" is a streaming task, and this pool's engine cannot run one: it answers a request once, not element by element. Run it in a local pool (ProcessPool.layer)`
  })

/** A task handed to an operation that does not run its kind: `operation` is that operation. */
export const wrongKind = (task: TaskRef, operation: string, streaming: boolean): Unsupported =>
  new Unsupported({
    task: task.name,
    operation,
    message: streaming
      ? `Task "${task.name}" is a streaming task (Task.makeStream): run it with ProcessPool.stream, not ${operation}`
      : `Task "${task.name}" is not a streaming task: ProcessPool.stream runs a task of Task.makeStream; run this one with run, submit or map`
  })

export const notFound = (task: TaskRef, message: string): TaskNotFound =>
  new TaskNotFound({ task: task.name, module: task.module, message })

const PHASE_TEXT = { payload: "payload", success: "result", failure: "typed error", element: "element" } as const

/**
 * A `TaskCodecError` in one sentence that says which value of which input did
 * what: `clause` ends it ("does not fit its Schema: Expected a finite number,
 * got NaN at [\"n\"]", "could not be serialized: ..."). `index` is the
 * input's position in a `map`, `mapStream` or `asCompleted`.
 */
export const codecReason = (
  task: TaskRef,
  phase: P.CodecPhase,
  clause: string,
  cause?: unknown,
  index?: number
): TaskCodecError =>
  new TaskCodecError({
    task: task.name,
    phase,
    message: `The ${PHASE_TEXT[phase]}${phase === "element" && index !== undefined ? ` ${index}` : ""} of task "${task.name}"${index === undefined || phase === "element" ? "" : ` for input ${index}`} ${clause}`,
    ...(cause !== undefined ? { cause } : {}),
    ...(index !== undefined ? { index } : {})
  })

export const codecError = (
  task: TaskRef,
  phase: P.CodecPhase,
  clause: string,
  cause?: unknown,
  index?: number
): ProcessPoolError => new ProcessPoolError({ reason: codecReason(task, phase, clause, cause, index) })

/** A `TaskCodecError` from a codec's failure, with what the Schema threw, if it threw. */
export const codecFailed = (
  task: TaskRef,
  phase: P.CodecPhase,
  failure: CodecFailure,
  index?: number
): ProcessPoolError => codecError(task, phase, failure.message, failure.cause, index)

/** The clause of a value the channel's framing could not serialize (the codec let it through). */
export const notSerializable = (error: unknown): string =>
  `could not be serialized: ${error instanceof Error ? error.message : String(error)}`

/** A payload the channel's framing could not serialize. */
export const unserializable = (task: TaskRef, error: unknown): TaskCodecError =>
  codecReason(task, "payload", notSerializable(error))
