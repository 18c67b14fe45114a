/**
 * Calling the pool from Promise code: a `ManagedRuntime` holds the pool's
 * layer for the life of the program, and `promised` (lib/promised.ts) turns
 * a task into an async function that takes an `AbortSignal`, the shape
 * Promise code expects. An aborted call interrupts the task inside its
 * worker, and rejects with the signal's reason (an `AbortError`) once the
 * task has stopped. Disposing the runtime shuts the pool down.
 */
import { ManagedRuntime } from "effect"
import { ProcessPool } from "effect-process-pool"
import { promised } from "./lib/promised.ts"
import { countPrimesInSlices, TooLarge } from "./tasks/more.ts"
import type { Range } from "./tasks/primes.ts"

// one runtime for the program's life: it builds the pool on first use and holds it
const runtime = ManagedRuntime.make(ProcessPool.layer({ maxWorkers: 2 }))

/** `(range, { signal }) => Promise<number>`: what the rest of a Promise code base calls */
const countPrimes = promised(runtime)(countPrimesInSlices)
const range = (to: number): Range => ({ from: 0, to })

try {
  console.log(`primes below 1,000,000: ${await countPrimes(range(1_000_000))}`)

  // minutes of work, aborted after 200 ms
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 200)
  await countPrimes(range(5e8), { signal: controller.signal }).then(
    () => console.log("not aborted"),
    (error: Error) => console.log(`rejected: ${error.name}: ${error.message}`)
  )

  await countPrimes(range(2e9)).catch((error: unknown) =>
    console.log(`rejected: ${error instanceof TooLarge ? `TooLarge, to=${error.to}` : error}`)
  )
  // the aborted task stopped by itself: its worker was not killed
  const { crashed, restarted } = await runtime.runPromise(ProcessPool.stats)
  console.log(`crashed: ${crashed}, restarted: ${restarted}`)
} finally {
  await runtime.dispose()
}
