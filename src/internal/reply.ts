/**
 * The caller's side of a job's end: turns what came back from a worker (or
 * from the engine: a crash, a start failure, a closed pool) into one `Exit`
 * per input, decoding values and typed errors through the task's Schemas.
 *
 * @internal
 */
import * as Exit from "effect/Exit"
import { ProcessPoolError, TaskCodecError, TaskNotFound } from "../ProcessPoolError.ts"
import type * as Task from "../Task.ts"
import { CodecFailure, codecFor, deserializeDefect } from "./codec.ts"
import { ANSWERED, ERRORED, INTERRUPTED, importFailed, type JobEnd } from "./engine.ts"
import * as P from "./protocol.ts"

const PHASE_TEXT = { payload: "payload", success: "result", failure: "typed error" } as const

/** A `TaskCodecError` with a message that says what did not fit where. */
export const codecError = (task: Task.Any, phase: P.CodecPhase, detail: string, cause?: unknown): ProcessPoolError =>
  new ProcessPoolError({
    reason: new TaskCodecError({
      task: task.name,
      phase,
      message: `The ${PHASE_TEXT[phase]} of task "${task.name}" does not fit its Schema: ${detail}`,
      ...(cause !== undefined ? { cause } : {})
    })
  })

/** A `TaskCodecError` from a codec's failure, with what the Schema threw, if it threw. */
export const codecFailed = (task: Task.Any, phase: P.CodecPhase, failure: CodecFailure): ProcessPoolError =>
  codecError(task, phase, failure.message, failure.cause)

/** An interrupted input: the caller ends interrupted. */
export const interrupted: Exit.Exit<never> = Exit.interrupt()

/**
 * The outcome of input `index` of a job, or `undefined` if that input did not
 * run (a chunk stopped at an earlier failure).
 */
export const exitAt = <A, E>(
  task: Task.Task<any, A, E>,
  end: JobEnd,
  index: number
): Exit.Exit<A, E | ProcessPoolError> | undefined => {
  switch (end[0]) {
    case INTERRUPTED:
      return interrupted
    case ERRORED:
      return Exit.fail(new ProcessPoolError({ reason: end[1] }))
    case ANSWERED: {
      const answer = end[1]
      switch (answer[0]) {
        case P.DONE:
          return decodeSuccess(task, answer[2][index])
        case P.OUTCOMES: {
          const outcome = answer[2][index]
          return outcome === undefined ? undefined : decodeOutcome(task, outcome, end[2])
        }
        case P.JOB_FAILED:
          return jobFailure(task, answer[2], end[2])
      }
    }
  }
}

const decodeSuccess = <A>(task: Task.Task<any, A, any>, wire: unknown): Exit.Exit<A, ProcessPoolError> => {
  const decoded = codecFor(task.success).decode(wire)
  return decoded instanceof CodecFailure ? Exit.fail(codecFailed(task, "success", decoded)) : Exit.succeed(decoded as A)
}

const decodeOutcome = <A, E>(
  task: Task.Task<any, A, E>,
  outcome: P.Outcome,
  pid: number
): Exit.Exit<A, E | ProcessPoolError> => {
  switch (outcome[0]) {
    case P.SUCCESS:
      return decodeSuccess(task, outcome[1])
    case P.FAILURE: {
      if (task.error === undefined) return Exit.fail(codecError(task, "failure", "the task has no `error` Schema"))
      const decoded = codecFor(task.error).decode(outcome[1])
      return decoded instanceof CodecFailure
        ? Exit.fail(codecFailed(task, "failure", decoded))
        : Exit.fail(decoded as E)
    }
    case P.DEFECT:
      return Exit.die(deserializeDefect(outcome[1], pid, task.name))
    case P.INTERRUPTED:
      return interrupted
    case P.CODEC_ERROR:
      return Exit.fail(
        codecError(
          task,
          outcome[1],
          outcome[2],
          outcome.length === 4 ? deserializeDefect(outcome[3], pid, task.name) : undefined
        )
      )
  }
}

const jobFailure = <A, E>(
  task: Task.Task<any, A, E>,
  failure: P.JobFailure,
  pid: number
): Exit.Exit<A, E | ProcessPoolError> => {
  switch (failure[0]) {
    case P.IMPORT_FAILED:
      return Exit.fail(new ProcessPoolError({ reason: importFailed(task, failure[1], pid) }))
    case P.NOT_FOUND:
      return Exit.fail(
        new ProcessPoolError({
          reason: new TaskNotFound({ task: task.name, module: task.module, message: failure[1] })
        })
      )
    case P.SETUP_FAILED:
      return decodeOutcome(task, failure[1], pid)
  }
}
