/**
 * What the coordinator checks of a record a worker sent, against its own
 * state, before it uses it (`protocol.ts` checks only the record's shape), and
 * how it shows one it drops in a log line.
 *
 * @internal
 */
import type * as Jobs from "./jobs.ts"
import * as P from "./protocol.ts"
import * as StreamJobs from "./streamJobs.ts"

/** A short rendering of something a worker sent, for a log line, at most this long. */
const PREVIEW_CHARS = 120

/**
 * Whether an answer has as many outcomes as its job can have: one per input,
 * or fewer for a chunk that stopped early; a stream job's, see `StreamJobs.fitsEnd`.
 */
export const fitsJob = (answer: P.Done | P.Outcomes | P.JobFailed, job: Jobs.Job<any>): boolean => {
  if (StreamJobs.isStream(job)) return StreamJobs.fitsEnd(answer)
  switch (answer[0]) {
    case P.DONE:
      return answer[2].length === job.count
    case P.OUTCOMES:
      return answer[2].length <= job.count
    case P.JOB_FAILED:
      return true
  }
}

/** A short rendering of something a worker sent, for a log line. */
export const preview = (u: unknown): string => {
  let text: string
  try {
    text = JSON.stringify(u) ?? String(u)
  } catch {
    text = Object.prototype.toString.call(u)
  }
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text
}
