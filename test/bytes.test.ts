/**
 * Bytes cross as bytes wherever the channel carries them (a thread's port, a
 * process's "advanced" framing) and as base64 text under "json"; either way a
 * task's Schemas see the same values, and the caller keeps its own array.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ProcessPool } from "../src/index.ts"
import * as T from "./fixtures/tasks.ts"
import { framings } from "./helpers/kind.ts"

describe("a Uint8Array in a payload and a result", () => {
  for (const serialization of framings) {
    it.live(`crosses whole, with the values around it (${serialization ?? "thread"})`, () =>
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* ProcessPool.make({ maxWorkers: 1, ...(serialization ? { serialization } : {}) })
          const data = new Uint8Array(1024 * 1024)
          for (let i = 0; i < data.length; i++) data[i] = i % 251
          const at = new Date("2026-12-06T00:00:00.000Z")
          const result = yield* pool.run(T.reversed, { data, at })
          assert.instanceOf(result.data, Uint8Array)
          assert.strictEqual(result.data.length, data.length)
          assert.strictEqual(result.data[0], data[data.length - 1])
          assert.strictEqual(result.data[data.length - 1], data[0])
          assert.deepStrictEqual(result.at, new Date("2026-12-07T00:00:00.000Z"))
          // the caller's array is its own still: copied, never moved
          assert.strictEqual(data.length, 1024 * 1024)
          assert.strictEqual(data[1], 1)
          // a Buffer is bytes too, and arrives as bytes
          const fromBuffer = yield* pool.run(T.reversed, { data: Buffer.from([1, 2, 3]), at })
          assert.deepStrictEqual([...fromBuffer.data], [3, 2, 1])
        })
      )
    )
  }
})
