/**
 * The render tasks of ours, written as the README's "Lean task modules" says:
 * deep imports, and `marked` imported inside `run` (Node caches the module, so
 * each worker pays once), so that the parent, which imports this module for
 * the Schemas, never loads `marked`, and a worker loads it on its first render.
 *
 * The other implementations run the same function (bench/real/render.ts):
 * piscina's worker (bench/real/piscinaWorker.ts), the sequential job and the
 * inline server.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Task from "effect-process-pool/Task"

const load = () => Effect.promise(() => import("./render.ts"))

/** A Markdown file's path → its HTML: the worker reads the file. */
export const renderFile = Task.make("renderFile", {
  module: import.meta.url,
  payload: Schema.String,
  success: Schema.String,
  run: (path) => Effect.map(load(), (render) => render.renderFile(path))
})

/** Markdown text → its HTML: the HTTP workload's task, the document crossing with each request. */
export const renderText = Task.make("renderText", {
  module: import.meta.url,
  payload: Schema.String,
  success: Schema.String,
  run: (text) => Effect.map(load(), (render) => render.renderText(text))
})
