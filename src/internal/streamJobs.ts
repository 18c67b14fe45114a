/**
 * Stream jobs in the parent: the rules a job of a streaming task adds to the
 * engine's (see `protocol.ts`, `MODE_STREAM`). Its caller's consumer holds a
 * `Sink`; the worker may send only the elements the sink has granted and the
 * engine has not yet received (credit), so a slow consumer keeps both sides'
 * memory flat: at most `granted - received` elements are in flight or in the
 * worker's outbox, and the consumer's buffer holds the rest of what it
 * granted. Everything else of a stream job (queueing, interruption and its
 * grace, a worker's death, its end) is the engine's ordinary path.
 *
 * A stream job holds its worker until it ends: nothing is sent to a worker
 * behind it (`Policy.room` is 0 for a worker whose last job is a stream
 * job), so its worker counts as busy in `stats`, and a job sent ahead could
 * never start while the stream runs.
 *
 * @internal
 */
import * as Jobs from "./jobs.ts"
import { JSONParse } from "./primordials.ts"
import * as P from "./protocol.ts"

/** The consumer's side of a stream job: what it granted, what came, where elements go. */
export interface Sink {
  /** elements the consumer has let the worker send, in all (its first grant is its buffer) */
  granted: number
  /** elements that came from the worker, in all */
  received: number
  /**
   * Takes a batch of encoded elements, in order, synchronously, while the
   * engine routes what its worker sent: it must only store them (and may
   * schedule its consumer), never call back into the engine.
   */
  readonly onElements: (values: ReadonlyArray<unknown>) => void
}

export const makeSink = (bufferSize: number, onElements: Sink["onElements"]): Sink => ({
  granted: bufferSize,
  received: 0,
  onElements
})

/** Whether a job is a stream job. */
export const isStream = (job: { readonly mode: P.Mode }): boolean => job.mode === P.MODE_STREAM

/**
 * The credit a stream job's worker starts with, sent right after its `Run`:
 * what was granted and not received (a job queued again after its worker died
 * holding it, never started, had received nothing).
 */
export const initialCredit = (job: Jobs.Job<any>): P.Credit | undefined =>
  job.stream === undefined ? undefined : [P.CREDIT, job.id, job.stream.granted - job.stream.received]

/**
 * The consumer grants `n` more elements. A job not sent yet takes them with
 * its first credit; a sent one is told with the next flush (`send`). False
 * when there is nothing to send: the job ended, or has not left.
 */
export const grant = (job: Jobs.Job<any>, n: number, send: (credit: P.Credit) => void): boolean => {
  const sink = job.stream
  if (sink === undefined || n <= 0) return false
  sink.granted += n
  if (job.state !== "sent") return false
  send([P.CREDIT, job.id, n])
  return true
}

/**
 * Routes elements a worker sent: to the consumer of the stream job it runs,
 * if they fit (see `misfit`). An interrupted stream's last elements still
 * come: they count against its credit, and its consumer drops them. Elements
 * that do not fit a stream job it holds break the protocol of that stream, and
 * elements lost would stall it for ever: the worker is replaced (`lose`), and
 * the stream fails with `WorkerCrashed`. Elements for no stream job are
 * `dropped`, as any record that does not fit the parent's state.
 */
export const elements = (
  holder: Jobs.Holder,
  record: P.Elements,
  lose: (reason: string) => void,
  dropped: (misfit: string) => void
): void => {
  const i = Jobs.indexOf(holder, record[1])
  const job = i === -1 ? undefined : holder.inflight[i]!
  const values = typeof record[2] === "string" ? unpack(record[2]) : record[2]
  const wrong = values === undefined ? "elements that are not the JSON text of an array" : misfit(job, i, values.length)
  if (wrong === undefined) received(job!, values!)
  else if (job?.stream !== undefined) lose(`it sent ${wrong}`)
  else dropped(wrong)
}

/** The elements of a packed batch, or `undefined` for text that is not a non-empty JSON array. */
const unpack = (text: P.Packed): ReadonlyArray<unknown> | undefined => {
  let values: unknown
  try {
    values = JSONParse(text)
  } catch {
    return undefined
  }
  return Array.isArray(values) && values.length > 0 ? values : undefined
}

/**
 * What is wrong with elements a worker sent for the job it holds at
 * `index`, or `undefined` if they fit: only its running job (the first it
 * holds) may stream, only a stream job, and only within its credit.
 */
export const misfit = (job: Jobs.Job<any> | undefined, index: number, count: number): string | undefined => {
  if (job === undefined) return "elements for a job it does not hold"
  if (job.stream === undefined) return "elements for a job that is not a stream job"
  if (index !== 0) return "elements for a stream job that has not started"
  if (count > job.stream.granted - job.stream.received) {
    return `${count} elements beyond the credit of ${job.stream.granted - job.stream.received}`
  }
  return undefined
}

/** Takes a batch that fits (see `misfit`): counted against the credit, and handed to the consumer. */
export const received = (job: Jobs.Job<any>, values: ReadonlyArray<unknown>): void => {
  const sink = job.stream!
  sink.received += values.length
  sink.onElements(values)
}

/**
 * Whether an answer fits a stream job: `Done` with no values (the end of its
 * stream), an `Outcomes` with one outcome that is not a success (elements
 * come as `Elements`, never as a success), or a failed job.
 */
export const fitsEnd = (answer: P.Done | P.Outcomes | P.JobFailed): boolean => {
  switch (answer[0]) {
    case P.DONE:
      return answer[2].length === 0
    case P.OUTCOMES:
      return answer[2].length === 1 && answer[2][0]![0] !== P.SUCCESS
    case P.JOB_FAILED:
      return true
  }
}
