import { assert, describe, it } from "@effect/vitest"
import * as Tiering from "../../src/internal/tiering.ts"

describe("holding V8's tiers while a worker process loads", () => {
  it("holds unless the worker's Node options name a tier, on its command line or in NODE_OPTIONS", () => {
    assert.isTrue(Tiering.holds([], undefined))
    assert.isTrue(Tiering.holds(["--max-old-space-size=256", "--enable-source-maps"], "--trace-warnings"))
    for (const flag of ["--no-opt", "--maglev", "--no-turbofan", "--sparkplug", "--jitless"]) {
      assert.isFalse(Tiering.holds([flag], undefined), flag)
      assert.isFalse(Tiering.holds([], `--enable-source-maps ${flag}`), flag)
    }
  })
})
