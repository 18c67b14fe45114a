/**
 * The pool's operations (`ProcessPool.Service`) over an engine: `run` and
 * `submit` here, `map`, `mapStream` and `asCompleted` by their drivers. Input
 * validation is `options.ts`'s; what an end means for the caller is
 * `outcomes.ts`'s.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Completed, MapOptions, Service, StreamOptions, StreamTaskOptions } from "../ProcessPool.ts"
import { ProcessPoolError } from "../ProcessPoolError.ts"
import { isStreamTask, type StreamTask, type Task } from "../Task.ts"
import { callerOf } from "./caller.ts"
import { CodecFailure, codecFor } from "./codec.ts"
import * as CompletionStream from "./completionStream.ts"
import type * as Engine from "./engine.ts"
import * as Errors from "./errors.ts"
import { JobFiber } from "./jobFiber.ts"
import * as MapDriver from "./map.ts"
import * as Options from "./options.ts"
import * as OrderedStream from "./orderedStream.ts"
import * as Outcomes from "./outcomes.ts"
import * as P from "./protocol.ts"
import * as TaskStream from "./taskStream.ts"

/**
 * A task whose kind the operation does not run (a streaming task given to
 * `run`, a plain one to `stream`): its types refuse it, so only a cast or
 * untyped code gets here, and it fails with `Unsupported` saying which to use.
 */
const wrongKind = (task: { readonly name: string; readonly module: string; readonly key: string }, operation: string) =>
  new ProcessPoolError({ reason: Errors.wrongKind(task, operation, isStreamTask(task)) })

/** The exit of a one-input job's input. */
const exitOf = <A, E>(settled: Outcomes.Settled<A, E>): Exit.Exit<A, E | ProcessPoolError> =>
  settled.values !== undefined ? Exit.succeed(settled.values[0]!) : settled.exits[0]!

/**
 * A one-input job's `onEnd`, one function for every job: its target is the
 * caller's resume callback (`run`) or its `JobFiber` (`submit`), so that no
 * job holds a closure of its own (see `Jobs.Request.target`).
 */
const resumeWith = <A, E>(
  settled: Outcomes.Settled<A, E>,
  resume: (exit: Exit.Exit<A, E | ProcessPoolError>) => void
): void => resume(exitOf(settled))
const endFiber = <A, E>(settled: Outcomes.Settled<A, E>, fiber: JobFiber<A, E | ProcessPoolError>): void =>
  fiber.end(exitOf(settled))

/** The end of a task that never became a job (see `encodeOne`): not a value any Schema encodes to. */
class Refused {
  readonly exit: Exit.Exit<never, ProcessPoolError>
  constructor(exit: Exit.Exit<never, ProcessPoolError>) {
    this.exit = exit
  }
}

/**
 * The operations over an engine: a local pool's, or another that keeps the
 * engine's contract (a cluster's). `workers` is read at each call: how many
 * chunks can run at once, for `"auto"` chunks and the default `bufferSize`.
 */
export const makeService = <H>(engine: Engine.PoolEngine<H>, workers: () => number, fibers: Scope.Scope): Service => {
  /**
   * One task's payload, encoded: what its job carries, or, for a task that
   * never becomes a job (a streaming task, a payload its Schema refuses), its end.
   */
  const encodeOne = <I, A, E>(task: Task<I, A, E>, payload: I): unknown => {
    if (isStreamTask(task)) return new Refused(Exit.fail(wrongKind(task, "run")))
    const encoded = codecFor(task.payload, engine.wire).encode(payload)
    return encoded instanceof CodecFailure ? new Refused(Outcomes.refused(engine.tally, task, encoded)) : encoded
  }

  /**
   * Submits one task's encoded payload; `onEnd` gets its settled outcome and
   * `target` (`resumeWith` and `endFiber`).
   */
  const submitOne = <A, E, T>(
    task: Task<any, A, E>,
    encoded: unknown,
    caller: Fiber.Fiber<unknown, unknown>,
    onEnd: (settled: Outcomes.Settled<A, E>, target: T) => void,
    target: T,
    onAdmitted: (() => void) | undefined
  ): H =>
    engine.submit({
      task,
      inputs: [encoded],
      mode: P.MODE_STOP_ON_FAILURE,
      onEnd,
      target,
      caller: callerOf(caller),
      onAdmitted
    })

  // the hot path of one task: one fiber step to encode and submit, one to resume
  const runJob = <I, A, E>(
    task: Task<I, A, E>,
    payload: I,
    onAdmitted: (() => void) | undefined
  ): Effect.Effect<A, E | ProcessPoolError> =>
    Effect.withFiber((fiber) => {
      const encoded = encodeOne(task, payload)
      if (encoded instanceof Refused) return encoded.exit
      return Effect.callback<A, E | ProcessPoolError>((resume) => {
        const job = submitOne(task, encoded, fiber, resumeWith, resume, onAdmitted)
        // interrupting the caller interrupts the job (or takes it out of the
        // admission line), and resumes once it has really stopped
        return Effect.callback<void>((stopped) => engine.interrupt(job, () => stopped(Effect.void)))
      })
    })

  const run = <I, A, E>(task: Task<I, A, E>, payload: NoInfer<I>): Effect.Effect<A, E | ProcessPoolError> =>
    runJob(task, payload, undefined)

  const submit = <I, A, E>(
    task: Task<I, A, E>,
    payload: NoInfer<I>
  ): Effect.Effect<Fiber.Fiber<A, E | ProcessPoolError>> =>
    engine.maxQueue === Number.POSITIVE_INFINITY ? submitUnbounded(task, payload) : submitAdmitted(task, payload)

  /** Without `maxQueue`, the job starts at once and its handle is a `JobFiber`, not a forked fiber (see there). */
  const submitUnbounded = <I, A, E>(
    task: Task<I, A, E>,
    payload: I
  ): Effect.Effect<Fiber.Fiber<A, E | ProcessPoolError>> =>
    Effect.withFiber((parent) => {
      const fiber = new JobFiber<A, E | ProcessPoolError>(parent)
      const encoded = encodeOne(task, payload)
      if (encoded instanceof Refused) {
        fiber.end(encoded.exit)
      } else {
        const job = submitOne(task, encoded, parent, endFiber, fiber, undefined)
        fiber.started(engine.interrupt, job)
      }
      return Effect.succeed(fiber)
    })

  /**
   * With `maxQueue`, `submit` returns its fiber once the task is admitted (or
   * has ended without: refused, or the pool closed), so that a loop of
   * `submit`s goes at the pool's pace. The fiber is the pool's from the start:
   * a caller interrupted while it waits interrupts it, which takes its job
   * out of the line.
   */
  const submitAdmitted = <I, A, E>(task: Task<I, A, E>, payload: I) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        const admitted = Deferred.makeUnsafe<void>()
        const open = () => {
          Deferred.doneUnsafe(admitted, Effect.void)
        }
        return Effect.forkIn(runJob(task, payload, open), fibers, { startImmediately: true }).pipe(
          Effect.tap((fiber) => {
            fiber.addObserver(open)
            return restore(Deferred.await(admitted)).pipe(Effect.onInterrupt(() => Fiber.interrupt(fiber)))
          })
        )
      })
    )

  const map = <I, A, E>(
    task: Task<I, A, E>,
    inputs: Iterable<NoInfer<I>>,
    options?: MapOptions
  ): Effect.Effect<Array<A>, E | ProcessPoolError> =>
    isStreamTask(task)
      ? Effect.fail(wrongKind(task, "map"))
      : MapDriver.map(engine, workers(), task, inputs, options).pipe(
          Effect.withSpan("ProcessPool.map", { attributes: { "task.name": task.name } })
        )

  const mapStream = <I, A, E, EI = never, RI = never>(
    task: Task<I, A, E>,
    inputs: Iterable<NoInfer<I>> | Stream.Stream<NoInfer<I>, EI, RI>,
    options?: StreamOptions
  ): Stream.Stream<A, E | ProcessPoolError | EI, RI> => {
    if (isStreamTask(task)) return Stream.fail(wrongKind(task, "mapStream"))
    const validated = Options.streamOptions(options, workers())
    return Result.isFailure(validated)
      ? Stream.die(new Cause.IllegalArgumentError(validated.failure))
      : OrderedStream.orderedStream(engine, task, inputs, validated.success).pipe(
          Stream.withSpan("ProcessPool.mapStream", { attributes: { "task.name": task.name } })
        )
  }

  const asCompleted = <I, A, E, EI = never, RI = never>(
    task: Task<I, A, E>,
    inputs: Iterable<NoInfer<I>> | Stream.Stream<NoInfer<I>, EI, RI>,
    options?: StreamOptions
  ): Stream.Stream<Completed<I, A, E>, EI, RI> => {
    // its elements carry exits: a task of the wrong kind is each input's failure, as in `map`
    if (isStreamTask(task)) return Stream.die(new Cause.IllegalArgumentError(wrongKind(task, "asCompleted").message))
    const validated = Options.streamOptions(options, workers())
    return Result.isFailure(validated)
      ? Stream.die(new Cause.IllegalArgumentError(validated.failure))
      : CompletionStream.completionStream(engine, task, inputs, validated.success).pipe(
          Stream.withSpan("ProcessPool.asCompleted", { attributes: { "task.name": task.name } })
        )
  }

  const stream = <I, A, E>(
    task: StreamTask<I, A, E>,
    payload: NoInfer<I>,
    options?: StreamTaskOptions
  ): Stream.Stream<A, E | ProcessPoolError> => {
    if (!isStreamTask(task)) return Stream.fail(wrongKind(task, "stream"))
    const bufferSize = TaskStream.bufferSizeOf(options)
    return Result.isFailure(bufferSize)
      ? Stream.die(new Cause.IllegalArgumentError(bufferSize.failure))
      : TaskStream.taskStream(engine, task, payload, bufferSize.success).pipe(
          Stream.withSpan("ProcessPool.stream", { attributes: { "task.name": task.name } })
        )
  }

  return { run, submit, map, mapStream, asCompleted, stream, stats: Effect.sync(engine.stats) }
}
