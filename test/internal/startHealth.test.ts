import { assert, describe, it } from "@effect/vitest"
import * as StartHealth from "../../src/internal/startHealth.ts"
import type { WorkerStartError } from "../../src/ProcessPoolError.ts"

/** The record reads nothing of an error: stand-ins will do. */
const cannotStart = { _tag: "WorkerStartError", what: "spawn" } as unknown as WorkerStartError
const cannotImport = { _tag: "WorkerStartError", what: "import" } as unknown as WorkerStartError
const MODULE = "file:///tasks.ts"

describe("workers killed from outside while starting", () => {
  it("are retried 4 times in a row without a failure; the 5th kill in a row is a start failure", () => {
    const health = StartHealth.make()
    for (let i = 0; i < 4; i++) {
      assert.strictEqual(StartHealth.startFailed(health, true, 0), "retry")
      assert.strictEqual(health.failures, 0)
      assert.isFalse(StartHealth.oneAtATime(health))
    }
    assert.strictEqual(StartHealth.startFailed(health, true, 0), "failed")
    assert.strictEqual(health.failures, 1)
    assert.isTrue(StartHealth.oneAtATime(health))
    // and every kill after it, until a worker is ready
    assert.strictEqual(StartHealth.startFailed(health, true, 0), "failed")
    assert.strictEqual(health.failures, 2)
  })

  it("back off like failed starts: 100 ms, then twice as long each time", () => {
    const health = StartHealth.make()
    const waits: Array<number> = []
    for (let i = 0; i < 4; i++) {
      StartHealth.startFailed(health, true, 1_000)
      waits.push(health.nextStartAt - 1_000)
    }
    assert.deepStrictEqual(waits, [100, 200, 400, 800])
  })
})

describe("failed starts", () => {
  it("a start that fails other than by a kill is a failure at once, and each next one waits twice as long", () => {
    const health = StartHealth.make()
    const waits: Array<number> = []
    for (let i = 0; i < 3; i++) {
      assert.strictEqual(StartHealth.startFailed(health, false, 1_000), "failed")
      waits.push(health.nextStartAt - 1_000)
    }
    assert.deepStrictEqual(waits, [100, 200, 400])
    assert.strictEqual(health.failures, 3)
    assert.isTrue(StartHealth.oneAtATime(health))
  })

  it("while no worker is live and none can start, jobs are refused until the next attempt", () => {
    const health = StartHealth.make()
    StartHealth.startFailed(health, false, 1_000)
    StartHealth.noneCanStart(health, cannotStart)
    assert.strictEqual(StartHealth.refusal(health, MODULE, 1_050, 0), cannotStart)
    // a live worker can serve them
    assert.isUndefined(StartHealth.refusal(health, MODULE, 1_050, 1))
    // the next attempt is due: its outcome decides
    assert.isUndefined(StartHealth.refusal(health, MODULE, 1_100, 0))
  })

  it("a worker that is ready resets the failures, the kills and the refusal", () => {
    const health = StartHealth.make()
    StartHealth.startFailed(health, true, 0)
    StartHealth.startFailed(health, false, 0)
    StartHealth.noneCanStart(health, cannotStart)
    StartHealth.started(health)
    assert.strictEqual(health.failures, 0)
    assert.strictEqual(health.killed, 0)
    assert.isUndefined(health.broken)
    assert.isFalse(StartHealth.oneAtATime(health))
    assert.isUndefined(StartHealth.refusal(health, MODULE, 0, 0))
    // the next start need not wait out the last back-off
    assert.strictEqual(health.nextStartAt, 0)
    // kills are counted from zero again: 4 more retries
    for (let i = 0; i < 4; i++) assert.strictEqual(StartHealth.startFailed(health, true, 0), "retry")
    assert.strictEqual(StartHealth.startFailed(health, true, 0), "failed")
  })
})

describe("modules that fail to import", () => {
  it("their jobs are refused until retryAt, and then the next one is the trial", () => {
    const health = StartHealth.make()
    StartHealth.moduleBroken(health, MODULE, cannotImport, 1_000)
    assert.strictEqual(health.modules.get(MODULE)?.retryAt, 1_100)
    assert.strictEqual(StartHealth.refusal(health, MODULE, 1_000, 4), cannotImport)
    assert.strictEqual(StartHealth.refusal(health, MODULE, 1_099, 4), cannotImport)
    assert.isUndefined(StartHealth.refusal(health, MODULE, 1_100, 4))
  })

  it("the jobs of other modules are not refused", () => {
    const health = StartHealth.make()
    StartHealth.moduleBroken(health, MODULE, cannotImport, 1_000)
    assert.isUndefined(StartHealth.refusal(health, "file:///other.ts", 1_000, 4))
  })

  it("each next import failure of a module waits twice as long", () => {
    const health = StartHealth.make()
    const waits: Array<number> = []
    let now = 1_000
    for (let i = 0; i < 4; i++) {
      StartHealth.moduleBroken(health, MODULE, cannotImport, now)
      const retryAt = health.modules.get(MODULE)!.retryAt
      waits.push(retryAt - now)
      now = retryAt
    }
    assert.deepStrictEqual(waits, [100, 200, 400, 800])
  })

  it("a module whose job was answered is refused no more, and its failures are forgotten", () => {
    const health = StartHealth.make()
    StartHealth.moduleBroken(health, MODULE, cannotImport, 0)
    StartHealth.moduleBroken(health, MODULE, cannotImport, 100)
    StartHealth.moduleLoads(health, MODULE)
    assert.isUndefined(StartHealth.refusal(health, MODULE, 150, 1))
    assert.strictEqual(health.modules.size, 0)
    StartHealth.moduleBroken(health, MODULE, cannotImport, 1_000)
    assert.strictEqual(health.modules.get(MODULE)?.retryAt, 1_100)
  })
})
