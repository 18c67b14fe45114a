/**
 * The HTTP workload's server (workload 3 of bench/real.ts): an Effect HTTP
 * server (@effect/platform-node) on 127.0.0.1 and a free port, with
 *
 * - GET /render   the fixed document (bench/real/corpus.ts) rendered to HTML
 * - GET /health   "ok", from the event loop: the cheap route
 *
 * The render runs where the implementation puts it:
 * - `sequential` ("inline"): on the server's event loop, the baseline;
 * - `ours`: `pool.run(renderText, document)` on our pool, provided outside
 *   `serve` as the README's "Serving CPU work over HTTP" shows; the document
 *   crosses to the worker with each request and the HTML comes back, as the
 *   body of a request would in a real service;
 * - `piscina`: `piscina.run(document, { name: "renderText", signal })`, the pool
 *   a scoped service (destroyed when the server stops), the abort signal
 *   Effect's, so that a client that goes away cancels its render as ours does.
 *
 *   node --conditions=effect-process-pool:source bench/real/server.ts <sequential|ours|piscina> '<ServerConfig JSON>'
 *
 * It prints "Listening on http://127.0.0.1:<port>" once it serves, and stops
 * on SIGTERM (NodeRuntime), closing its pool. The per-request log of
 * `HttpRouter.serve` is off for every variant: it would measure the logger and
 * the harness's pipe rather than the render.
 */
import * as NodeHttp from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import * as Layer from "effect/Layer"
import { ProcessPool } from "effect-process-pool"
import { document } from "./corpus.ts"

export interface ServerConfig {
  readonly workers: number
  /** ours: options added to `ProcessPool.layer`'s (e.g. `workerType`) */
  readonly poolOptions?: Record<string, unknown> | undefined
  /** the document: `source` `repeat` times (bench/real/corpus.ts) */
  readonly source: string
  readonly repeat: number
}

/** Where the render runs: the one thing the variants change. */
class Render extends Context.Service<Render, { readonly render: (text: string) => Effect.Effect<string> }>()(
  "bench/Render"
) {}

const inline = Layer.effect(
  Render,
  Effect.map(
    Effect.promise(() => import("./render.ts")),
    ({ renderText }) => ({ render: (text: string) => Effect.sync(() => renderText(text)) })
  )
)

const ours = (config: ServerConfig) =>
  Layer.effect(
    Render,
    Effect.gen(function* () {
      const { renderText } = yield* Effect.promise(() => import("./markdown.ts"))
      // `poolOptions` may name options this version does not have yet (`workerType`): the pool refuses them itself
      const pool = yield* ProcessPool.make({ maxWorkers: config.workers, ...config.poolOptions } as ProcessPool.Options)
      return { render: (text: string) => Effect.orDie(pool.run(renderText, text)) }
    })
  )

const piscina = (config: ServerConfig) =>
  Layer.effect(
    Render,
    Effect.gen(function* () {
      const { Piscina } = yield* Effect.promise(() => import("piscina"))
      const pool = yield* Effect.acquireRelease(
        Effect.sync(
          () =>
            new Piscina<string, string>({
              filename: new URL("./piscinaWorker.ts", import.meta.url).href,
              minThreads: config.workers,
              maxThreads: config.workers
            })
        ),
        (pool) => Effect.promise(() => pool.destroy())
      )
      return {
        render: (text: string) => Effect.promise((signal) => pool.run(text, { name: "renderText", signal }))
      }
    })
  )

const [kind, json] = process.argv.slice(2)
const config = JSON.parse(json!) as ServerConfig
const variants: Record<string, Layer.Layer<Render>> = {
  sequential: inline,
  ours: ours(config),
  piscina: piscina(config)
}
const variant = variants[kind!]
if (variant === undefined)
  throw new Error(`usage: server.ts <${Object.keys(variants).join("|")}> '<ServerConfig JSON>'`)

const text = document(config.source, config.repeat)

const Health = HttpRouter.add("GET", "/health", HttpServerResponse.text("ok"))

const RenderRoute = HttpRouter.add(
  "GET",
  "/render",
  Effect.gen(function* () {
    const { render } = yield* Render
    return HttpServerResponse.text(yield* render(text), { contentType: "text/html" })
  })
)

const Server = HttpRouter.serve(Layer.mergeAll(Health, RenderRoute), { disableLogger: true }).pipe(
  Layer.provide(variant),
  Layer.provide(NodeHttpServer.layer(NodeHttp.createServer, { host: "127.0.0.1", port: 0 }))
)

Layer.launch(Server).pipe(NodeRuntime.runMain)
