/**
 * Serving CPU work over HTTP: an Effect HTTP server whose CPU-bound route runs
 * its work on the pool, so the server's own event loop stays free for the
 * cheap routes. `PORT=8080 npm run example -- http-server`, then
 * `curl 127.0.0.1:8080/primes/2000000`; without `PORT` it takes a free port.
 * It prints the address it listens on, and stops on Ctrl-C (or SIGTERM),
 * shutting the pool down with it.
 *
 * - GET /health           "ok", from the event loop: cheap
 * - GET /primes/:below    the number of primes below `below`, counted in a worker
 */
import * as NodeHttp from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Schema } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { ProcessPool } from "effect-process-pool"
import { countPrimes } from "./tasks/primes.ts"

// a bound on the work one request may ask for; an invalid parameter is a 400
const Below = Schema.FiniteFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 50_000_000 }))

const Health = HttpRouter.add("GET", "/health", HttpServerResponse.text("ok"))

// The handler requires the pool: the router turns that into a requirement of the
// server layer, met below. A client that disconnects interrupts the handler, and
// with it the task in its worker.
const Primes = HttpRouter.add(
  "GET",
  "/primes/:below",
  Effect.gen(function* () {
    const { below } = yield* HttpRouter.schemaPathParams(Schema.Struct({ below: Below }))
    const count = yield* ProcessPool.run(countPrimes, { from: 0, to: below })
    return HttpServerResponse.jsonUnsafe({ below, count })
  })
)

const Server = HttpRouter.serve(Layer.mergeAll(Health, Primes)).pipe(
  // Outside `serve`: one pool for the life of the server, shared by every request.
  // Provided to the `Primes` layer instead, it would not reach the handler, which
  // runs per request, and the program would not type-check.
  Layer.provide(ProcessPool.layer()),
  Layer.provide(NodeHttpServer.layer(NodeHttp.createServer, { host: "127.0.0.1", port: Number(process.env.PORT ?? 0) }))
)

Layer.launch(Server).pipe(NodeRuntime.runMain)
