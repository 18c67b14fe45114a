/**
 * The thread floor with `effect` loaded through Node's module compile cache:
 * the thread turns the cache on (as the pool's threads do, see
 * src/internal/workerThread.ts), then loads bench/threadFloorEffectChild.js.
 * Beside that floor, it shows what the cache alone saves a bare thread, so
 * that the pool's threads are not credited with it.
 */
import * as NodeModule from "node:module"

NodeModule.enableCompileCache?.()
await import("./threadFloorEffectChild.js")
