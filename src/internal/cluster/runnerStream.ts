/**
 * The runner's half of a streamed task (`RunStream`): a stream job on the
 * runner's own local pool, whose elements become the RPC's answer as they
 * come, still encoded (the client decodes them with the task's `element`
 * Schema, as it decodes a chunk's results), and whose end comes last.
 *
 *   worker ─ELEMENTS (local credit)─▶ relay buffer ─pull─▶ RpcServer ─Chunk─▶ client
 *      ▲                                   │                   ▲               │
 *      └────────── CREDIT ◀── taken ◀──────┘                   └── AckChunk ◀──┘
 *
 * Back-pressure holds across both hops because each hop pulls only when the
 * next one has taken. Effect's `RpcServer` pulls the handler's stream one
 * chunk at a time and waits for that chunk's `Ack` before it pulls again
 * (`RpcServer.ts`, `streamEffect`: `latch.closeUnsafe()` then `latch.await`
 * after each write; the entity manager opens it on an `AckChunk` for the
 * last chunk sent): at most one chunk per stream is unacknowledged. A pull
 * here takes everything the worker sent since the last one as one batch
 * (many elements per message when they come fast, one at once when they
 * come slowly) and gives the worker back credit as the local consumer does
 * (`taskStream.ts`): once half a buffer was taken. So the worker runs at
 * most `bufferSize` elements ahead of what the cluster took, and this buffer
 * never holds more than that.
 *
 * The RPC interrupted (the client stopped, or went away) or the runner
 * shutting down stops the local job; the scope's close waits until its worker
 * confirmed, or was killed after `interruptGrace`.
 *
 * @internal
 */
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Pull from "effect/Pull"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Engine from "../engine.ts"
import type * as Jobs from "../jobs.ts"
import * as P from "../protocol.ts"
import * as StreamJobs from "../streamJobs.ts"
import * as Wakeup from "../wakeup.ts"
import type { LogEntry, RunReply, StreamItem } from "./protocol.ts"

/** The stream job a relay started, for the runner's `Stop`. */
export interface Started<H> {
  readonly job: H
  /** ends the relay's answer with `reply` (the job was stopped) */
  readonly end: (reply: RunReply) => void
}

export interface RelayRequest {
  readonly task: Jobs.TaskRef
  readonly input: unknown
  readonly bufferSize: number
  readonly caller: Jobs.Caller
  /** the caller's context's log entries: the worker's logs while it runs (drained into each batch) */
  readonly logs: Array<LogEntry>
}

/**
 * The answer of one `RunStream`: the stream job's elements in batches, then
 * its end (`toReply` of its `JobEnd`). `onStart` and `onEnd` let the runner
 * know the job by its client's key while it runs.
 */
export const relay = <H>(
  engine: Engine.Engine<Jobs.TaskRef, Jobs.JobEnd, H>,
  request: RelayRequest,
  toReply: (end: Jobs.JobEnd) => RunReply,
  onStart: (started: Started<H>) => void,
  onEnd: () => void
): Stream.Stream<StreamItem> =>
  Stream.transformPull(Stream.empty, (_, scope) =>
    // the job and the finalizer that stops it come together: an interruption
    // between the two would leave the job running, holding its worker
    Effect.uninterruptible(
      Effect.suspend(() => {
        const relay = new Relay(request.bufferSize, request.logs, onEnd)
        const job = engine.submit({
          task: request.task,
          inputs: [request.input],
          mode: P.MODE_STREAM,
          stream: relay.sink,
          onEnd: (end) => relay.end(toReply(end)),
          caller: request.caller
        })
        relay.grant = (n) => engine.credit?.(job, n)
        onStart({ job, end: (reply) => relay.end(reply) })
        // the RPC interrupted without a `Stop` first (its client went away, or sent it elsewhere):
        // the job stops, and ends here, so that the runner forgets it
        const stop = Effect.suspend(() =>
          relay.ended
            ? Effect.void
            : Effect.callback<void>((resume) =>
                engine.interrupt(job, () => {
                  relay.end({ _tag: "Interrupted", logs: request.logs })
                  resume(Effect.void)
                })
              )
        )
        return Effect.as(Scope.addFinalizer(scope, stop), relay.pull)
      })
    )
  )

/** The runner's buffer for one stream job, and the credit it owes its worker. */
class Relay {
  readonly sink: StreamJobs.Sink
  private readonly batches: Array<ReadonlyArray<unknown>> = []
  private readonly wakeup = Wakeup.make()
  /** elements taken and not given back as credit yet */
  private owed = 0
  /** the position in the stream of the next element sent */
  private from = 0
  private reply: RunReply | undefined = undefined
  private replySent = false
  grant: (n: number) => void = () => {}
  private readonly threshold: number
  private readonly logs: Array<LogEntry>
  private readonly onEnd: () => void

  constructor(bufferSize: number, logs: Array<LogEntry>, onEnd: () => void) {
    this.threshold = Math.ceil(bufferSize / 2)
    this.logs = logs
    this.onEnd = onEnd
    this.sink = StreamJobs.makeSink(bufferSize, (values) => {
      if (this.reply !== undefined) return // a stopped stream's last elements: nobody takes them
      this.batches.push(values)
      this.wake()
    })
  }

  get ended(): boolean {
    return this.reply !== undefined
  }

  /** The job ended (or was stopped): its reply goes after the elements already buffered. */
  end(reply: RunReply): void {
    if (this.reply !== undefined) return
    this.reply = reply
    this.onEnd()
    this.wake()
  }

  /** in a microtask of its own (see `wakeup.ts`) */
  private wake(): void {
    Wakeup.wake(this.wakeup)
  }

  readonly pull: Pull.Pull<Arr.NonEmptyReadonlyArray<StreamItem>, never, void> = Effect.suspend(() => {
    const items: Array<StreamItem> = []
    if (this.batches.length > 0) items.push(this.take())
    if (this.reply !== undefined && !this.replySent) {
      this.replySent = true
      items.push(this.reply)
    }
    if (items.length > 0) return Effect.succeed(items as unknown as Arr.NonEmptyReadonlyArray<StreamItem>)
    if (this.replySent) return Cause.done()
    return Effect.flatMap(Wakeup.wait(this.wakeup), () => this.pull)
  })

  /** Every buffered element as one batch, with the logs since the last; the worker may send as many more. */
  private take(): StreamItem {
    const batches = this.batches.splice(0, this.batches.length)
    const values = batches.length === 1 ? batches[0]! : batches.flat()
    const from = this.from
    this.from += values.length
    this.owed += values.length
    if (this.owed >= this.threshold && this.reply === undefined) {
      this.grant(this.owed)
      this.owed = 0
    }
    return { _tag: "Elements", from, values, logs: this.logs.splice(0, this.logs.length) }
  }
}
