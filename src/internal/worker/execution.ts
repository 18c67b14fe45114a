/**
 * Running a job whose task is loaded: its inputs in order, each in its own
 * fiber (a synchronous task in a plain loop, an asynchronous one continued
 * from its fiber's observer), each outcome encoded through the task's
 * Schemas, and one answer for the job.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { Any as AnyTask } from "../../Task.ts"
import { CodecFailure, codecFor, NO_ERROR_SCHEMA, preview, serializeDefect, type Wire } from "../codec.ts"
import * as P from "../protocol.ts"
import type { Job } from "./job.ts"
import * as Telemetry from "./telemetry.ts"

/**
 * Groups (`map` calls) with a failed chunk are remembered so that the
 * worker drops their other chunks it holds; the oldest are forgotten past
 * this bound, since a failed group soon stops sending chunks.
 */
const MAX_FAILED_GROUPS = 256

export interface Execution {
  readonly telemetry: Telemetry.Telemetry
  /** groups with a failed chunk */
  readonly failedGroups: Set<number>
  /** the job's answer: it has ended */
  readonly finish: (answer: P.FromWorker) => void
  /** runs a step of a job, failing the job if it throws (see `runtime.ts`) */
  readonly guard: (job: Job, step: () => void) => void
  /** the form of values on the channel (see `../codec.ts`) */
  readonly wire: Wire
}

export const make = (
  telemetry: Telemetry.Telemetry,
  finish: Execution["finish"],
  guard: Execution["guard"],
  wire: Wire
): Execution => ({ telemetry, failedGroups: new Set(), finish, guard, wire })

/** Whether another chunk of the job's `map` failed: it would be cancelled anyway. */
export const groupFailed = (execution: Execution, job: Job): boolean =>
  job.group !== 0 && execution.failedGroups.has(job.group)

/**
 * What a job's inputs came to so far. While every input succeeds, only their
 * encoded values are kept (answered as one `Done`); the first input that does
 * not succeed turns them into per-input outcomes.
 */
interface Results {
  readonly values: Array<unknown>
  outcomes: Array<P.Outcome> | undefined
}

const pushOutcome = (results: Results, outcome: P.Outcome): void => {
  results.outcomes ??= results.values.map((value): P.Outcome => [P.SUCCESS, value])
  results.outcomes.push(outcome)
}

/** Runs a loaded job with the task layer's services in `base`. */
export const run = (execution: Execution, job: Job, task: AnyTask, base: Context.Context<any>): void => {
  if (job.caller !== undefined) Telemetry.startSpan(execution.telemetry, job, task, base)
  runInputs(execution, job, task, Telemetry.jobContext(execution.telemetry, job, base), 0, {
    values: [],
    outcomes: undefined
  })
}

/** Runs the job's inputs from `index` on, in order. */
const runInputs = (
  execution: Execution,
  job: Job,
  task: AnyTask,
  context: Context.Context<any>,
  index: number,
  results: Results
): void => {
  const payload = codecFor(task.payload, execution.wire)
  const fork = Effect.runForkWith(context)
  for (let i = index; i < job.inputs.length; i++) {
    if (job.interrupted) {
      pushOutcome(results, [P.INTERRUPTED])
      return complete(execution, job, results)
    }
    const decoded = payload.decode(job.inputs[i])
    if (decoded instanceof CodecFailure) {
      pushOutcome(results, codecOutcome("payload", decoded))
      if (job.mode === P.MODE_STOP_ON_FAILURE) return complete(execution, job, results)
      continue
    }
    let effect: Effect.Effect<unknown, unknown, unknown>
    try {
      effect = task.run(decoded)
    } catch (defect) {
      // `run` itself threw while building its Effect
      effect = Effect.die(defect)
    }
    // an Exit (what `Effect.succeed` and `Effect.fail` build) needs no fiber
    const fiber = Exit.isExit(effect) ? undefined : fork(effect)
    const exit = fiber === undefined ? (effect as Exit.Exit<unknown, unknown>) : fiber.pollUnsafe()
    if (exit === undefined) {
      job.fiber = fiber
      fiber!.addObserver((exit) =>
        execution.guard(job, () => {
          job.fiber = undefined
          if (record(execution, job, task, exit, results)) runInputs(execution, job, task, context, i + 1, results)
        })
      )
      return
    }
    if (!record(execution, job, task, exit, results)) return
  }
  complete(execution, job, results)
}

/** Records one input's outcome; false when the job ends here. */
const record = (
  execution: Execution,
  job: Job,
  task: AnyTask,
  exit: Exit.Exit<unknown, unknown>,
  results: Results
): boolean => {
  if (Exit.isSuccess(exit)) {
    const encoded = codecFor(task.success, execution.wire).encode(exit.value)
    if (!(encoded instanceof CodecFailure)) {
      if (results.outcomes === undefined) results.values.push(encoded)
      else results.outcomes.push([P.SUCCESS, encoded])
      return true
    }
    pushOutcome(results, codecOutcome("success", encoded))
    if (job.mode === P.MODE_ALL) return true
  } else {
    const outcome = outcomeOfFailure(task, exit.cause, execution.wire)
    pushOutcome(results, outcome)
    if (outcome[0] !== P.INTERRUPTED && job.mode === P.MODE_ALL && !job.interrupted) return true
  }
  complete(execution, job, results)
  return false
}

const complete = (execution: Execution, job: Job, results: Results): void => {
  Telemetry.endSpan(execution.telemetry, job, results.outcomes)
  if (job.group !== 0 && results.outcomes !== undefined && !job.interrupted) {
    const failed = execution.failedGroups
    failed.add(job.group)
    if (failed.size > MAX_FAILED_GROUPS) failed.delete(failed.values().next().value!)
  }
  execution.finish(
    results.outcomes === undefined ? [P.DONE, job.id, results.values] : [P.OUTCOMES, job.id, results.outcomes]
  )
}

/** The outcome of a value that did not fit its Schema, with what the Schema threw, if it threw. */
const codecOutcome = (phase: P.CodecPhase, failure: CodecFailure): P.Outcome =>
  failure.cause === undefined
    ? [P.CODEC_ERROR, phase, failure.message]
    : [P.CODEC_ERROR, phase, failure.message, serializeDefect(failure.cause)]

/** The outcome of a failed `Exit` of the task's (an input's, or its layer's). */
export const outcomeOfFailure = (task: AnyTask, cause: Cause.Cause<unknown>, wire: Wire): P.Outcome => {
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) {
    if (task.error === undefined) {
      return [P.CODEC_ERROR, "failure", `${NO_ERROR_SCHEMA} (it failed with ${preview(failure.error)})`]
    }
    const encoded = codecFor(task.error, wire).encode(failure.error)
    if (encoded instanceof CodecFailure) return codecOutcome("failure", encoded)
    const stack = failure.error instanceof Error ? failure.error.stack : undefined
    return typeof stack === "string" ? [P.FAILURE, encoded, stack] : [P.FAILURE, encoded]
  }
  const defect = cause.reasons.find(Cause.isDieReason)
  if (defect !== undefined) return [P.DEFECT, serializeDefect(defect.defect)]
  return [P.INTERRUPTED]
}
