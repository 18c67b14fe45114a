/**
 * The one place where a job's end becomes what its caller sees, one `Exit` per
 * input (or, when every input succeeded, just their values), and where inputs
 * are counted: completed, failed, interrupted. It decodes values and typed
 * errors through the task's Schemas (codecs never throw). A job ends once
 * (`Jobs.end`), so it is counted once; inputs that never became a job (a
 * payload that does not encode) are counted here too.
 *
 * @internal
 */
import * as Exit from "effect/Exit"
import { ProcessPoolError } from "../ProcessPoolError.ts"
import type * as Task from "../Task.ts"
import { CodecFailure, codecFor, deserializeDefect, NO_ERROR_SCHEMA, preview, type Wire } from "./codec.ts"
import * as Errors from "./errors.ts"
import type { JobEnd, TaskRef } from "./jobs.ts"
import * as Jobs from "./jobs.ts"
import * as Metrics from "./metrics.ts"
import { workerFrame } from "./origin.ts"
import * as P from "./protocol.ts"

/** The pool's outcome counters (`stats`) and the metrics that follow them. */
export interface Tally {
  completed: number
  failed: number
  readonly metrics: Metrics.Recorder
}

export const makeTally = (metrics: Metrics.Recorder): Tally => ({ completed: 0, failed: 0, metrics })

/**
 * A job's end as its caller sees it: `values` when every input succeeded (no
 * `Exit` per input: the common case is cheap), `exits` otherwise, with
 * `undefined` for an input that did not run (a chunk stopped at an earlier
 * failure). `serviceMs` is what the job cost, round trip included (NaN when
 * no worker answered it).
 */
export type Settled<A, E> =
  | { readonly values: ReadonlyArray<A>; readonly exits: undefined; readonly serviceMs: number }
  | {
      readonly values: undefined
      readonly exits: ReadonlyArray<Exit.Exit<A, E | ProcessPoolError> | undefined>
      readonly serviceMs: number
    }

/** An interrupted input: the caller ends interrupted. */
export const interrupted: Exit.Exit<never> = Exit.interrupt()

const count = (tally: Tally, task: TaskRef, completed: number, failed: number, cancelled: number): void => {
  tally.completed += completed
  tally.failed += failed
  tally.metrics.tasks(Metrics.tasksCompleted, task.name, completed)
  tally.metrics.tasks(Metrics.tasksFailed, task.name, failed)
  tally.metrics.tasks(Metrics.tasksInterrupted, task.name, cancelled)
}

/** What settling reads of a job. */
export interface Settleable<T extends TaskRef = TaskRef> {
  readonly task: T
  readonly count: number
  /** the position of its first input in the caller's inputs (`map` and the streams; none for `run`) */
  readonly first: number | undefined
  /** a stream job's consumer: how many elements came before its end (see `streamJobs.ts`) */
  readonly stream?: { readonly received: number } | undefined
}

/** What a local pool's jobs run: a task, or a streaming task. */
type AnyTask = Task.Any | Task.AnyStream

/** Turns a job's end into what its caller is given, counting its inputs. */
export type Settler<T extends TaskRef, R> = (tally: Tally, job: Settleable<T>, end: JobEnd) => R

/**
 * Settles jobs that ended for their callers, decoding their outcomes from
 * `wire` (the form values took on the channel: see `codec.ts`), and counts
 * their inputs.
 */
export const settler =
  (wire: Wire) =>
  <A, E>(tally: Tally, job: Settleable<AnyTask>, end: JobEnd): Settled<A, E> =>
    settleFrom(wire, tally, job, end)

/** Settles a job whose values came as JSON. */
export const settle: <A, E>(tally: Tally, job: Settleable<AnyTask>, end: JobEnd) => Settled<A, E> = settler("json")

const settleFrom = <A, E>(wire: Wire, tally: Tally, job: Settleable<AnyTask>, end: JobEnd): Settled<A, E> => {
  // the caller's own task: its values are the `A` and `E` it asked for (a
  // streaming task's job never has a success to decode: `StreamJobs.fitsEnd`)
  const task = job.task as Task.Task<any, A, E>
  const serviceMs = end[0] === Jobs.ANSWERED ? end[3] : Number.NaN
  if (end[0] === Jobs.ANSWERED && end[1][0] === P.DONE && job.stream !== undefined) {
    // the end of a stream: its elements went to its consumer as they came
    count(tally, task, job.count, 0, 0)
    return { values: [], exits: undefined, serviceMs }
  }
  if (end[0] === Jobs.ANSWERED && end[1][0] === P.DONE) {
    const values = decodeAll(task, end[1][2], wire)
    if (values !== undefined) {
      count(tally, task, values.length, 0, 0)
      return { values, exits: undefined, serviceMs }
    }
  }
  const exits: Array<Exit.Exit<A, E | ProcessPoolError> | undefined> = new Array(job.count)
  let completed = 0
  let failed = 0
  let cancelled = 0
  const worker = end[0] === Jobs.ANSWERED ? end[2] : "no worker"
  for (let i = 0; i < job.count; i++) {
    const index =
      job.stream !== undefined ? elementIndex(job.stream, end) : job.first === undefined ? undefined : job.first + i
    const exit = exitAt({ task, worker, wire, index }, end, i)
    exits[i] = exit
    if (exit === undefined) continue
    if (Exit.isSuccess(exit)) completed++
    else if (Exit.hasInterrupts(exit)) cancelled++
    // work refused by a closed pool never ran: it is neither completed nor failed
    else if (!(end[0] === Jobs.ERRORED && end[1]._tag === "PoolClosed")) failed++
  }
  count(tally, task, completed, failed, cancelled)
  return { values: undefined, exits, serviceMs }
}

/** An element's codec error names its place in the stream: every element before it came first. */
const elementIndex = (sink: { readonly received: number }, end: JobEnd): number | undefined => {
  const outcome = end[0] === Jobs.ANSWERED && end[1][0] === P.OUTCOMES ? end[1][2][0] : undefined
  return outcome?.[0] === P.CODEC_ERROR && outcome[1] === "element" ? sink.received : undefined
}

/**
 * Counts a job's inputs from its end as it came, and answers that end: for a
 * cluster's runner, which relays a worker's answer without decoding it (its
 * Schemas are the client's). Outcomes are read at the wire level: a `Done`
 * is all completed, a failed job all failed.
 */
export const forward: Settler<TaskRef, JobEnd> = (tally, job, end) => {
  const task = job.task
  switch (end[0]) {
    case Jobs.CANCELLED:
      count(tally, task, 0, 0, job.count)
      break
    case Jobs.ERRORED:
      if (end[1]._tag !== "PoolClosed") count(tally, task, 0, job.count, 0)
      break
    case Jobs.ANSWERED: {
      const answer = end[1]
      if (answer[0] === P.DONE) count(tally, task, job.count, 0, 0)
      else if (answer[0] === P.JOB_FAILED) count(tally, task, 0, job.count, 0)
      else {
        let completed = 0
        let cancelled = 0
        for (const outcome of answer[2]) {
          if (outcome[0] === P.SUCCESS) completed++
          else if (outcome[0] === P.INTERRUPTED) cancelled++
        }
        count(tally, task, completed, answer[2].length - completed - cancelled, cancelled)
      }
    }
  }
  return end
}

/** A tally that goes nowhere: for an end settled a second time, already counted. */
export const uncounted = (): Tally => makeTally(Metrics.noRecorder)

/** Counts the inputs of a job its caller interrupted (its callers resume through their stop callbacks). */
export const cancelled = (tally: Tally, job: Settleable): void => count(tally, job.task, 0, 0, job.count)

/** The `Exit` of an input whose payload did not encode (it never becomes a job), counted as failed. */
export const refused = (
  tally: Tally,
  task: TaskRef,
  failure: CodecFailure,
  index?: number
): Exit.Exit<never, ProcessPoolError> => {
  count(tally, task, 0, 1, 0)
  return Exit.fail(Errors.codecFailed(task, "payload", failure, index))
}

/** The decoded values of a chunk whose inputs all succeeded, or `undefined` if one does not decode. */
const decodeAll = <A>(
  task: Task.Task<any, A, any>,
  encoded: ReadonlyArray<unknown>,
  wire: Wire
): ReadonlyArray<A> | undefined => {
  const codec = codecFor(task.success, wire)
  // values that decode to themselves (numbers, strings) keep the parsed array
  if (codec.allAsIs?.(encoded) === true) return encoded as ReadonlyArray<A>
  let values: Array<A> | undefined
  for (let i = 0; i < encoded.length; i++) {
    const value = codec.decode(encoded[i])
    if (value instanceof CodecFailure) return undefined
    if (values === undefined && value !== encoded[i]) values = encoded.slice(0, i) as Array<A>
    if (values !== undefined) values.push(value as A)
  }
  return values ?? (encoded as ReadonlyArray<A>)
}

/** Where an outcome belongs: its task, the worker that answered it, the input's position (when there is one). */
interface At<A, E> {
  readonly task: Task.Task<any, A, E>
  /** its name, `worker 3 (pid 4242)` */
  readonly worker: string
  /** the form its values took on the channel */
  readonly wire: Wire
  readonly index: number | undefined
}

const exitAt = <A, E>(at: At<A, E>, end: JobEnd, i: number): Exit.Exit<A, E | ProcessPoolError> | undefined => {
  switch (end[0]) {
    case Jobs.CANCELLED:
      return interrupted
    case Jobs.ERRORED:
      return Exit.fail(new ProcessPoolError({ reason: end[1] }))
    case Jobs.ANSWERED: {
      const answer = end[1]
      switch (answer[0]) {
        case P.DONE:
          return decodeSuccess(at, answer[2][i])
        case P.OUTCOMES: {
          const outcome = answer[2][i]
          return outcome === undefined ? undefined : decodeOutcome(at, outcome)
        }
        case P.JOB_FAILED:
          return jobFailure(at, answer[2])
      }
    }
  }
}

const decodeSuccess = <A>(at: At<A, any>, wire: unknown): Exit.Exit<A, ProcessPoolError> => {
  const decoded = codecFor(at.task.success, at.wire).decode(wire)
  return decoded instanceof CodecFailure
    ? Exit.fail(Errors.codecFailed(at.task, "success", decoded, at.index))
    : Exit.succeed(decoded as A)
}

const decodeOutcome = <A, E>(at: At<A, E>, outcome: P.Outcome): Exit.Exit<A, E | ProcessPoolError> => {
  const { index, task, worker } = at
  switch (outcome[0]) {
    case P.SUCCESS:
      return decodeSuccess(at, outcome[1])
    case P.FAILURE: {
      if (task.error === undefined)
        return Exit.fail(Errors.codecError(task, "failure", NO_ERROR_SCHEMA, undefined, index))
      const decoded = codecFor(task.error, at.wire).decode(outcome[1])
      if (decoded instanceof CodecFailure) return Exit.fail(Errors.codecFailed(task, "failure", decoded, index))
      rebuiltStack(decoded, outcome[1], outcome.length === 3 ? outcome[2] : undefined, worker, task.name)
      return Exit.fail(decoded as E)
    }
    case P.DEFECT:
      return Exit.die(deserializeDefect(outcome[1], worker, task.name))
    case P.INTERRUPTED:
      return interrupted
    case P.CODEC_ERROR:
      return Exit.fail(
        Errors.codecError(
          task,
          outcome[1],
          outcome[2],
          outcome.length === 4 ? deserializeDefect(outcome[3], worker, task.name) : undefined,
          index
        )
      )
  }
}

/**
 * A typed error rebuilt by its Schema in the parent has the parent's stack
 * (Schema's own frames), which says nothing: it gets the worker's stack
 * instead, with a first frame that names the worker and the task, as a
 * defect's does (`origin.ts`), and the error's fields (a `TaggedError` without
 * a `message` field has an empty message).
 */
const rebuiltStack = (error: unknown, wire: unknown, stack: string | undefined, worker: string, task: string): void => {
  if (!(error instanceof Error)) return
  const frames =
    stack === undefined
      ? ""
      : stack.slice(stack.indexOf("\n    at ") === -1 ? stack.length : stack.indexOf("\n    at "))
  // The error's own message stays as it is (the worker's instance has it; a
  // TaggedError without a `message` field has none). `Cause.pretty` prints
  // `name: message`, then the stack's lines after the first: so the fields go
  // on the worker's line too.
  const fields = preview(withoutTag(wire))
  const head = `${error.name}: ${error.message === "" ? fields : error.message}`
  try {
    error.stack = `${head}\n${workerFrame(worker, task, `a typed error: ${fields}`)}${frames}`
  } catch {
    // a class that made `stack` read-only keeps its own
  }
}

const withoutTag = (wire: unknown): unknown => {
  if (typeof wire !== "object" || wire === null || !("_tag" in wire)) return wire
  const { _tag, ...fields } = wire as Record<string, unknown>
  return fields
}

const jobFailure = <A, E>(at: At<A, E>, failure: P.JobFailure): Exit.Exit<A, E | ProcessPoolError> => {
  switch (failure[0]) {
    case P.IMPORT_FAILED:
      return Exit.fail(new ProcessPoolError({ reason: Errors.importFailed(at.task, failure[1], at.worker) }))
    case P.NOT_FOUND:
      return Exit.fail(new ProcessPoolError({ reason: Errors.notFound(at.task, failure[1]) }))
    case P.SETUP_FAILED:
      return decodeOutcome(at, failure[1])
  }
}
