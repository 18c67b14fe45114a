/**
 * The kind of worker this test run's pools use: the "thread" project of
 * vitest.config.ts sets `EFFECT_PROCESS_POOL_WORKER_TYPE` for every pool that
 * does not choose, and the programs the tests start inherit it. Tests read it
 * where a rule differs by kind (what a worker's name says, what only a process
 * has).
 */
export const workerType: "process" | "thread" =
  process.env.EFFECT_PROCESS_POOL_WORKER_TYPE === "thread" ? "thread" : "process"

/** Whether the workers of this run are processes. */
export const onProcesses = workerType === "process"

/** The framings a test tries: a process's two, or none to choose for a thread (`serialization` is refused there). */
export const framings: ReadonlyArray<"json" | "advanced" | undefined> = onProcesses ? ["json", "advanced"] : [undefined]

/** A worker's name, as errors and stacks give it, for this run's kind: `worker 3 (pid 4242)`, `worker 3 (thread 7)`. */
export const workerName = onProcesses ? String.raw`worker \d+ \(pid \d+\)` : String.raw`worker \d+ \(thread \d+\)`

/** The name errors give worker `id` of this run's kind, from what a fixture answers for it (`workerKey`). */
export const nameOf = (id: number, key: number): string =>
  onProcesses ? `worker ${id} (pid ${key})` : `worker ${id} (thread ${key - 1e9})`

/** What a `WorkerCrashed` says of the worker of `workerKey`: its pid, or its thread id. */
export const crashedOf = (key: number): { pid?: number; threadId?: number } =>
  onProcesses ? { pid: key } : { threadId: key - 1e9 }

/**
 * Pool options under which no worker can start: a process refuses a Node
 * option it does not know; a thread (which takes no unknown option: the pool
 * refuses it when made) fails on a module it preloads.
 */
export const unstartable = onProcesses
  ? { execArgv: ["--no-such-node-flag"] }
  : { execArgv: ["--import=data:text/javascript,throw new Error('this worker cannot start')"] }

/** What a worker's log entries are annotated with besides its id, from its `workerKey`. */
export const annotationsOf = (key: number): Record<string, number> =>
  onProcesses ? { pid: key } : { threadId: key - 1e9 }
