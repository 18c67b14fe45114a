/**
 * `stream`: a streaming task's elements as a `Stream` in the parent. One
 * stream job (see `streamJobs.ts`) runs the task's stream in a worker; its
 * elements come in batches into a buffer here, and each pull takes everything
 * buffered as one chunk, decoding it through the task's `element` Schema.
 *
 * Credit is the back-pressure: the worker may send `bufferSize` elements at
 * first, and as many more as the consumer takes, given back once it has taken
 * half a buffer (so that a fast consumer does not cost a message per pull). So
 * the worker runs at most `bufferSize` elements (plus the rest of the chunk
 * its stream emitted last) ahead of the consumer, and the buffer here never
 * holds more than `bufferSize`: a slow consumer of an endless stream keeps
 * both sides' memory flat.
 *
 * The price is a round trip per buffer: a worker that emits small elements
 * fast spends its credit long before the credit for its first half comes back
 * (measured at 256 on 2 loaded cores: a thread waited ~0.15 ms every 128
 * elements, a process ~0.4 ms every ~230), so such a stream moves about a
 * buffer per round trip, whatever the batch and grant sizes within it
 * (flushing and granting at a quarter instead of a half, or granting as the
 * batches wake the pull rather than in its fiber's turn, measured the same).
 * Hence the large default (see `DEFAULT_BUFFER_SIZE`).
 *
 * The consumer stopping (`Stream.take`, a failure beside it, its scope
 * closing) interrupts the job in its worker, and the scope's close waits
 * until the worker confirms (or is killed past `interruptGrace`).
 *
 * @internal
 */
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Pull from "effect/Pull"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { ProcessPoolError } from "../ProcessPoolError.ts"
import type { StreamTask } from "../Task.ts"
import { callerOf } from "./caller.ts"
import { CodecFailure, codecFor } from "./codec.ts"
import type * as Engine from "./engine.ts"
import * as Errors from "./errors.ts"
import * as Options from "./options.ts"
import * as Outcomes from "./outcomes.ts"
import * as P from "./protocol.ts"
import * as StreamJobs from "./streamJobs.ts"
import * as Wakeup from "./wakeup.ts"

/**
 * `bufferSize` when none is given. The credit bounds what is in flight, so a
 * stream of small elements moves at most a buffer per round trip between the
 * consumer and the worker, and each round trip costs both sides a fixed price
 * (on this 2-core VM a small write that wakes the other side's event loop
 * took 30 to 45 µs of the writer's CPU, per credit and per batch). Measured
 * with `{ i, s }` records (`npm run bench:stream`, a quiet host, ratios to a
 * bare pipe / a bare `MessagePort` in the same run): 256 moved 0.38× / 0.43×,
 * 1024 0.66× / 0.58×, 2048 0.73× / 0.61×, 4096 0.76× / 0.63×. 2048 is the
 * default: the first size at which both kinds keep above half their floor
 * with a margin for a loaded host, and the batches it lets a fast stream send
 * (half a buffer) are as large as the floors' (1024). It counts elements, not
 * bytes: elements the size of frames want a smaller buffer.
 */
export const DEFAULT_BUFFER_SIZE = 2048

/** The options of `stream` (`null` is none): its `bufferSize`, validated. */
export const bufferSizeOf = (u: unknown): Result.Result<number, string> => {
  const o = (u ?? {}) as { readonly bufferSize?: unknown }
  if (typeof o !== "object") return Result.fail(`Expected the stream options to be an object, got ${Options.show(u)}`)
  const unknown = Options.unknownName("stream option", o, ["bufferSize"])
  if (unknown !== undefined) return Result.fail(unknown)
  const size = o.bufferSize ?? DEFAULT_BUFFER_SIZE
  return Options.isPositiveInteger(size)
    ? Result.succeed(size)
    : Result.fail(`Expected \`bufferSize\` to be a positive integer, got ${Options.show(o.bufferSize)}`)
}

/** The elements of `task` on `payload`, run in a worker of `engine`, with `bufferSize` elements of credit. */
export const taskStream = <I, A, E, H>(
  engine: Engine.PoolEngine<H>,
  task: StreamTask<I, A, E>,
  payload: I,
  bufferSize: number
): Stream.Stream<A, E | ProcessPoolError> =>
  Stream.transformPull(Stream.empty, (_, scope) =>
    // the job and the finalizer that stops it come together: an interruption
    // between the two would leave the job running, holding its worker
    Effect.uninterruptible(
      Effect.withFiber((fiber) => {
        const credit = engine.credit
        if (credit === undefined) return Effect.fail(new ProcessPoolError({ reason: Errors.streamUnsupported(task) }))
        const encoded = codecFor(task.payload, engine.wire).encode(payload)
        if (encoded instanceof CodecFailure) return Outcomes.refused(engine.tally, task, encoded)
        const consumer = new Consumer<A, E>(task, engine.wire, bufferSize)
        const job = engine.submit({
          task,
          inputs: [encoded],
          mode: P.MODE_STREAM,
          stream: consumer.sink,
          onEnd: (settled: Outcomes.Settled<A, E>) => consumer.end(settled),
          caller: callerOf(fiber)
        })
        consumer.grant = (n) => credit(job, n)
        const stop = Effect.suspend(() =>
          consumer.settled !== undefined
            ? Effect.void
            : Effect.callback<void>((resume) => engine.interrupt(job, () => resume(Effect.void)))
        )
        return Effect.as(Scope.addFinalizer(scope, stop), consumer.pull)
      })
    )
  )

/** The parent's side of one stream job: its buffer, the credit it owes the worker, and the pull over them. */
class Consumer<A, E> {
  readonly sink: StreamJobs.Sink
  /** the batches that came and the consumer has not taken, in order */
  private readonly batches: Array<ReadonlyArray<unknown>> = []
  /** the consumer waits for a batch or the end */
  private readonly wakeup = Wakeup.make()
  /** elements taken and not given back as credit yet */
  private owed = 0
  /** elements decoded so far: the index of the next one */
  private index = 0
  /** an element that did not decode: the stream fails with it after the ones before it */
  private failure: ProcessPoolError | undefined = undefined
  settled: Outcomes.Settled<A, E> | undefined = undefined
  grant: (n: number) => void = () => {}
  private readonly threshold: number
  private readonly task: StreamTask<any, A, E>
  private readonly wire: Engine.PoolEngine<unknown>["wire"]

  constructor(task: StreamTask<any, A, E>, wire: Engine.PoolEngine<unknown>["wire"], bufferSize: number) {
    this.task = task
    this.wire = wire
    this.threshold = Math.ceil(bufferSize / 2)
    this.sink = StreamJobs.makeSink(bufferSize, (values) => {
      // an interrupted stream's last elements still come: nobody takes them
      if (this.failure !== undefined) return
      this.batches.push(values)
      this.wake()
    })
  }

  /** The job ended; delivered after every batch it sent (see `delivery.ts`). */
  end(settled: Outcomes.Settled<A, E>): void {
    this.settled = settled
    this.wake()
  }

  /** in a microtask of its own (see `wakeup.ts`) */
  private wake(): void {
    Wakeup.wake(this.wakeup)
  }

  readonly pull: Pull.Pull<Arr.NonEmptyReadonlyArray<A>, E | ProcessPoolError, void> = Effect.suspend(() => {
    if (this.batches.length > 0) return this.take()
    if (this.failure !== undefined) return Effect.fail(this.failure)
    const settled = this.settled
    if (settled !== undefined) {
      const exit = settled.exits?.[0]
      return exit === undefined || Exit.isSuccess(exit) ? Cause.done() : Effect.failCause(exit.cause)
    }
    return Effect.flatMap(Wakeup.wait(this.wakeup), () => this.pull)
  })

  /** Takes every buffered element as one chunk, decoded, and owes the worker credit for them. */
  private take(): Effect.Effect<Arr.NonEmptyReadonlyArray<A>, E | ProcessPoolError> {
    const batches = this.batches.splice(0, this.batches.length)
    const codec = codecFor(this.task.element, this.wire)
    const values: Array<A> = []
    let taken = 0
    for (const batch of batches) {
      taken += batch.length
      for (const encoded of batch) {
        if (this.failure !== undefined) continue
        const value = codec.decode(encoded)
        if (value instanceof CodecFailure) {
          this.failure = Errors.codecFailed(this.task, "element", value, this.index)
          continue
        }
        this.index++
        values.push(value as A)
      }
    }
    this.owed += taken
    if (this.owed >= this.threshold && this.failure === undefined) {
      this.grant(this.owed)
      this.owed = 0
    }
    if (values.length > 0) return Effect.succeed(values as unknown as Arr.NonEmptyReadonlyArray<A>)
    return Effect.fail(this.failure!)
  }
}
