/**
 * The entry point the pool forks. It is tiny on purpose: it turns on Node's
 * module compile cache (or finds it on since start-up, see
 * `protocol.ts` COMPILE_CACHE_ENV) and holds V8's optimising tiers off (see tiering.ts)
 * before anything heavy is imported (importing `effect` is most of a worker's
 * start time), ignores SIGINT, then loads the worker's runtime
 * (`worker/runtime.ts`) and starts it on the process transport (fds 3 and 4,
 * `worker/processTransport.ts`). The tiering flags and the signal handler are
 * process-wide: a worker thread's entry (`threadMain.ts`) does neither (its
 * compile cache, which is per thread, is turned on by its bootstrap in
 * `workerThread.ts`). It is the only module of the worker with effects at
 * import time.
 *
 * SIGINT: Ctrl-C reaches the whole process group; the parent's runtime is the
 * one to react, and it shuts the pool down in order. Only SIGINT is ignored: a
 * SIGTERM listener would make `kill()` do nothing.
 *
 * @internal
 */
import * as NodeModule from "node:module"
import { COMPILE_CACHE_ENV, WORKER_ENV } from "./protocol.ts"
import * as Tiering from "./tiering.ts"

process.on("SIGINT", () => {})
if (process.env[WORKER_ENV] === undefined) {
  process.stderr.write("effect-process-pool: this is the worker entry of a process pool; it runs only under one\n")
  process.exit(1)
}
// on since start-up in the directory the pool chose (see COMPILE_CACHE_ENV): a task sees the user's variable, or none
const userCacheDir = process.env[COMPILE_CACHE_ENV]
if (userCacheDir !== undefined) {
  if (userCacheDir === "") delete process.env.NODE_COMPILE_CACHE
  else process.env.NODE_COMPILE_CACHE = userCacheDir
  delete process.env[COMPILE_CACHE_ENV]
}
NodeModule.enableCompileCache?.()
Tiering.hold()
const [Runtime, Transport] = await Promise.all([import("./worker/runtime.ts"), import("./worker/processTransport.ts")])
Runtime.start(Transport.make())
