import * as NodeV8 from "node:v8"
import * as NodeVm from "node:vm"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { JobFiber } from "../../src/internal/jobFiber.ts"

const make = () => Effect.runSync(Effect.withFiber((parent) => Effect.succeed(new JobFiber<number, string>(parent))))

describe("JobFiber", () => {
  it("calls every observer even if one throws, then throws the first error", () => {
    const fiber = make()
    const seen: Array<string> = []
    fiber.addObserver(() => {
      seen.push("a")
      throw new Error("first")
    })
    fiber.addObserver(() => {
      seen.push("b")
      throw new Error("second")
    })
    fiber.addObserver(() => seen.push("c"))
    assert.throws(() => fiber.end(Exit.succeed(1)), "first")
    assert.deepStrictEqual(seen, ["a", "b", "c"])
    // ended once: a later end changes nothing, a later observer hears at once
    fiber.end(Exit.succeed(2))
    fiber.addObserver((exit) => seen.push(String(Exit.isSuccess(exit) && exit.value)))
    assert.deepStrictEqual(seen, ["a", "b", "c", "1"])
  })

  it("interrupted, it ends once its job has stopped, with the interruption's cause", () => {
    const fiber = make()
    let stopped: (() => void) | undefined
    const job = { id: 1 }
    fiber.started((stopping: typeof job, onStopped) => {
      assert.strictEqual(stopping, job)
      stopped = onStopped
    }, job)
    fiber.interruptUnsafe(7)
    assert.isUndefined(fiber.pollUnsafe())
    stopped!()
    const exit = fiber.pollUnsafe()!
    assert.isTrue(Exit.hasInterrupts(exit))
    assert.isTrue(Fiber.isFiber(fiber))
  })

  it("ended, it lets go of its job: a handle not joined yet holds only its exit", async () => {
    NodeV8.setFlagsFromString("--expose-gc")
    const gc = NodeVm.runInNewContext("gc") as () => void
    const fiber = make()
    const job = (() => {
      const job = { inputs: new Array(1000).fill(0) }
      fiber.started(() => {}, job)
      return new WeakRef(job)
    })()
    fiber.end(Exit.succeed(1))
    // a WeakRef keeps its target until the end of the turn that made it
    await new Promise((resolve) => setTimeout(resolve, 0))
    gc()
    assert.isUndefined(job.deref())
    assert.deepStrictEqual(fiber.pollUnsafe(), Exit.succeed(1))
  })

  it("has run no operation, keeps one dispatcher, and an id in V8's small-integer range", () => {
    const fiber = make()
    assert.strictEqual(fiber.currentOpCount, 0)
    assert.strictEqual(fiber.currentDispatcher, fiber.currentDispatcher)
    assert.notStrictEqual(make().currentDispatcher, fiber.currentDispatcher)
    // above any id Effect gives its fibers, and below 2^31: not a heap number of its own
    assert.isTrue(fiber.id > 2 ** 30 - 1 && fiber.id < 2 ** 31 - 1 && Number.isInteger(fiber.id))
  })

  it("keeps one observer or many: each is called once, a removed one never, a lone one's throw is thrown", () => {
    const one = make()
    const seen: Array<string> = []
    one.addObserver(() => {
      seen.push("lone")
      throw new Error("lone")
    })
    assert.throws(() => one.end(Exit.succeed(1)), "lone")
    const two = make()
    const first = () => seen.push("first")
    two.addObserver(first)
    two.addObserver(() => seen.push("second"))
    two.removeObserver(first)
    const third = () => seen.push("third")
    two.addObserver(third)
    two.removeObserver(() => {})
    two.end(Exit.succeed(2))
    two.end(Exit.succeed(3))
    assert.deepStrictEqual(seen, ["lone", "second", "third"])
  })

  it("a removed observer is not called", () => {
    const fiber = make()
    let calls = 0
    const remove = fiber.addObserver(() => calls++)
    remove()
    fiber.end(Exit.fail("no"))
    assert.strictEqual(calls, 0)
  })
})
