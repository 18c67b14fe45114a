/**
 * One task over many inputs, in chunks: the engine behind `map`, `mapStream`
 * and `asCompleted`.
 *
 * Inputs are cut into chunks (contiguous runs of inputs); a chunk is one job,
 * one IPC message each way. Three drivers decide when chunks are made and in
 * which order their results leave:
 *
 * - `map`: all inputs are known; chunks are submitted eagerly (a fixed size)
 *   or as results come back (`"auto"`, which learns its size); results are
 *   collected in input order.
 * - `orderedStream` (`mapStream`): a feeder fiber pulls inputs only as needed
 *   and keeps at most `bufferSize` chunks submitted but not yet emitted (Python
 *   3.14's `buffersize`); results leave in input order.
 * - `completionStream` (`asCompleted`): the same feeder; each input leaves as an
 *   element `{ index, input, exit }` as soon as its chunk completes.
 *
 * Failure: in `map` and `mapStream` a failing input ends the run with the
 * error of the earliest failing input (as iterating Python's `map` would):
 * chunks after it are interrupted in their workers and no new chunk starts,
 * while the chunks before it finish, since one of them may fail earlier. In
 * `asCompleted` every input of every chunk runs and reports its own `Exit`.
 *
 * Every driver waits for all of its chunks to have really stopped before it
 * ends, however it ends.
 *
 * @internal
 */
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Pull from "effect/Pull"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { ProcessPoolError } from "../ProcessPoolError.ts"
import type { Task } from "../Task.ts"
import * as AutoChunk from "./autoChunk.ts"
import { callerOf } from "./caller.ts"
import { CodecFailure, codecFor } from "./codec.ts"
import * as Engine from "./engine.ts"
import { illegal, isPositiveInteger, show } from "./options.ts"
import * as P from "./protocol.ts"
import { codecFailed, exitAt, interrupted } from "./reply.ts"

export type ChunkSize = number | "auto"

/**
 * `map` with `"auto"` keeps this many chunks per worker submitted, so that a
 * worker finishing a chunk finds the next one already queued.
 */
const AUTO_CHUNKS_PER_WORKER = 2

/**
 * How long a chunk waits for more inputs from a slow `Stream` before it leaves
 * with the inputs it has: a chunk size learned on fast inputs must not hold a
 * slow stream's first results back for long.
 */
const CHUNK_LINGER_MS = AutoChunk.TARGET_CHUNK_MS

// ---------------------------------------------------------------------------
// validation
// ---------------------------------------------------------------------------

/** The default of `chunksize` everywhere; see `AutoChunk` for why. */
export const DEFAULT_CHUNKSIZE: ChunkSize = "auto"

export const validateChunksize = (chunksize: unknown): Result.Result<ChunkSize, string> => {
  if (chunksize === undefined) return Result.succeed(DEFAULT_CHUNKSIZE)
  if (chunksize === "auto" || isPositiveInteger(chunksize)) return Result.succeed(chunksize)
  return Result.fail(`Expected \`chunksize\` to be a positive integer or "auto", got ${show(chunksize)}`)
}

export const validateBufferSize = (bufferSize: unknown, fallback: number): Result.Result<number, string> => {
  if (bufferSize === undefined) return Result.succeed(fallback)
  if (isPositiveInteger(bufferSize)) return Result.succeed(bufferSize)
  return Result.fail(`Expected \`bufferSize\` to be a positive integer, got ${show(bufferSize)}`)
}

export interface StreamOptions {
  readonly chunksize: ChunkSize
  readonly bufferSize: number
  readonly workers: number
}

/** `bufferSize` defaults to this many chunks per worker: enough to keep every worker busy. */
const DEFAULT_BUFFER_CHUNKS_PER_WORKER = 2

export const validateStreamOptions = (
  chunksize: unknown,
  bufferSize: unknown,
  workers: number
): Result.Result<StreamOptions, string> => {
  const validChunksize = validateChunksize(chunksize)
  if (Result.isFailure(validChunksize)) return Result.fail(validChunksize.failure)
  const validBufferSize = validateBufferSize(bufferSize, DEFAULT_BUFFER_CHUNKS_PER_WORKER * workers)
  if (Result.isFailure(validBufferSize)) return Result.fail(validBufferSize.failure)
  return Result.succeed({ chunksize: validChunksize.success, bufferSize: validBufferSize.success, workers })
}

// ---------------------------------------------------------------------------
// chunks
// ---------------------------------------------------------------------------

/** A contiguous run of inputs, sent as one job (or failed before sending). */
interface Chunk<I, A, E> {
  /** index of its first input */
  readonly start: number
  /** the caller's own inputs, kept only for `asCompleted` */
  readonly inputs: ReadonlyArray<I> | undefined
  readonly count: number
  job: Engine.Job | undefined
  ended: boolean
  /** once ended, when every input succeeded: their values, in order (no `Exit` per input: the common case is cheap) */
  values: ReadonlyArray<A> | undefined
  /** once ended, otherwise: one per input; `undefined` for an input that did not run */
  exits: ReadonlyArray<Exit.Exit<A, E | ProcessPoolError> | undefined> | undefined
  /** what the chunk cost, round trip included (NaN when it did not run) */
  serviceMs: number
}

/** A chunk's outcome as one `Exit` per input, whichever way it ended. */
const exitsOf = <I, A, E>(chunk: Chunk<I, A, E>): ReadonlyArray<Exit.Exit<A, E | ProcessPoolError> | undefined> =>
  chunk.exits ?? chunk.values!.map((value) => Exit.succeed(value))

/**
 * Submits chunks of one task and turns their ends into one `Exit` per input.
 * `onDone` is called once per chunk, never before `submit` has returned.
 */
class Fanout<I, A, E> {
  private readonly engine: Engine.Engine
  private readonly task: Task<I, A, E>
  private readonly mode: P.Mode
  private readonly keepInputs: boolean
  private readonly onDone: (chunk: Chunk<I, A, E>) => void
  private readonly caller: Engine.Caller
  private readonly unfinished = new Set<Chunk<I, A, E>>()
  private readonly group = nextGroup++
  private stopWaiters: Array<() => void> = []

  constructor(
    engine: Engine.Engine,
    task: Task<I, A, E>,
    mode: P.Mode,
    keepInputs: boolean,
    caller: Engine.Caller,
    onDone: (chunk: Chunk<I, A, E>) => void
  ) {
    this.caller = caller
    this.engine = engine
    this.task = task
    this.mode = mode
    this.keepInputs = keepInputs
    this.onDone = onDone
  }

  get pending(): number {
    return this.unfinished.size
  }

  /**
   * Sends `inputs` (the caller's, from index `start`) as one chunk, or as
   * several where an input fails to encode: that input becomes a chunk of its
   * own, failed at once. Answers the chunks in input order.
   *
   * `inputs` is a fresh array the fanout owns from here on: when every input
   * encodes to itself (numbers, strings), it is sent as it is, without a copy.
   * A stream keeps a few chunks in flight for as long as their workers take,
   * long enough for V8 to promote them: one array per chunk instead of two
   * halves what it promotes.
   */
  submit(inputs: ReadonlyArray<I>, start: number): Array<Chunk<I, A, E>> {
    const codec = codecFor(this.task.payload)
    const chunks: Array<Chunk<I, A, E>> = []
    let from = 0
    /** the wire values of inputs[from, i); `undefined` while they are the inputs themselves */
    let encoded: Array<unknown> | undefined
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]
      const result = codec.encode(input)
      if (!(result instanceof CodecFailure)) {
        if (encoded !== undefined) encoded.push(result)
        else if (result !== input) {
          encoded = inputs.slice(from, i)
          encoded.push(result)
        }
        continue
      }
      if (i > from) chunks.push(this.send(inputs, start, from, encoded ?? inputs.slice(from, i)))
      const failed = this.chunk(inputs, start, i, 1)
      failed.ended = true
      failed.exits = [Exit.fail(codecFailed(this.task, "payload", result))]
      chunks.push(failed)
      from = i + 1
      encoded = undefined
    }
    if (inputs.length > from) {
      chunks.push(this.send(inputs, start, from, encoded ?? (from === 0 ? inputs : inputs.slice(from))))
    }
    for (const chunk of chunks) {
      if (chunk.job !== undefined) continue
      // failed before sending: reported like the others, after `submit` returns,
      // and pending until then (a stream must not end before it is reported)
      this.engine.record(this.task.name, 0, 1, 0)
      this.unfinished.add(chunk)
      queueMicrotask(() => {
        this.finished(chunk)
        this.onDone(chunk)
      })
    }
    return chunks
  }

  private chunk(inputs: ReadonlyArray<I>, start: number, from: number, count: number): Chunk<I, A, E> {
    return {
      start: start + from,
      inputs: this.keepInputs
        ? from === 0 && count === inputs.length
          ? inputs
          : inputs.slice(from, from + count)
        : undefined,
      count,
      job: undefined,
      ended: false,
      values: undefined,
      exits: undefined,
      serviceMs: Number.NaN
    }
  }

  private send(inputs: ReadonlyArray<I>, start: number, from: number, encoded: ReadonlyArray<unknown>) {
    const chunk = this.chunk(inputs, start, from, encoded.length)
    this.unfinished.add(chunk)
    chunk.job = this.engine.submit(
      this.task,
      encoded,
      this.mode,
      (end) => this.end(chunk, end),
      this.caller,
      this.mode === P.MODE_STOP_ON_FAILURE ? this.group : 0
    )
    return chunk
  }

  private end(chunk: Chunk<I, A, E>, end: Engine.JobEnd): void {
    if (chunk.ended) return // already ended by an interruption
    chunk.ended = true
    if (end[0] === Engine.ANSWERED) chunk.serviceMs = end[3]
    if (end[0] === Engine.ANSWERED && end[1][0] === P.DONE) {
      const values = this.decodeAll(end[1][2])
      if (values !== undefined) {
        chunk.values = values
        this.engine.record(this.task.name, values.length, 0, 0)
        this.finished(chunk)
        return this.onDone(chunk)
      }
    }
    const exits: Array<Exit.Exit<A, E | ProcessPoolError> | undefined> = new Array(chunk.count)
    let completed = 0
    let failed = 0
    let interrupted = 0
    for (let i = 0; i < chunk.count; i++) {
      const exit = exitAt(this.task, end, i)
      exits[i] = exit
      if (exit === undefined) continue
      if (Exit.isSuccess(exit)) completed++
      else if (Exit.hasInterrupts(exit)) interrupted++
      else failed++
    }
    this.engine.record(this.task.name, completed, failed, interrupted)
    chunk.exits = exits
    this.finished(chunk)
    this.onDone(chunk)
  }

  /** The decoded values of a chunk whose inputs all succeeded, or `undefined` if one does not decode. */
  private decodeAll(wire: ReadonlyArray<unknown>): ReadonlyArray<A> | undefined {
    const codec = codecFor(this.task.success)
    // values that decode to themselves (numbers, strings) keep the parsed array
    let values: Array<A> | undefined
    for (let i = 0; i < wire.length; i++) {
      const value = codec.decode(wire[i])
      if (value instanceof CodecFailure) return undefined
      if (values === undefined && value !== wire[i]) values = wire.slice(0, i) as Array<A>
      if (values !== undefined) values.push(value as A)
    }
    return values ?? (wire as ReadonlyArray<A>)
  }

  private finished(chunk: Chunk<I, A, E>): void {
    this.unfinished.delete(chunk)
    if (this.unfinished.size === 0 && this.stopWaiters.length > 0) {
      const waiters = this.stopWaiters
      this.stopWaiters = []
      for (const waiter of waiters) waiter()
    }
  }

  /** Interrupts the unfinished chunks that start after input `index`. */
  interruptAfter(index: number): void {
    for (const chunk of [...this.unfinished]) {
      if (chunk.start > index) this.interrupt(chunk)
    }
  }

  /** Interrupts every unfinished chunk; `onStopped` once all have really stopped. */
  stopAll(onStopped: () => void): void {
    if (this.unfinished.size === 0) return onStopped()
    this.stopWaiters.push(onStopped)
    for (const chunk of [...this.unfinished]) this.interrupt(chunk)
  }

  private interrupt(chunk: Chunk<I, A, E>): void {
    // a chunk failed before sending has no job, and is finished in a microtask
    if (chunk.job === undefined) return
    // the engine ends a job interrupted by its caller through this callback,
    // not through the job's `onEnd`
    this.engine.interrupt(chunk.job, () => {
      if (chunk.ended) return
      chunk.ended = true
      this.engine.record(this.task.name, 0, 0, chunk.count)
      chunk.exits = new Array(chunk.count).fill(interrupted)
      this.finished(chunk)
      this.onDone(chunk)
    })
  }
}

/** Numbers the `map` and `mapStream` calls of this process (see `P.Run`). */
let nextGroup = 1

/** The first input of a chunk that did not succeed: its offset and exit. */
const firstFailure = <I, A, E>(
  chunk: Chunk<I, A, E>
): readonly [offset: number, exit: Exit.Exit<A, E | ProcessPoolError>] | undefined => {
  const exits = chunk.exits
  if (exits === undefined) return undefined
  for (let i = 0; i < exits.length; i++) {
    const exit = exits[i]
    if (exit !== undefined && Exit.isFailure(exit)) return [i, exit]
  }
  return undefined
}

// ---------------------------------------------------------------------------
// map
// ---------------------------------------------------------------------------

export const map = <I, A, E>(
  engine: Engine.Engine,
  workers: number,
  task: Task<I, A, E>,
  inputs: Iterable<I>,
  chunksizeOption: unknown
): Effect.Effect<Array<A>, E | ProcessPoolError> =>
  Effect.suspend(() => {
    const validated = validateChunksize(chunksizeOption)
    if (Result.isFailure(validated)) return illegal(validated.failure)
    const chunksize = validated.success
    // Python's Executor.map also takes the whole iterable at once
    const items = Array.isArray(inputs) ? (inputs as ReadonlyArray<I>) : Array.from(inputs)
    if (items.length === 0) return Effect.succeed([])
    return Effect.withFiber((fiber) =>
      Effect.callback<Array<A>, E | ProcessPoolError>((resume) => {
        const results: Array<A> = new Array(items.length)
        const window = chunksize === "auto" ? workers * AUTO_CHUNKS_PER_WORKER : Number.POSITIVE_INFINITY
        let auto = AutoChunk.initial
        let next = 0
        let failedAt = Number.POSITIVE_INFINITY
        let failure: Exit.Exit<never, E | ProcessPoolError> | undefined
        let filling = false
        let finished = false

        const onDone = (chunk: Chunk<I, A, E>) => {
          if (chunksize === "auto" && chunk.serviceMs >= 0) auto = AutoChunk.observe(auto, chunk.count, chunk.serviceMs)
          const failed = firstFailure(chunk)
          if (chunk.values !== undefined) {
            for (let i = 0; i < chunk.values.length; i++) results[chunk.start + i] = chunk.values[i]!
          } else {
            const exits = chunk.exits!
            const upTo = failed === undefined ? exits.length : failed[0]
            for (let i = 0; i < upTo; i++) results[chunk.start + i] = (exits[i] as Exit.Success<A>).value
          }
          if (failed !== undefined && chunk.start + failed[0] < failedAt) {
            failedAt = chunk.start + failed[0]
            failure = failed[1] as Exit.Exit<never, E | ProcessPoolError>
            fanout.interruptAfter(failedAt)
          }
          fill()
        }

        const fanout = new Fanout(engine, task, P.MODE_STOP_ON_FAILURE, false, callerOf(fiber), onDone)

        const fill = () => {
          if (filling || finished) return
          filling = true
          while (next < items.length && failedAt === Number.POSITIVE_INFINITY && fanout.pending < window) {
            const size = chunksize === "auto" ? AutoChunk.next(auto, items.length - next, workers) : chunksize
            const slice = items.slice(next, next + size)
            next += slice.length
            fanout.submit(slice, next - slice.length)
          }
          filling = false
          if (fanout.pending === 0 && (next === items.length || failure !== undefined)) {
            finished = true
            resume(failure ?? Exit.succeed(results))
          }
        }

        fill()
        return Effect.callback<void>((stopped) => {
          finished = true
          fanout.stopAll(() => stopped(Effect.void))
        })
      })
    )
  })

// ---------------------------------------------------------------------------
// streams
// ---------------------------------------------------------------------------

/**
 * Where a stream driver takes its inputs from: exactly as many as it asks
 * for from an `Iterable`; from a `Stream`, what its pulls give, lingering at
 * most `CHUNK_LINGER_MS` for more once a chunk has some.
 */
interface Source<I, EI> {
  /** Up to `max` inputs; none when the source has ended (see `failure`). */
  readonly take: (max: number) => Effect.Effect<ReadonlyArray<I>>
  /** why the source ended, if it failed */
  readonly failure: () => Cause.Cause<EI> | undefined
}

const iterableSource = <I>(inputs: Iterable<I>): Source<I, never> => {
  const iterator = inputs[Symbol.iterator]()
  let done = false
  return {
    take: (max) =>
      Effect.sync(() => {
        const out: Array<I> = []
        while (!done && out.length < max) {
          const next = iterator.next()
          if (next.done) done = true
          else out.push(next.value)
        }
        return out
      }),
    failure: () => undefined
  }
}

const streamSource = <I, EI>(
  upstream: Pull.Pull<Arr.NonEmptyReadonlyArray<I>, EI, void>,
  scope: Scope.Scope
): Source<I, EI> => {
  const buffer: Array<I> = []
  let done = false
  let failure: Cause.Cause<EI> | undefined
  let pending: Fiber.Fiber<Arr.NonEmptyReadonlyArray<I>, EI | Cause.Done> | undefined

  const absorb = (exit: Exit.Exit<Arr.NonEmptyReadonlyArray<I>, EI | Cause.Done>) => {
    pending = undefined
    if (Exit.isSuccess(exit)) {
      for (const input of exit.value) buffer.push(input)
    } else {
      done = true
      if (!Pull.isDoneCause(exit.cause)) failure = exit.cause as Cause.Cause<EI>
    }
  }

  const take = (max: number): Effect.Effect<ReadonlyArray<I>> =>
    Effect.gen(function* () {
      let lingerUntil = 0
      while (buffer.length < max && !done) {
        pending ??= yield* Effect.forkIn(upstream, scope, { startImmediately: true })
        if (buffer.length === 0) {
          absorb(yield* Fiber.await(pending))
          lingerUntil = performance.now() + CHUNK_LINGER_MS
          continue
        }
        const left = lingerUntil - performance.now()
        if (left <= 0) break
        const exit = yield* Fiber.await(pending).pipe(Effect.timeoutOption(left))
        if (Option.isNone(exit)) break // the pull goes on; the next chunk takes what it brings
        absorb(exit.value)
      }
      return buffer.splice(0, Math.min(max, buffer.length))
    })

  return { take, failure: () => failure }
}

/**
 * The part the two stream drivers share: a feeder fiber that takes inputs and
 * submits chunks while fewer than `bufferSize` are submitted and not yet
 * emitted, a change signal, and the finalizer that stops every chunk.
 */
const makeFeeder = <I, A, E, EI>(
  source: Source<I, EI>,
  options: StreamOptions,
  scope: Scope.Scope,
  makeFanout: (onDone: (chunk: Chunk<I, A, E>) => void) => Fanout<I, A, E>,
  onSubmitted: (chunks: ReadonlyArray<Chunk<I, A, E>>) => void,
  onDone: (chunk: Chunk<I, A, E>) => void
) =>
  Effect.gen(function* () {
    let auto = AutoChunk.initial
    let next = 0
    const state = { unemitted: 0, sourceDone: false, stopped: false }
    let waiters: Array<() => void> = []
    const notify = () => {
      const current = waiters
      waiters = []
      for (const waiter of current) waiter()
    }
    /** suspends until `condition` holds; checked when registering, so no change is missed */
    const waitUntil = (condition: () => boolean): Effect.Effect<void> =>
      Effect.callback<void>((resume) => {
        if (condition()) return resume(Effect.void)
        const check = () => (condition() ? resume(Effect.void) : waiters.push(check))
        waiters.push(check)
      })

    const fanout = makeFanout((chunk) => {
      if (options.chunksize === "auto" && chunk.serviceMs >= 0) {
        auto = AutoChunk.observe(auto, chunk.count, chunk.serviceMs)
      }
      onDone(chunk)
      notify()
    })

    const feed = Effect.gen(function* () {
      for (;;) {
        yield* waitUntil(() => state.stopped || state.unemitted < options.bufferSize)
        if (state.stopped) return
        const size = options.chunksize === "auto" ? AutoChunk.next(auto, undefined, options.workers) : options.chunksize
        const inputs = yield* source.take(size)
        if (state.stopped) return
        if (inputs.length === 0) {
          state.sourceDone = true
          notify()
          return
        }
        const chunks = fanout.submit(inputs, next)
        next += inputs.length
        state.unemitted += chunks.length
        onSubmitted(chunks)
        notify()
      }
    })

    yield* Effect.forkIn(feed, scope, { startImmediately: true })
    // added after the feeder's fork, so it runs first when the scope closes
    yield* Scope.addFinalizer(
      scope,
      Effect.callback<void>((resume) => {
        state.stopped = true
        notify()
        fanout.stopAll(() => resume(Effect.void))
      })
    )

    const emitted = (chunks: number) => {
      state.unemitted -= chunks
      notify()
    }
    const stop = () => {
      state.stopped = true
      notify()
    }
    return { state, waitUntil, fanout, emitted, stop }
  })

const toStream = <I, EI, RI, B, E2>(
  inputs: Iterable<I> | Stream.Stream<I, EI, RI>,
  driver: (
    source: Source<I, EI>,
    scope: Scope.Scope,
    caller: Engine.Caller
  ) => Effect.Effect<Pull.Pull<Arr.NonEmptyReadonlyArray<B>, E2, void>>
): Stream.Stream<B, Pull.ExcludeDone<E2>, RI> =>
  Stream.isStream(inputs)
    ? Stream.transformPull(inputs as Stream.Stream<I, EI, RI>, (upstream, scope) =>
        Effect.withFiber((fiber) => driver(streamSource(upstream, scope), scope, callerOf(fiber)))
      )
    : Stream.transformPull(Stream.empty, (_, scope) =>
        Effect.withFiber((fiber) => driver(iterableSource(inputs as Iterable<I>) as any, scope, callerOf(fiber)))
      )

/** `mapStream`: results in input order, lazily. */
export const orderedStream = <I, A, E, EI, RI>(
  engine: Engine.Engine,
  task: Task<I, A, E>,
  inputs: Iterable<I> | Stream.Stream<I, EI, RI>,
  options: StreamOptions
): Stream.Stream<A, E | ProcessPoolError | EI, RI> =>
  toStream(inputs, (source, scope, caller) =>
    Effect.gen(function* () {
      const order: Array<Chunk<I, A, E>> = []
      let failure: Cause.Cause<E | ProcessPoolError> | undefined
      let failedAt = Number.POSITIVE_INFINITY
      const feeder = yield* makeFeeder<I, A, E, EI>(
        source,
        options,
        scope,
        (onDone) => new Fanout(engine, task, P.MODE_STOP_ON_FAILURE, false, caller, onDone),
        (chunks) => order.push(...chunks),
        (chunk) => {
          // a failure anywhere makes everything after it useless
          const failed = firstFailure(chunk)
          if (failed !== undefined && chunk.start + failed[0] < failedAt) {
            failedAt = chunk.start + failed[0]
            feeder.stop()
            feeder.fanout.interruptAfter(failedAt)
          }
        }
      )
      const pull: Pull.Pull<Arr.NonEmptyReadonlyArray<A>, E | ProcessPoolError | EI, void> = Effect.gen(function* () {
        for (;;) {
          if (failure !== undefined) return yield* Effect.failCause(failure)
          const head = order[0]
          if (head === undefined) {
            if (feeder.state.sourceDone || feeder.state.stopped) {
              const sourceFailure = source.failure()
              return yield* sourceFailure === undefined ? Cause.done() : Effect.failCause(sourceFailure)
            }
            yield* feeder.waitUntil(() => order.length > 0 || feeder.state.sourceDone || feeder.state.stopped)
            continue
          }
          yield* feeder.waitUntil(() => head.ended)
          order.shift()
          feeder.emitted(1)
          if (head.values !== undefined) return head.values as Arr.NonEmptyReadonlyArray<A>
          const exits = head.exits!
          const values: Array<A> = []
          for (const exit of exits) {
            if (exit === undefined) break
            if (Exit.isSuccess(exit)) {
              values.push(exit.value)
              continue
            }
            failure = exit.cause
            break
          }
          if (values.length > 0) return values as unknown as Arr.NonEmptyReadonlyArray<A>
        }
      })
      return pull
    })
  )

/** One element of `asCompleted`. */
export interface Completed<I, A, E> {
  readonly index: number
  readonly input: I
  readonly exit: Exit.Exit<A, E | ProcessPoolError>
}

/** `asCompleted`: one element per input, in completion order. */
export const completionStream = <I, A, E, EI, RI>(
  engine: Engine.Engine,
  task: Task<I, A, E>,
  inputs: Iterable<I> | Stream.Stream<I, EI, RI>,
  options: StreamOptions
): Stream.Stream<Completed<I, A, E>, EI, RI> =>
  toStream(inputs, (source, scope, caller) =>
    Effect.gen(function* () {
      let ready: Array<Completed<I, A, E>> = []
      let readyChunks = 0
      const feeder = yield* makeFeeder<I, A, E, EI>(
        source,
        options,
        scope,
        (onDone) => new Fanout(engine, task, P.MODE_ALL, true, caller, onDone),
        () => {},
        (chunk) => {
          const exits = exitsOf(chunk)
          for (let i = 0; i < chunk.count; i++) {
            ready.push({ index: chunk.start + i, input: chunk.inputs![i]!, exit: exits[i] ?? interrupted })
          }
          readyChunks++
        }
      )
      const pull: Pull.Pull<Arr.NonEmptyReadonlyArray<Completed<I, A, E>>, EI, void> = Effect.gen(function* () {
        for (;;) {
          if (ready.length > 0) {
            const out = ready
            ready = []
            feeder.emitted(readyChunks)
            readyChunks = 0
            return out as unknown as Arr.NonEmptyReadonlyArray<Completed<I, A, E>>
          }
          if (feeder.state.sourceDone && feeder.fanout.pending === 0) {
            const sourceFailure = source.failure()
            return yield* sourceFailure === undefined ? Cause.done() : Effect.failCause(sourceFailure)
          }
          yield* feeder.waitUntil(() => ready.length > 0 || (feeder.state.sourceDone && feeder.fanout.pending === 0))
        }
      })
      return pull
    })
  )
