import { assert, describe, it } from "@effect/vitest"
import * as AnswerRing from "../../src/internal/answerRing.ts"
import * as P from "../../src/internal/protocol.ts"
import { ringFits } from "../../src/internal/worker/threadTransport.ts"
import { jsonFits } from "../../src/internal/workerThread.ts"

const run = (inputs: ReadonlyArray<unknown>): P.ToWorker => [P.RUN, 7, 0, P.MODE_STOP_ON_FAILURE, inputs, 0]

describe("which batches cross to a thread as JSON text", () => {
  it("Runs of numbers and short strings, with their task's definition", () => {
    assert.isTrue(jsonFits([[P.DEFINE, 0, "file:///m.js", "square", "square"], run([1, 2.5, "x", 2 ** 53 + 2])]))
    assert.isTrue(jsonFits([run(["a".repeat(AnswerRing.MAX_STRING)])]))
  })

  it("not what JSON changes or does not carry, nor long text (cheaper cloned)", () => {
    for (const input of [
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      undefined,
      null,
      true,
      [1],
      { a: 1 },
      new Uint8Array(1)
    ]) {
      assert.isFalse(jsonFits([run([1, input])]), String(input))
    }
    assert.isFalse(jsonFits([run(["a".repeat(AnswerRing.MAX_STRING + 1)])]))
    // a chunk of more than MAX_VALUES inputs is cheaper cloned, as answers are
    const many = Array.from({ length: AnswerRing.MAX_VALUES }, (_, i) => i)
    assert.isTrue(jsonFits([run(many)]))
    assert.isFalse(jsonFits([run([...many, 1])]))
  })

  it("a caller's trace context (a seventh field) when JSON carries it exactly", () => {
    const traced = (caller: unknown) => [P.RUN, 7, 0, P.MODE_STOP_ON_FAILURE, [1], 0, caller] as unknown as P.ToWorker
    const span = ["0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", true]
    assert.isTrue(jsonFits([traced([null, "Debug"])]))
    assert.isTrue(jsonFits([traced([span, "Info"]), traced([["a", "b", false], "Info"])]))
    for (const caller of [
      [["a".repeat(AnswerRing.MAX_STRING + 1), "b", true], "Info"],
      [["a", 1, true], "Info"],
      [["a", "b", "yes"], "Info"],
      [["a", "b"], "Info"],
      [span, "Info", "more"],
      [span, undefined],
      { span, level: "Info" }
    ]) {
      assert.isFalse(jsonFits([traced(caller)]), JSON.stringify(caller))
    }
    // only a Run's seventh field is a caller's context
    assert.isFalse(jsonFits([[P.INTERRUPT, 7, [null, "Info"]] as unknown as P.ToWorker]))
  })
})

describe("how a thread's answers take its ring", () => {
  const done = (values: ReadonlyArray<unknown>) => [P.DONE, 7, values]

  it("answers of numbers only as numbers, up to MAX_NUMBERS values in a batch", () => {
    assert.strictEqual(ringFits([done([1, 2.5]), done([4]), done([])]), "numbers")
    const half = Array.from({ length: AnswerRing.MAX_NUMBERS / 2 }, (_, i) => i ** 4 + 0.5)
    assert.strictEqual(ringFits([done(half), done(half)]), "numbers")
    assert.isUndefined(ringFits([done(half), done([...half, 1])]))
  })

  it("answers of numbers and short strings as JSON text, up to MAX_VALUES values in a batch", () => {
    assert.strictEqual(ringFits([done([1, 2.5, "x"]), done([4])]), "text")
    assert.strictEqual(ringFits([done([1]), done(["x"])]), "text")
    const half = Array.from({ length: AnswerRing.MAX_VALUES / 2 }, (_, i) => i ** 4)
    assert.strictEqual(ringFits([done(half), done([...half.slice(1), "x"])]), "text")
  })

  it("not a batch of more values as text (cheaper cloned), nor what JSON does not carry, nor other records", () => {
    const half = Array.from({ length: AnswerRing.MAX_VALUES / 2 }, (_, i) => i ** 4)
    assert.isUndefined(ringFits([done(half), done([...half, "x"])]))
    assert.isUndefined(ringFits([done(["x", ...half]), done(half)]))
    // the numbers JSON would not carry as they are take the port, as they would on a process's channel
    assert.isUndefined(ringFits([done([1, Number.NaN])]))
    assert.isUndefined(ringFits([done([-0])]))
    assert.isUndefined(ringFits([done(["a".repeat(AnswerRing.MAX_STRING + 1)])]))
    assert.isUndefined(ringFits([done([1]), [P.OUTCOMES, 8, [[P.INTERRUPTED]]]]))
  })
})
