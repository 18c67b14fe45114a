/**
 * What a job's failure is on the wire: the outcome of a failed `Exit` of the
 * task's (an input's, a stream's, its layer's), and of a value that did not
 * fit its Schema. Shared by plain jobs (`execution.ts`) and stream jobs
 * (`streamRun.ts`).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import { CodecFailure, codecFor, NO_ERROR_SCHEMA, preview, serializeDefect, type Wire } from "../codec.ts"
import * as P from "../protocol.ts"
import type { AnyTask } from "./loading.ts"

/** The outcome of a value that did not fit its Schema, with what the Schema threw, if it threw. */
export const codecOutcome = (phase: P.CodecPhase, failure: CodecFailure): P.Outcome =>
  failure.cause === undefined
    ? [P.CODEC_ERROR, phase, failure.message]
    : [P.CODEC_ERROR, phase, failure.message, serializeDefect(failure.cause)]

/** The outcome of a failed `Exit` of the task's (an input's, or its layer's). */
export const outcomeOfFailure = (
  task: { readonly error: AnyTask["error"] },
  cause: Cause.Cause<unknown>,
  wire: Wire
): P.Outcome => {
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) {
    if (task.error === undefined) {
      return [P.CODEC_ERROR, "failure", `${NO_ERROR_SCHEMA} (it failed with ${preview(failure.error)})`]
    }
    const encoded = codecFor(task.error, wire).encode(failure.error)
    if (encoded instanceof CodecFailure) return codecOutcome("failure", encoded)
    const stack = failure.error instanceof Error ? failure.error.stack : undefined
    return typeof stack === "string" ? [P.FAILURE, encoded, stack] : [P.FAILURE, encoded]
  }
  const defect = cause.reasons.find(Cause.isDieReason)
  if (defect !== undefined) return [P.DEFECT, serializeDefect(defect.defect)]
  return [P.INTERRUPTED]
}
