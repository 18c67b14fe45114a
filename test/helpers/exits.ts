/**
 * What a test reads off a failed call: the pool error's reason, or the defect
 * an exit died with.
 */
import { assert } from "@effect/vitest"
import { Cause, Exit } from "effect"
import type { ProcessPoolError } from "../../src/index.ts"

/** The reason of a `ProcessPoolError`. */
export const reasonOf = (error: unknown) => (error as ProcessPoolError.ProcessPoolError).reason

/** The test fails unless `exit` is a failure with a defect. */
export function assertDies<A, E>(exit: Exit.Exit<A, E>): asserts exit is Exit.Failure<A, E> {
  assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause), "expected a defect")
}

/** The defect `exit` died with; the test fails unless it is a failure with a defect. */
export const defectOf = <A, E>(exit: Exit.Exit<A, E>): Error => {
  assertDies(exit)
  return Cause.squash(exit.cause) as Error
}
