/**
 * Running a job whose task is loaded: its inputs in order, each in its own
 * fiber (a synchronous task in a plain loop, an asynchronous one continued
 * from its fiber's observer), each outcome encoded through the task's
 * Schemas, and one answer for the job.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { type Any as AnyPlainTask, isStreamTask } from "../../Task.ts"
import { CodecFailure, codecFor, serializeDefect, type ValueCodec, type Wire } from "../codec.ts"
import { PromisePrototypeThen } from "../primordials.ts"
import * as P from "../protocol.ts"
import { codecOutcome, outcomeOfFailure } from "./failures.ts"
import type { Job } from "./job.ts"
import type { AnyTask } from "./loading.ts"
import * as Telemetry from "./telemetry.ts"

/**
 * Streaming tasks' runner, loaded with the first streaming task: it brings
 * `effect/Stream`, ~31 ms of a worker's start here (a process worker's cold
 * start went from 411 to 451 ms when every worker loaded it), which a pool of
 * plain tasks never needs.
 */
let StreamRun: typeof import("./streamRun.ts") | undefined

/** Whether a streaming task can run now; else `loadStreams` first. */
export const streamsLoaded = (): boolean => StreamRun !== undefined

export const loadStreams = (): Promise<void> =>
  PromisePrototypeThen(
    import("./streamRun.ts"),
    (module) => {
      StreamRun = module
    },
    (error) => {
      throw error
    }
  )

export { outcomeOfFailure } from "./failures.ts"

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
  /** sends a record to the parent now (a stream job's elements); throws if it cannot be serialized */
  readonly send: (record: P.FromWorker) => void
  /** sends the running stream job's batch now, if one runs: before the worker ends (see `runtime.ts`) */
  flushStream: (() => void) | undefined
}

export const make = (
  telemetry: Telemetry.Telemetry,
  finish: Execution["finish"],
  guard: Execution["guard"],
  wire: Wire,
  send: Execution["send"]
): Execution => ({ telemetry, failedGroups: new Set(), finish, guard, wire, send, flushStream: undefined })

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
  const streaming = job.mode === P.MODE_STREAM
  if (streaming !== isStreamTask(task)) {
    // the parent sends a task's jobs in its own kind: only a module that changed between the two gets here
    const what = streaming ? "is not a streaming task" : "is a streaming task"
    const defect = new TypeError(
      `Task "${task.name}" ${what} in this worker, but the pool ran it as one that ${streaming ? "is" : "is not"}`
    )
    return execution.finish([P.JOB_FAILED, job.id, [P.SETUP_FAILED, [P.DEFECT, serializeDefect(defect)]]])
  }
  if (job.caller !== undefined) Telemetry.startSpan(execution.telemetry, job, task, base)
  const context = Telemetry.jobContext(execution.telemetry, job, base)
  // runtime.ts loads the runner before it runs a streaming task (`loadStreams`)
  if (isStreamTask(task)) return StreamRun!.run(execution, job, task, context)
  runInputs(execution, job, task, context, 0, {
    values: [],
    outcomes: undefined
  })
}

/** Runs the job's inputs from `index` on, in order. */
const runInputs = (
  execution: Execution,
  job: Job,
  task: AnyPlainTask,
  context: Context.Context<any>,
  index: number,
  results: Results
): void => {
  // looked up once a job, not once an input: a lookup is a WeakMap's (`codecFor`)
  const payload = codecFor(task.payload, execution.wire)
  const success = codecFor(task.success, execution.wire)
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
          if (record(execution, job, task, success, exit, results)) {
            runInputs(execution, job, task, context, i + 1, results)
          }
        })
      )
      return
    }
    if (!record(execution, job, task, success, exit, results)) return
  }
  complete(execution, job, results)
}

/** Records one input's outcome; false when the job ends here. */
const record = (
  execution: Execution,
  job: Job,
  task: AnyPlainTask,
  success: ValueCodec,
  exit: Exit.Exit<unknown, unknown>,
  results: Results
): boolean => {
  if (Exit.isSuccess(exit)) {
    const encoded = success.encode(exit.value)
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
