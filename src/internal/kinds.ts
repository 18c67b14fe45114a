/**
 * The kind of worker a pool runs (`workerType`), built with the pool's
 * options: `workerProcess.ts` or `workerThread.ts`.
 *
 * @internal
 */
import type { EngineOptions } from "./engineState.ts"
import type { WorkerKind } from "./workerKind.ts"
import * as WorkerProcess from "./workerProcess.ts"
import * as WorkerThread from "./workerThread.ts"

export const forOptions = (options: EngineOptions): WorkerKind =>
  options.workerType === "thread"
    ? WorkerThread.kind(WorkerThread.configOf(options))
    : WorkerProcess.kind(WorkerProcess.configOf(options))
