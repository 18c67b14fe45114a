/**
 * effect-process-pool: Python's `concurrent.futures.ProcessPoolExecutor` for
 * Effect on Node.js.
 *
 * - `Task`: a typed function that runs in a worker process.
 * - `ProcessPool`: the pool, a scoped service, and its operations.
 * - `ProcessPoolError`: the pool's own failures.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as ProcessPool from "./ProcessPool.ts"

/**
 * @since 0.1.0
 */
export * as ProcessPoolError from "./ProcessPoolError.ts"

/**
 * @since 0.1.0
 */
export * as Task from "./Task.ts"
