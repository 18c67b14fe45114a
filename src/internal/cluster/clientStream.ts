/**
 * The cluster client's half of a streamed task (`ProcessPool.stream` through
 * `Cluster.layerClient`): a stream job is a `ClusterJob` like a chunk (it
 * waits in the client's queue under `maxQueue`, takes one place of its
 * runner's credit, is stopped with `Stop`), sent as a `RunStream` RPC whose
 * answer is its elements in batches and then its end (`runnerStream.ts`).
 * The elements go to the caller's consumer (`taskStream.ts`'s `Sink`), still
 * encoded: it decodes them with the task's `element` Schema, and the end is
 * settled as a local stream job's is.
 *
 * Credit spans both hops. The consumer grants elements as it takes them
 * (`grant`); this side takes the next batch from Effect's RPC client only
 * while the consumer has credit left, and that client acknowledges a chunk
 * (`AckChunk`) only once the chunk is in its queue, which holds
 * `RPC_BUFFER` items. So with a slow consumer the runner waits for an
 * acknowledgement, its local pool's credit stops its worker, and what the
 * worker ran ahead of the consumer is bounded by a few `bufferSize`s: the
 * consumer's buffer, one batch in the RPC client's queue, one unacknowledged
 * batch, the runner's buffer (each at most about `bufferSize`), never by the
 * stream's length.
 *
 * A batch carries its position in the stream (`from`); a batch that does
 * not start where the last one ended (a request the cluster sent again to
 * another runner starts again at 0) fails the request, and a stream that has
 * delivered elements is never sent again (`ClientJobs.afterLoss`): its
 * consumer would see them twice.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type { ClientState, ClusterJob } from "./clientJobs.ts"
import { ENDED, SENT } from "./clientJobs.ts"
import type { RunReply, RunStreamPayload } from "./protocol.ts"

/**
 * How many answer items Effect's RPC client may hold for one stream before
 * it stops acknowledging (its `streamBufferSize`, 16 by default). Each item
 * is a batch of up to about `bufferSize` elements, and the credit here
 * already stops taking them when the consumer is behind: more would only
 * hold more batches in memory.
 */
export const RPC_BUFFER = 1

/** The `RunStream` request of a stream job. */
export const payload = (state: ClientState, job: ClusterJob): RunStreamPayload => ({
  job: job.key,
  deployment: state.config.deployment,
  task: { module: job.module, key: job.task.key, name: job.task.name },
  input: job.inputs[0],
  bufferSize: job.bufferSize,
  ...(job.caller?.wire !== undefined ? { caller: job.caller.wire as RunStreamPayload["caller"] } : {})
})

/**
 * Sends a stream job to `route` and gives its elements to its consumer as
 * they come, within its credit; succeeds with its end as the runner sent it
 * (handled as a chunk's reply is), fails if the answer breaks off.
 */
export const run = (state: ClientState, job: ClusterJob, route: string): Effect.Effect<RunReply, unknown> =>
  Effect.scoped(
    Effect.gen(function* () {
      const queue = yield* state.transport.runStream(route, payload(state, job))
      const sink = job.stream!
      const self = yield* Effect.withFiber((fiber) => Effect.succeed(fiber))
      while (true) {
        const item = yield* Queue.take(queue).pipe(
          Effect.catchIf(Cause.isDone, () => Effect.fail(new Error("the runner's answer ended before its stream did")))
        )
        if (item._tag !== "Elements") return item
        // a send the job has left (sent again, or ended) delivers nothing more
        if (job.state !== SENT || job.fiber !== self) return yield* Effect.interrupt
        for (const entry of item.logs) state.hooks.onLog(job.caller?.context, entry)
        if (item.from !== sink.received) {
          return yield* Effect.fail(
            new Error(
              `the runner sent elements from ${item.from} when ${sink.received} had come (a request sent again)`
            )
          )
        }
        if (item.values.length > 0) {
          sink.received += item.values.length
          sink.onElements(item.values)
        }
        yield* credit(job)
      }
    })
  )

/** Waits until the consumer has credit for more elements (or the job is no longer sent: its fiber is then interrupted). */
const credit = (job: ClusterJob): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const sink = job.stream!
    if (sink.granted > sink.received || job.state !== SENT) return resume(Effect.void)
    job.creditWaiter = () => resume(Effect.void)
    return Effect.sync(() => {
      job.creditWaiter = undefined
    })
  })

/** The consumer lets `n` more elements come (the engine's `credit`). */
export const grant = (job: ClusterJob, n: number): void => {
  const sink = job.stream
  if (sink === undefined || n <= 0 || job.state === ENDED) return
  sink.granted += n
  const waiter = job.creditWaiter
  if (waiter === undefined || sink.granted <= sink.received) return
  job.creditWaiter = undefined
  waiter()
}
