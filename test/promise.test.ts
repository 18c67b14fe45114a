/**
 * The pool from Promise code, through the bridge of examples/lib/promised.ts
 * (the README's "Calling the pool from Promise code"): plain async tests, as
 * a Promise code base would write them. An aborted call must reject with the
 * signal's reason, and only once its task has stopped in its worker.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { ManagedRuntime } from "effect"
import { ProcessPool } from "effect-process-pool"
import { promised } from "../examples/lib/promised.ts"
import { delayed, Failed } from "./fixtures/tasks.ts"
import { readLines, tmpFile } from "./helpers/files.ts"

const runtime = ManagedRuntime.make(ProcessPool.layer({ maxWorkers: 1 }))
afterAll(() => runtime.dispose())
const run = promised(runtime)(delayed)

/** Resolves once `marker` has `line`; rejects after `withinMs`. */
const lineIn = async (marker: string, line: string, withinMs = 10_000) => {
  const start = Date.now()
  while (!readLines(marker).includes(line)) {
    if (Date.now() - start > withinMs) throw new Error(`no "${line}" in ${marker} after ${withinMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The rejection of `promise`; fails the test if it resolves. */
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (value) => assert.fail(`resolved with ${JSON.stringify(value)}`),
    (error: unknown) => error
  )

describe("calling the pool from Promise code", () => {
  it("resolves with the task's result, and rejects with its typed error as an instance of its class", async () => {
    assert.strictEqual(await run({ n: 7, ms: 0 }), 7)
    const error = await rejection(run({ n: 8, ms: 0, fail: true }))
    assert.instanceOf(error, Failed)
    assert.strictEqual((error as Failed).n, 8)
  })

  it("an aborted call rejects with the signal's reason once its task has stopped in its worker", async () => {
    const marker = tmpFile("marker")
    const controller = new AbortController()
    const call = rejection(run({ n: 1, ms: 60_000, marker }, { signal: controller.signal }))
    await lineIn(marker, "started 1")
    controller.abort()
    const error = await call
    assert.strictEqual(error, controller.signal.reason)
    assert.strictEqual((error as Error).name, "AbortError")
    assert.notInclude(String(error), "interrupted without error")
    // the task's interruption ran in its worker before the promise settled
    assert.deepStrictEqual(readLines(marker), ["started 1", "interrupted 1"])
    const stats = await runtime.runPromise(ProcessPool.stats)
    assert.deepStrictEqual([stats.crashed, stats.restarted, stats.busy], [0, 0, 0])
    assert.strictEqual(await run({ n: 2, ms: 0 }), 2)
  })

  it("an abort's own reason, and AbortSignal.timeout's TimeoutError, are what the call rejects with", async () => {
    const controller = new AbortController()
    const call = rejection(run({ n: 3, ms: 60_000 }, { signal: controller.signal }))
    const reason = new Error("the user left")
    setTimeout(() => controller.abort(reason), 100)
    assert.strictEqual(await call, reason)

    const timedOut = await rejection(run({ n: 4, ms: 60_000 }, { signal: AbortSignal.timeout(100) }))
    assert.strictEqual((timedOut as Error).name, "TimeoutError")
  })

  it("a call whose signal is already aborted rejects at once, and its task never starts", async () => {
    const marker = tmpFile("marker")
    const error = await rejection(run({ n: 5, ms: 0, marker }, { signal: AbortSignal.abort() }))
    assert.strictEqual((error as Error).name, "AbortError")
    assert.strictEqual(await run({ n: 6, ms: 0 }), 6) // the pool served the next call, so the aborted one was not held
    assert.deepStrictEqual(readLines(marker), [])
  })
})
