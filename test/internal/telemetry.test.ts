/**
 * A job's span in the worker (src/internal/worker/telemetry.ts `makeSpan`) is
 * made without a fiber: it must be the span `Effect.makeSpan` makes in a fiber
 * with the same context, whatever the task layer's tracing references say.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Option, References, Tracer } from "effect"
import { makeSpan } from "../../src/internal/worker/telemetry.ts"

const caller = ["0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", true] as const

/** A tracer that keeps the options of each span it is asked for. */
const recording = () => {
  const asked: Array<Parameters<Tracer.Tracer["span"]>[0]> = []
  const tracer = Tracer.make({
    span: (options) => {
      asked.push(options)
      return Tracer.nativeTracer.span(options)
    }
  })
  return { asked, tracer }
}

const viaEffect = (context: Context.Context<never>, attributes: Record<string, unknown>) =>
  Effect.runSyncWith(context)(
    Effect.makeSpan("ProcessPool.task t", {
      parent: Tracer.externalSpan({ traceId: caller[0], spanId: caller[1], sampled: caller[2] }),
      attributes
    })
  )

/** What a span says of itself, and what its tracer was asked for (the start time only as zero or not). */
const shape = (span: Tracer.Span, asked: Parameters<Tracer.Tracer["span"]>[0] | undefined) => ({
  name: span.name,
  parent: Option.map(span.parent, (p) => [p.traceId, p.spanId, p.sampled]),
  traceId: span.traceId,
  attributes: [...span.attributes],
  links: span.links,
  sampled: span.sampled,
  kind: span.kind,
  askedRoot: asked?.root,
  askedStarted: asked === undefined ? undefined : asked.startTime > 0n,
  askedAnnotations: asked === undefined ? undefined : [...asked.annotations.mapUnsafe.keys()]
})

describe("a job's span, made without a fiber", () => {
  const attributes = { "task.name": "t", "worker.id": 3, "chunk.size": 1 }
  const link: Tracer.SpanLink = { span: Tracer.externalSpan({ traceId: "a", spanId: "b" }), attributes: { why: 1 } }
  const contexts: Record<string, (tracer: Tracer.Tracer) => Context.Context<never>> = {
    "the defaults": (tracer) => Context.make(Tracer.Tracer, tracer),
    "annotations and links from the layer": (tracer) =>
      Context.make(Tracer.Tracer, tracer).pipe(
        Context.add(References.TracerSpanAnnotations, { env: "prod", "task.name": "overridden" }),
        Context.add(References.TracerSpanLinks, [link])
      ),
    "a minimum trace level above the span's (not sampled)": (tracer) =>
      Context.make(Tracer.Tracer, tracer).pipe(Context.add(Tracer.MinimumTraceLevel, "Error")),
    "timing off": (tracer) =>
      Context.make(Tracer.Tracer, tracer).pipe(Context.add(References.TracerTimingEnabled, false)),
    "tracing off": (tracer) => Context.make(Tracer.Tracer, tracer).pipe(Context.add(References.TracerEnabled, false))
  }
  for (const [name, contextOf] of Object.entries(contexts)) {
    it(`is the span Effect.makeSpan makes: ${name}`, () => {
      const ours = recording()
      const theirs = recording()
      const a = makeSpan("ProcessPool.task t", contextOf(ours.tracer), caller, attributes)
      const b = viaEffect(contextOf(theirs.tracer), attributes)
      assert.strictEqual(ours.asked.length, theirs.asked.length)
      const { traceId: _a, ...left } = shape(a, ours.asked[0])
      const { traceId: _b, ...right } = shape(b, theirs.asked[0])
      assert.deepStrictEqual(left, right)
      assert.strictEqual(a.traceId, b.traceId, "both in the caller's trace")
    })
  }

  it("runs in the caller's trace, as a child of the caller's span", () => {
    const span = makeSpan("ProcessPool.task t", Context.empty(), caller, attributes)
    assert.strictEqual(span.traceId, caller[0])
    assert.deepStrictEqual(
      Option.map(span.parent, (p) => p.spanId),
      Option.some(caller[1])
    )
    assert.strictEqual(span.attributes.get("chunk.size"), 1)
  })
})
