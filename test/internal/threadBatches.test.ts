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
    // a caller's trace context travels as a seventh field
    assert.isFalse(jsonFits([[P.RUN, 7, 0, P.MODE_STOP_ON_FAILURE, [1], 0, [null, "Debug"]] as unknown as P.ToWorker]))
  })
})

describe("which answers a thread writes to its ring as JSON text", () => {
  const done = (values: ReadonlyArray<unknown>) => [P.DONE, 7, values]

  it("answers of numbers and short strings, up to MAX_VALUES values in a batch", () => {
    assert.isTrue(ringFits([done([1, 2.5, "x"]), done([4])]))
    const half = Array.from({ length: AnswerRing.MAX_VALUES / 2 }, (_, i) => i ** 4)
    assert.isTrue(ringFits([done(half), done(half)]))
  })

  it("not a batch of more values (cheaper cloned), nor what JSON does not carry, nor other records", () => {
    const half = Array.from({ length: AnswerRing.MAX_VALUES / 2 }, (_, i) => i ** 4)
    assert.isFalse(ringFits([done(half), done([...half, 1])]))
    assert.isFalse(ringFits([done([1, Number.NaN])]))
    assert.isFalse(ringFits([done(["a".repeat(AnswerRing.MAX_STRING + 1)])]))
    assert.isFalse(ringFits([done([1]), [P.OUTCOMES, 8, [[P.INTERRUPTED]]]]))
  })
})
