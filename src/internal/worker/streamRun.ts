/**
 * Running a stream job in the worker: the streaming task's `Stream` on the
 * job's payload, in one fiber, each element encoded through the task's
 * `element` Schema and sent to the parent in `Elements` batches, never more in
 * all than the credit the parent granted (see `protocol.ts`, `MODE_STREAM`).
 *
 * Batching: elements wait in a batch that leaves on the next macrotask
 * (`setImmediate`), at once when it holds half the stream's first credit (the
 * parent's buffer: so that one half travels and is taken while the worker
 * fills the other, instead of the worker waiting a round trip for each
 * buffer), when the credit is spent, or at the end of a chunk once the batch's oldest
 * element has waited `FLUSH_AFTER_MS`. A stream that emits fast fills a batch
 * between two turns of the event loop (Effect's fiber yields to it every few
 * thousand steps); one that emits slowly suspends between elements, so a lone
 * element leaves within that turn, with no timer holding it for a batch to
 * fill; one whose elements each keep the event loop busy (a synchronous
 * parse) sends each as the next one comes.
 *
 * On the `"bytes"` wire (threads, and processes with `"advanced"`
 * serialization), a batch whose elements are all plain data that JSON text
 * carries unchanged (the Schemas with a fast path, see `codecFastPaths.ts`)
 * leaves as one JSON text: for small records, `JSON.stringify` here and
 * `JSON.parse` in the parent cost the worker about half of what a structured
 * clone costs it (measured: 512 `{ i, s }` records a message, a bare thread
 * posted 3.4 to 4.0 M/s as arrays, 4.9 to 5.9 M/s as JSON text), and the
 * worker is the side that a fast stream waits on.
 *
 * Back-pressure: when the credit is spent, the fiber waits for more before it
 * takes its next element, so the stream runs at most the credit ahead of the
 * parent's consumer (plus the rest of the chunk its source emitted last).
 *
 * The job ends through the ordinary answers: `Done` with no values for the end
 * of the stream, or one outcome (its typed failure, defect, interruption, or
 * the codec error of an element that did not fit). An interrupt from the
 * parent interrupts the fiber: the stream's finalizers run here first.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import type { AnyStream } from "../../Task.ts"
import { CodecFailure, codecFor, NOT_EXACT, preview, type ValueCodec } from "../codec.ts"
import * as JsonText from "../jsonText.ts"
import { ArrayPrototypePush, PerformanceNow, SetImmediate } from "../primordials.ts"
import * as P from "../protocol.ts"
import type { Execution } from "./execution.ts"
import { codecOutcome, outcomeOfFailure } from "./failures.ts"
import type { Job } from "./job.ts"
import * as Telemetry from "./telemetry.ts"

/**
 * A batch whose oldest element has waited this long leaves at the end of the
 * chunk that is being offered, without waiting for the event loop's next
 * turn, which a stream that keeps the loop busy may not reach for a while. A
 * fast stream fills a batch in far less: this costs it nothing.
 */
const FLUSH_AFTER_MS = 1

/** What stops a stream at an element that did not fit its Schema; its outcome is the answer. */
class ElementRefused {
  readonly outcome: P.Outcome
  constructor(outcome: P.Outcome) {
    this.outcome = outcome
  }
}

/** The elements of one stream job on their way out: its batch, and whether a flush is due. */
interface Sender {
  readonly execution: Execution
  readonly job: Job
  readonly codec: ValueCodec
  /** on the `"bytes"` wire, the codec's encoding of values that JSON text carries unchanged */
  readonly encodeExact: ((value: unknown) => unknown) | undefined
  batch: Array<unknown>
  /** every element of the batch came through `encodeExact`: it leaves as one JSON text */
  packable: boolean
  /** the batch leaves once it holds this many: half the first credit */
  readonly flushAt: number
  /** when the batch's oldest element came */
  batchSince: number
  flushScheduled: boolean
  /** the element that did not fit, once one did not */
  refused: ElementRefused | undefined
}

/** Runs a loaded stream job in `context` (the task layer's services, the caller's span and log level). */
export const run = (execution: Execution, job: Job, task: AnyStream, context: Context.Context<any>): void => {
  const decoded = codecFor(task.payload, execution.wire).decode(job.inputs[0])
  if (decoded instanceof CodecFailure)
    return end(execution, job, [P.OUTCOMES, job.id, [codecOutcome("payload", decoded)]])
  let stream: unknown
  try {
    stream = task.run(decoded)
  } catch (defect) {
    // `run` itself threw while building its Stream
    stream = Stream.die(defect)
  }
  if (!Stream.isStream(stream)) {
    stream = Stream.die(new TypeError(`run of streaming task "${task.name}" returned ${preview(stream)}, not a Stream`))
  }
  const codec = codecFor(task.element, execution.wire)
  // on the "json" wire the batch is JSON text anyway, inside the channel's frame
  const encodeExact = execution.wire === "bytes" ? codec.encodeExact : undefined
  const sender: Sender = {
    execution,
    job,
    codec,
    encodeExact,
    batch: [],
    packable: encodeExact !== undefined,
    // the first credit came with the job's Run: the parent's buffer
    flushAt: Math.max(1, Math.floor(job.credit / 2)),
    batchSince: 0,
    flushScheduled: false,
    refused: undefined
  }
  // before the fork, which runs the stream at once: it may end the worker in this very step
  execution.flushStream = () => flush(sender)
  const fiber = Effect.runForkWith(context)(
    Stream.runForEachArray(stream as Stream.Stream<unknown, unknown>, (chunk) => offer(sender, chunk, 0))
  )
  job.fiber = fiber
  fiber.addObserver((exit) =>
    execution.guard(job, () => {
      job.fiber = undefined
      execution.flushStream = undefined
      flush(sender)
      const refused = sender.refused
      if (refused !== undefined) return end(execution, job, [P.OUTCOMES, job.id, [refused.outcome]])
      if (Exit.isSuccess(exit)) return end(execution, job, [P.DONE, job.id, []])
      end(execution, job, [P.OUTCOMES, job.id, [outcomeOfFailure(task, exit.cause, execution.wire)]])
    })
  )
}

const end = (execution: Execution, job: Job, answer: P.Done | P.Outcomes): void => {
  Telemetry.endSpan(execution.telemetry, job, answer[0] === P.OUTCOMES ? answer[2] : undefined)
  execution.finish(answer)
}

/**
 * Takes the elements of a chunk from `from` on into the batch while there is
 * credit; when there is none, sends the batch and waits for more.
 */
const offer = (sender: Sender, chunk: ReadonlyArray<unknown>, from: number): Effect.Effect<void, ElementRefused> => {
  const job = sender.job
  for (let i = from; i < chunk.length; i++) {
    if (job.credit === 0) {
      flush(sender)
      if (sender.refused !== undefined) return Effect.fail(sender.refused)
      return Effect.flatMap(waitForCredit(job), () => offer(sender, chunk, i))
    }
    let encoded = sender.packable ? sender.encodeExact!(chunk[i]) : NOT_EXACT
    if (encoded === NOT_EXACT) {
      sender.packable = false
      encoded = sender.codec.encode(chunk[i])
    }
    if (encoded instanceof CodecFailure) {
      // the elements before it leave first: the parent names its index by them
      flush(sender)
      sender.refused ??= new ElementRefused(codecOutcome("element", encoded))
      return Effect.fail(sender.refused)
    }
    job.credit--
    if (sender.batch.length === 0) sender.batchSince = PerformanceNow()
    ArrayPrototypePush(sender.batch, encoded)
    if (sender.batch.length >= sender.flushAt) {
      flush(sender)
      if (sender.refused !== undefined) return Effect.fail(sender.refused)
    }
  }
  if (job.credit === 0 || PerformanceNow() - sender.batchSince >= FLUSH_AFTER_MS) flush(sender)
  else scheduleFlush(sender)
  return sender.refused === undefined ? Effect.void : Effect.fail(sender.refused)
}

const waitForCredit = (job: Job): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (job.credit > 0) return resume(Effect.void)
    job.onCredit = () => resume(Effect.void)
    return Effect.sync(() => {
      job.onCredit = undefined
    })
  })

const scheduleFlush = (sender: Sender): void => {
  if (sender.flushScheduled || sender.batch.length === 0) return
  sender.flushScheduled = true
  SetImmediate(() => {
    sender.flushScheduled = false
    flush(sender)
    // outside the fiber: stop it; the answer is the refusal (see `run`)
    if (sender.refused !== undefined) sender.job.fiber?.interruptUnsafe()
  })
}

/**
 * Sends the batch, if there is one. An element the channel cannot carry (a
 * Schema that lets a function or a cycle through) is found by sending the
 * batch one by one: the elements before it leave, and the stream stops with a
 * codec error for it (the parent names its index by what came before it). A
 * lost element would leave a gap in the stream and its credit spent.
 */
const flush = (sender: Sender): void => {
  const batch = sender.batch
  if (batch.length === 0 || sender.refused !== undefined) return
  const packed = sender.packable ? JsonText.stringify(batch) : undefined
  sender.batch = []
  sender.packable = sender.encodeExact !== undefined
  const send = sender.execution.send
  const id = sender.job.id
  try {
    send([P.ELEMENTS, id, packed ?? batch])
  } catch {
    for (const element of batch) {
      try {
        send([P.ELEMENTS, id, [element]])
      } catch (error) {
        sender.refused = new ElementRefused([P.CODEC_ERROR, "element", notSerializable(error)])
        return
      }
    }
  }
}

const notSerializable = (error: unknown): string =>
  `could not be serialized: ${error instanceof Error ? error.message : String(error)}`
