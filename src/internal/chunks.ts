/**
 * One task over many inputs, in chunks: what `map`, `mapStream` and
 * `asCompleted` share (`map.ts`, `orderedStream.ts`, `completionStream.ts`).
 *
 * Inputs are cut into chunks (contiguous runs of inputs); a chunk is one job,
 * one message each way. A `Fanout` submits the chunks of one call and keeps
 * each one's outcome (settled by `Outcomes`, which also counts it); the
 * drivers decide when chunks are made and in which order their results leave.
 *
 * Failure: in `map` and `mapStream` a failing input ends the run with the
 * error of the earliest failing input (as iterating Python's `map` would):
 * chunks after it are interrupted in their workers and no new chunk starts,
 * while the chunks before it finish, since one of them may fail earlier. In
 * `asCompleted` every input of every chunk runs and reports its own `Exit`.
 * Every driver waits for all of its chunks to have really stopped before it
 * ends, however it ends.
 *
 * @internal
 */
import * as Exit from "effect/Exit"
import type { ProcessPoolError } from "../ProcessPoolError.ts"
import type { Any as AnyTask, Task } from "../Task.ts"
import { CodecFailure, codecFor } from "./codec.ts"
import type * as Engine from "./engine.ts"
import type * as Jobs from "./jobs.ts"
import * as Outcomes from "./outcomes.ts"
import * as P from "./protocol.ts"

/** A contiguous run of inputs, sent as one job (or failed before sending). */
export interface Chunk<I, A, E> {
  /** index of its first input */
  readonly start: number
  /** the caller's own inputs, kept only for `asCompleted` */
  readonly inputs: ReadonlyArray<I> | undefined
  readonly count: number
  ended: boolean
  /** once ended, when every input succeeded: their values, in order */
  values: ReadonlyArray<A> | undefined
  /** once ended, otherwise: one per input; `undefined` for an input that did not run */
  exits: ReadonlyArray<Exit.Exit<A, E | ProcessPoolError> | undefined> | undefined
  /** what the chunk cost, round trip included (NaN when it did not run) */
  serviceMs: number
}

/** A chunk's outcome as one `Exit` per input, whichever way it ended. */
export const exitsOf = <I, A, E>(
  chunk: Chunk<I, A, E>
): ReadonlyArray<Exit.Exit<A, E | ProcessPoolError> | undefined> =>
  chunk.exits ?? chunk.values!.map((value) => Exit.succeed(value))

/** The first input of a chunk that did not succeed: its offset and exit. */
export const firstFailure = <I, A, E>(
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

/** Numbers the `map` and `mapStream` calls of this process (see `P.Run`). */
let nextGroup = 1

/**
 * Submits chunks of one task and keeps their outcomes. `onDone` is called
 * once per chunk, never before `submit` has returned.
 */
export class Fanout<I, A, E, H> {
  private readonly engine: Engine.Engine<AnyTask, Outcomes.Settled<any, any>, H>
  private readonly task: Task<I, A, E>
  private readonly mode: P.Mode
  private readonly keepInputs: boolean
  private readonly caller: Jobs.Caller
  private readonly onDone: (chunk: Chunk<I, A, E>) => void
  private readonly onAdmitted: () => void
  /** with `maxQueue`: the chunks submitted and not admitted yet (see `waiting`) */
  private readonly unadmitted = new Set<Chunk<I, A, E>>()
  /** the chunks not done yet, with their jobs' handles (none for a chunk failed before sending) */
  private readonly unfinished = new Map<Chunk<I, A, E>, H | undefined>()
  private readonly group = nextGroup++
  private stopWaiters: Array<() => void> = []

  constructor(
    engine: Engine.Engine<AnyTask, Outcomes.Settled<any, any>, H>,
    task: Task<I, A, E>,
    mode: P.Mode,
    keepInputs: boolean,
    caller: Jobs.Caller,
    onDone: (chunk: Chunk<I, A, E>) => void,
    onAdmitted: () => void = () => {}
  ) {
    this.engine = engine
    this.task = task
    this.mode = mode
    this.keepInputs = keepInputs
    this.caller = caller
    this.onDone = onDone
    this.onAdmitted = onAdmitted
  }

  get pending(): number {
    return this.unfinished.size
  }

  /**
   * Chunks waiting for room under the engine's `maxQueue`. A driver submits
   * no more chunks while one waits (`onAdmitted` says when that changes): its
   * inputs are read only as fast as room frees.
   */
  get waiting(): number {
    return this.unadmitted.size
  }

  /** The most inputs a chunk may have: a chunk larger than `maxQueue` could not fit. */
  get maxChunk(): number {
    return this.engine.maxQueue
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
    const codec = codecFor(this.task.payload, this.engine.wire)
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
      failed.exits = [Outcomes.refused(this.engine.tally, this.task, result, start + i)]
      chunks.push(failed)
      from = i + 1
      encoded = undefined
    }
    if (inputs.length > from) {
      chunks.push(this.send(inputs, start, from, encoded ?? (from === 0 ? inputs : inputs.slice(from))))
    }
    for (const chunk of chunks) {
      if (!chunk.ended) continue
      // failed before sending: reported like the others, after `submit` returns,
      // and pending until then (a stream must not end before it is reported)
      this.unfinished.set(chunk, undefined)
      queueMicrotask(() => this.done(chunk))
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
      ended: false,
      values: undefined,
      exits: undefined,
      serviceMs: Number.NaN
    }
  }

  private send(inputs: ReadonlyArray<I>, start: number, from: number, encoded: ReadonlyArray<unknown>) {
    const chunk = this.chunk(inputs, start, from, encoded.length)
    const bounded = this.engine.maxQueue !== Number.POSITIVE_INFINITY
    if (bounded) this.unadmitted.add(chunk)
    const handle = this.engine.submit({
      task: this.task,
      inputs: encoded,
      mode: this.mode,
      onEnd: (settled: Outcomes.Settled<A, E>) => {
        chunk.ended = true
        chunk.serviceMs = settled.serviceMs
        chunk.values = settled.values
        chunk.exits = settled.exits
        this.done(chunk)
      },
      caller: this.caller,
      group: this.mode === P.MODE_STOP_ON_FAILURE ? this.group : 0,
      first: chunk.start,
      onAdmitted: bounded ? () => this.admitted(chunk) : undefined
    })
    // its end comes in a microtask at the earliest: the handle is there first
    this.unfinished.set(chunk, handle)
    return chunk
  }

  private admitted(chunk: Chunk<I, A, E>): void {
    if (this.unadmitted.delete(chunk)) this.onAdmitted()
  }

  private done(chunk: Chunk<I, A, E>): void {
    // one that ended while it waited (interrupted, or the pool closed) waits no more
    this.unadmitted.delete(chunk)
    this.unfinished.delete(chunk)
    if (this.unfinished.size === 0 && this.stopWaiters.length > 0) {
      const waiters = this.stopWaiters
      this.stopWaiters = []
      for (const waiter of waiters) waiter()
    }
    this.onDone(chunk)
  }

  /** Interrupts the unfinished chunks that start after input `index`. */
  interruptAfter(index: number): void {
    for (const [chunk, handle] of [...this.unfinished]) {
      if (chunk.start > index) this.interrupt(chunk, handle)
    }
  }

  /** Interrupts every unfinished chunk; `onStopped` once all have really stopped. */
  stopAll(onStopped: () => void): void {
    if (this.unfinished.size === 0) return onStopped()
    this.stopWaiters.push(onStopped)
    for (const [chunk, handle] of [...this.unfinished]) this.interrupt(chunk, handle)
  }

  private interrupt(chunk: Chunk<I, A, E>, handle: H | undefined): void {
    // a chunk failed before sending has no job, and is done in a microtask
    if (handle === undefined) return
    // the engine ends a job interrupted by its caller through this callback,
    // not through the job's `onEnd` (and counts it)
    this.engine.interrupt(handle, () => {
      if (chunk.ended) return
      chunk.ended = true
      chunk.exits = new Array(chunk.count).fill(Outcomes.interrupted)
      this.done(chunk)
    })
  }
}
