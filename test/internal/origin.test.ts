/**
 * The frame that says which worker ran which task goes first in a stack,
 * where `Cause.pretty` cannot cut it off, whatever the stack looks like.
 */
import { assert, describe, it } from "@effect/vitest"
import { withFrame, workerFrame } from "../../src/internal/origin.ts"

const frame = workerFrame("worker 3 (pid 42)", "t")

describe("withFrame", () => {
  it("puts the frame right after the `name: message` line", () => {
    assert.strictEqual(
      withFrame("Error: boom\n    at f (a.js:1:1)\n    at g (a.js:2:2)", "Error", "boom", frame),
      `Error: boom\n${frame}\n    at f (a.js:1:1)\n    at g (a.js:2:2)`
    )
  })

  it("keeps a message of several lines whole", () => {
    assert.strictEqual(
      withFrame("Error: one\ntwo\n    at f (a.js:1:1)", "Error", "one\ntwo", frame),
      `Error: one\ntwo\n${frame}\n    at f (a.js:1:1)`
    )
  })

  it("finds the first line of an empty message (`name` alone)", () => {
    assert.strictEqual(
      withFrame("Error\n    at f (a.js:1:1)", "Error", "", frame),
      `Error\n${frame}\n    at f (a.js:1:1)`
    )
  })

  it("puts it before the first frame when the first line is not `name: message`", () => {
    // a name or message changed after the stack was made
    assert.strictEqual(
      withFrame("Error: boom\n    at f (a.js:1:1)", "Custom", "boom", frame),
      `Error: boom\n${frame}\n    at f (a.js:1:1)`
    )
    // a longer first line that only begins with `name: message`
    assert.strictEqual(
      withFrame("Error: boom!\n    at f (a.js:1:1)", "Error", "boom", frame),
      `Error: boom!\n${frame}\n    at f (a.js:1:1)`
    )
  })

  it("ends a stack without frames with it, and makes one for a missing stack", () => {
    assert.strictEqual(withFrame("a stack of its own", "Error", "boom", frame), `a stack of its own\n${frame}`)
    assert.strictEqual(withFrame(undefined, "RangeError", "boom", frame), `RangeError: boom\n${frame}`)
  })

  it("names the worker and the task, and a detail after them", () => {
    assert.strictEqual(frame, '    at effect-process-pool worker 3 (pid 42), task "t"')
    assert.strictEqual(
      workerFrame("worker 3 (thread 7)", "t", 'a typed error: {"n":1}'),
      '    at effect-process-pool worker 3 (thread 7), task "t", a typed error: {"n":1}'
    )
  })
})
