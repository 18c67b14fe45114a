/**
 * The messages between a cluster client and its runners: one Effect Cluster
 * entity, `effect-process-pool/Chunk`, with four RPCs. Both sides import
 * this file and no message literal appears anywhere else.
 *
 * - `Hello`: what a runner is — its identity, deployment tag, workers, the
 *   shards it holds and its pool's counters. The client's membership loop
 *   sends it to learn where entity ids land and whether a runner is alive.
 * - `Run`: one chunk, the cluster's form of a local job. It carries the
 *   task's reference (see `taskRef.ts`), the inputs already encoded by the
 *   client through the task's Schemas, and the caller's span and log level;
 *   the runner hands it to its own local pool untouched and answers with the
 *   same wire record a worker answers (`P.Done | P.Outcomes | P.JobFailed`),
 *   which the client decodes as a local pool does. Values are never decoded
 *   on the runner, so a runner needs none of the task's code but the module
 *   its workers import.
 * - `RunStream`: one stream job (`ProcessPool.stream`): the runner runs the
 *   streaming task on its local pool and answers with a stream of
 *   `StreamItem`s: batches of its elements (encoded, as the worker sent them)
 *   and, last, the job's end (a `RunReply`). Effect's stream RPC sends each
 *   chunk of the answer only once the one before was acknowledged by the
 *   client (`AckChunk`), so a runner runs at most a chunk ahead of what the
 *   client took; see `runnerStream.ts` and `clientStream.ts`.
 * - `Stop`: interrupts one chunk on its runner and answers once the chunk has
 *   really stopped (its worker confirmed, or was killed after
 *   `interruptGrace`), so an interrupted caller resumes only then, as
 *   locally. Interrupting the `Run` RPC alone would not tell when.
 *
 * Ids: a client numbers its chunks; `job` is the client's incarnation and
 * that number, unique across clients.
 *
 * @internal
 */
import * as Entity from "effect/cluster/Entity"
import * as Rpc from "effect/rpc/Rpc"
import * as Schema from "effect/Schema"
import { ProcessPoolErrorReason } from "../../ProcessPoolError.ts"

/** Where a runner finds a task's module; see `taskRef.ts` for the rule. */
export const ModuleRef = Schema.Union([
  /** a path relative to the deployment root, with `/` separators */
  Schema.Struct({ _tag: Schema.tag("Root"), path: Schema.String }),
  /** a file inside an installed package: the package's name and the path inside it */
  Schema.Struct({ _tag: Schema.tag("Package"), name: Schema.String, path: Schema.String })
])
export type ModuleRef = typeof ModuleRef.Type

export const TaskRef = Schema.Struct({
  module: ModuleRef,
  key: Schema.String,
  name: Schema.String
})
export type TaskRef = typeof TaskRef.Type

/** The counters of a runner's local pool (`ProcessPool.PoolStats`). */
export const RunnerStats = Schema.Struct({
  workers: Schema.Number,
  busy: Schema.Number,
  queued: Schema.Number,
  completed: Schema.Number,
  failed: Schema.Number,
  crashed: Schema.Number,
  restarted: Schema.Number
})
export type RunnerStats = typeof RunnerStats.Type

export const RunnerInfo = Schema.Struct({
  /** the runner's cluster address, `host:port` */
  address: Schema.String,
  /** differs for each start of a runner process, so a restart on the same address is a new runner */
  incarnation: Schema.String,
  deployment: Schema.String,
  /** `maxWorkers` of its local pool: how many chunks it runs at once */
  workers: Schema.Number,
  pid: Schema.Number,
  shardGroup: Schema.String,
  shardsPerGroup: Schema.Number,
  /** the shards (of `shardGroup`) this runner holds now */
  shards: Schema.Array(Schema.Number),
  stats: RunnerStats
})
export type RunnerInfo = typeof RunnerInfo.Type

/** A log entry made in a worker while it ran the chunk, for the client's loggers. */
export const LogEntry = Schema.Struct({
  level: Schema.String,
  message: Schema.Array(Schema.Unknown),
  annotations: Schema.Record(Schema.String, Schema.Unknown)
})
export type LogEntry = typeof LogEntry.Type

/** `P.Caller`: the caller's span (traceId, spanId, sampled) and minimum log level. */
export const Caller = Schema.Tuple([
  Schema.NullOr(Schema.Tuple([Schema.String, Schema.String, Schema.Boolean])),
  Schema.String
])

export const RunPayload = Schema.Struct({
  job: Schema.String,
  deployment: Schema.String,
  task: TaskRef,
  /** `P.Mode` */
  mode: Schema.Literals([0, 1]),
  /** the inputs' wire values (`codecFor(task.payload).encode`) */
  inputs: Schema.Array(Schema.Unknown),
  caller: Schema.optional(Caller)
})
export type RunPayload = typeof RunPayload.Type

/**
 * How a chunk ended on its runner, the `Engine.JobEnd` of the runner's pool:
 * answered by a worker (`answer` is the `P.Done | P.Outcomes | P.JobFailed`
 * record as it came), failed by the runner's pool or the runner itself
 * (`reason`), or interrupted there without the client asking (the runner is
 * shutting down): the client sends such a chunk elsewhere.
 */
export const RunReply = Schema.Union([
  Schema.Struct({
    _tag: Schema.tag("Answered"),
    answer: Schema.Unknown,
    /** the worker of the runner's pool that answered: `worker 3 (pid 4242)` */
    worker: Schema.String,
    /** the worker's time on the chunk, as the runner's pool measured it */
    serviceMs: Schema.Number,
    logs: Schema.Array(LogEntry)
  }),
  Schema.Struct({ _tag: Schema.tag("Errored"), reason: ProcessPoolErrorReason, logs: Schema.Array(LogEntry) }),
  Schema.Struct({ _tag: Schema.tag("Interrupted"), logs: Schema.Array(LogEntry) })
])
export type RunReply = typeof RunReply.Type

export const RunStreamPayload = Schema.Struct({
  job: Schema.String,
  deployment: Schema.String,
  task: TaskRef,
  /** the payload's wire value */
  input: Schema.Unknown,
  /** the runner's local credit: how many elements its worker may run ahead of the runner's sends */
  bufferSize: Schema.Number,
  caller: Schema.optional(Caller)
})
export type RunStreamPayload = typeof RunStreamPayload.Type

/**
 * One item of a `RunStream` answer: a batch of elements, or (last) the job's
 * end. `from` is the position of the batch's first element in the stream, so
 * that a client never takes an element twice (a request the cluster sent
 * again starts again at 0), and `logs` are the worker's entries since the
 * item before.
 */
export const StreamItem = Schema.Union([
  Schema.Struct({
    _tag: Schema.tag("Elements"),
    from: Schema.Number,
    values: Schema.Array(Schema.Unknown),
    logs: Schema.Array(LogEntry)
  }),
  RunReply
])
export type StreamItem = typeof StreamItem.Type

export const Hello = Rpc.make("Hello", { success: RunnerInfo })
export const Run = Rpc.make("Run", { payload: RunPayload, success: RunReply })
export const RunStream = Rpc.make("RunStream", { payload: RunStreamPayload, success: StreamItem, stream: true })
export const Stop = Rpc.make("Stop", { payload: { job: Schema.String }, success: Schema.Void })

/** The entity type name every runner registers and every client addresses. */
export const ENTITY_TYPE = "effect-process-pool/Chunk"

/**
 * The entity: a runner registers it (`Cluster.layerRunner`), a client sends
 * it chunks (`Cluster.layerClient`). Apps that compose their own cluster use
 * it through `Cluster.entity`.
 */
export const ChunkEntity = Entity.make(ENTITY_TYPE, [Hello, Run, RunStream, Stop])
