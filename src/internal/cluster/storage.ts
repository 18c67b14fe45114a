/**
 * The cluster's storage failing while a member joins: typed, not a defect.
 *
 * Effect Cluster's SQL storage layers die on a storage error while they are
 * built: `NodeClusterSocket.layer` wraps `SqlRunnerStorage.layer` in
 * `Layer.orDie`, and `SqlMessageStorage`'s migrations end in `Effect.orDie`.
 * So with PostgreSQL gone, a member's layer (a new client, a runner that
 * starts) dies within milliseconds with a `SqlError` defect — though its type
 * promises a typed `SqlError` (`PgClient.layer`'s), which `Layer.retry` or
 * `Effect.catchTag("SqlError", …)` could handle. `Cluster.layerClient` cannot
 * catch it: the member's `Sharding` is built before it. So `Cluster` offers
 * `withStorageErrors`, which wraps the member's layer and turns that defect
 * back into the typed `SqlError` (same reason class and `cause`), with a
 * message that says it is the cluster's storage. Other defects stay defects.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { isSqlError, SqlError, type SqlErrorReason } from "effect/sql/SqlError"

/** The `SqlError` a cause died with, if it died with one. */
export const storageDefect = (cause: Cause.Cause<unknown>): SqlError | undefined => {
  for (const reason of cause.reasons) {
    if (Cause.isDieReason(reason) && isSqlError(reason.defect)) return reason.defect
  }
  return undefined
}

/** The innermost message of an error's `cause` chain ("connect ECONNREFUSED 127.0.0.1:5432"), bounded. */
const rootMessage = (error: unknown): string | undefined => {
  let message: string | undefined
  let current: unknown = error
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const m = (current as { message?: unknown }).message
    if (typeof m === "string" && m !== "") message = m
    current = (current as { cause?: unknown }).cause
  }
  return message
}

/** The same error, typed, with a message that names the cluster's storage and the root cause. */
export const storageError = (defect: SqlError): SqlError => {
  const reason = defect.reason
  const root = rootMessage(reason.cause)
  const what = reason.message || reason._tag
  const Reason = reason.constructor as new (fields: {
    readonly cause: unknown
    readonly message?: string
    readonly operation?: string
  }) => SqlErrorReason
  return new SqlError({
    reason: new Reason({
      cause: reason.cause,
      message: `The cluster's storage could not be used while this member joined the cluster: ${what}${
        root !== undefined && root !== what ? ` (${root})` : ""
      }`,
      ...(reason.operation !== undefined ? { operation: reason.operation } : {})
    })
  })
}

/** `member`, whose `SqlError` defects while it is built fail it with a typed `SqlError`. */
export const withStorageErrors = <A, E, R>(member: Layer.Layer<A, E, R>): Layer.Layer<A, E | SqlError, R> =>
  Layer.catchCause(member, (cause) => {
    const defect = storageDefect(cause)
    const failure: Effect.Effect<never, E | SqlError> =
      defect === undefined ? Effect.failCause(cause) : Effect.fail(storageError(defect))
    return Layer.effectDiscard(failure)
  }) as Layer.Layer<A, E | SqlError, R>
