import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Task } from "../src/index.ts"
import * as L from "./fixtures/layered.ts"
import * as T from "./fixtures/tasks.ts"

describe("Task.make", () => {
  it("keeps the name, the module URL and the Schemas", () => {
    assert.strictEqual(T.square.name, "square")
    assert.strictEqual(T.square.module, new URL("./fixtures/tasks.ts", import.meta.url).href)
    assert.strictEqual(T.square.payload, Schema.Number)
    assert.isTrue(Task.isTask(T.square))
    assert.isFalse(Task.isTask({ name: "square" }))
  })

  it("refuses a missing name or module with a message that names it", () => {
    const options = { module: "", payload: Schema.Number, success: Schema.Number, run: Effect.succeed }
    assert.throws(
      () => Task.make("", { ...options, module: "file:///x.js" }),
      /`name` of Task.make to be a non-empty string/
    )
    assert.throws(() => Task.make("x", options), /`module` of task "x".*import.meta.url/)
  })

  it("refuses a module that a worker could not find as meant, naming the task and what it got", () => {
    const options = { payload: Schema.Number, success: Schema.Number, run: Effect.succeed }
    // a worker would resolve a relative path against the library's own folder
    assert.throws(
      () => Task.make("rel", { ...options, module: "./tasks.js" }),
      /`module` of task "rel" is a relative path, "\.\/tasks\.js".*new URL\("\.\/tasks\.js", import\.meta\.url\)/
    )
    assert.throws(() => Task.make("abs", { ...options, module: "/srv/app/tasks.js" }), /task "abs" is a file path/)
    assert.throws(
      () => Task.make("pkg", { ...options, module: "no-such-package/tasks" }),
      /task "pkg" is the package specifier "no-such-package\/tasks", which does not resolve/
    )
    // absolute URLs and package specifiers that resolve are fine
    assert.strictEqual(
      Task.make("url", { ...options, module: "file:///srv/app/tasks.js" }).module,
      "file:///srv/app/tasks.js"
    )
    assert.strictEqual(Task.make("bare", { ...options, module: "effect/Effect" }).module, "effect/Effect")
  })

  it("Task.provide keeps the name and adds the layer", () => {
    assert.strictEqual(L.salted.name, L.unsalted.name)
    assert.isDefined(L.salted.layer)
    assert.isUndefined(L.unsalted.layer)
    assert.notStrictEqual(L.salted.key, L.unsalted.key)
  })
})
