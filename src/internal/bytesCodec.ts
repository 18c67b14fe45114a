/**
 * A Schema's wire form with bytes kept as bytes: `Schema.toCodecJson`, except
 * that a `Schema.Uint8Array` (anywhere: in a Struct, a Union, a Class, an
 * Option, a recursive Schema) stays a `Uint8Array` instead of becoming base64
 * text. Used where the channel carries bytes as they are: a worker thread's
 * `MessagePort` (structured clone) and a process's `"advanced"` framing
 * (`v8.serialize`). Everything else is the JSON form, so that what a task's
 * Schemas accept and refuse is the same on every channel.
 *
 * effect 4.1 has no such codec: `toCodecIso` keeps bytes but also keeps
 * `Date` and `bigint`, and `Transferable.Uint8Array` must be written into
 * the task's Schemas. This is effect's own derivation (its internal
 * `makeCodecDerivation` and `toCodecJsonASTStep`, src/internal/schema/toCodec.ts)
 * with one line added (marked below), built on helpers `effect/SchemaAST`
 * exports at run time but leaves out of its type declarations. It tracks an
 * internal of effect: test/internal/bytesCodec.test.ts compares it with
 * `toCodecJson` on many Schemas and values, so an upgrade that changes the
 * derivation fails a test instead of changing a wire.
 *
 * @internal
 */
import { memoize } from "effect/Function"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"

type AST = SchemaAST.AST
type Recur = (ast: AST) => AST

/** The part of `effect/SchemaAST` marked @internal that the derivation uses (present at run time in effect 4.1). */
interface Internals {
  getContextOwner(ast: AST): AST
  replaceContext(ast: AST, context: SchemaAST.Context | undefined): AST
  replaceContextLastLink(ast: AST, context: SchemaAST.Context): AST
  replaceEncoding(ast: AST, encoding: ReadonlyArray<SchemaAST.Link> | undefined): AST
  mapLink(link: SchemaAST.Link, f: Recur): SchemaAST.Link
  applyToSelfOrLastLinkEncodingIdempotent(f: Recur): Recur
  readonly unknownToJson: SchemaAST.Link
  readonly objectKeywordToJson: SchemaAST.Link
  readonly parameterFromString: Recur
}
const I = SchemaAST as unknown as Internals

/** An AST node with its own @internal methods (`recur`, `toCodecJson`...), as the derivation calls them. */
type Node = any

/** `Schema.Uint8Array`'s link to base64; its annotated and checked copies share it. */
const base64Link = (Schema.Uint8Array.ast.annotations as Node).toCodecJson
const isBytes = (ast: Node): boolean => ast.annotations?.toCodecJson === base64Link

/** Unions try the encodings that JSON cannot tell apart first (as toCodecJson does). */
const reorder = (types: ReadonlyArray<AST>): ReadonlyArray<AST> => {
  const priority = (ast: AST) => {
    const tag = SchemaAST.toEncoded(ast)._tag
    return tag === "BigInt" || tag === "Symbol" || tag === "UniqueSymbol" ? 0 : 1
  }
  const sorted = [...types].sort((a, b) => priority(a) - priority(b))
  return sorted.some((ast, i) => ast !== types[i]) ? sorted : types
}

const step = (ast: Node, recur: Recur): AST => {
  switch (ast._tag) {
    case "Declaration": {
      // the one line that differs from toCodecJson: bytes are already what the channel carries
      if (isBytes(ast)) return ast
      const getLink = ast.annotations?.toCodecJson ?? ast.annotations?.toCodec
      if (!Predicate.isFunction(getLink)) return I.replaceEncoding(ast, [I.unknownToJson])
      const typeParameters = ast.typeParameters.map((tp: AST) => Schema.make(SchemaAST.toEncoded(tp)))
      const link = getLink(typeParameters)
      return link === undefined ? ast : I.replaceEncoding(ast, [I.mapLink(link, recur)])
    }
    case "Unknown":
      return I.replaceEncoding(ast, [I.unknownToJson])
    case "ObjectKeyword":
      return I.replaceEncoding(ast, [I.objectKeywordToJson])
    case "Undefined":
    case "Void":
    case "Literal":
    case "Number":
      return ast.toCodecJson()
    case "UniqueSymbol":
    case "Symbol":
    case "BigInt":
      return ast.toCodecStringTree()
    case "Objects":
      if (ast.propertySignatures.some((ps: Node) => typeof ps.name !== "string")) {
        throw new globalThis.Error("Objects property names must be strings", { cause: ast })
      }
      return ast.recur(recur, I.parameterFromString)
    case "Union": {
      const sorted = reorder(ast.types)
      return sorted === ast.types
        ? ast.recur(recur)
        : (
            new SchemaAST.Union(
              sorted,
              ast.options,
              ast.annotations,
              ast.checks,
              ast.encoding,
              ast.context,
              ast.encodingChecks
            ) as Node
          ).recur(recur)
    }
    case "Arrays":
    case "Suspend":
      return ast.recur(recur)
  }
  // `Schema.Any`, the escape hatch
  return ast
}

const withoutConstructorDefault = (context: Node) =>
  context.constructorDefault === undefined
    ? context
    : new SchemaAST.Context(context.isOptional, context.isMutable, undefined, context.annotations)

const derive: Recur = (() => {
  // each body is derived once, whatever its context; its children's contexts stay part of it
  const deriveBody = memoize((owner: AST) => {
    const body = I.replaceContext(owner, undefined)
    const out = step(body, recur)
    return out === body ? null : out
  })
  const recur: Recur = I.applyToSelfOrLastLinkEncodingIdempotent((ast) => {
    const derived = deriveBody(I.getContextOwner(ast))
    if (derived === null) return ast
    const out = I.replaceContext(derived, ast.context)
    return ast.context === undefined ? out : I.replaceContextLastLink(out, withoutConstructorDefault(ast.context))
  })
  return recur
})()

/** `Schema.toCodecJson(schema)`, with `Schema.Uint8Array` kept as bytes. */
export const toCodecBytes = <S extends Schema.Top>(
  schema: S
): Schema.Codec<S["Type"], unknown, S["DecodingServices"], S["EncodingServices"]> =>
  Schema.make(derive(schema.ast) as never) as never
