/**
 * The shape a value must have to cross the process boundary: no array with
 * holes, and at most `MAX_DEPTH` levels of arrays and objects. The codec
 * checks payloads, results and typed errors where their Schema needs it (see
 * `Plan`), and before a Schema's failure message renders the value; a defect
 * or a logged value that cannot cross is sent as a description of it, and a
 * message never renders such a value whole.
 *
 * Holes: JSON has none, and everything that walks an array by its length
 * (an array parser that takes `undefined` elements, the rendering of a
 * Schema's message, `JSON.stringify`) takes time in proportion to the
 * length, not to the elements present: `[]` with `length = 2 ** 32 - 1`
 * blocked the parent for minutes. The walk stops at the first hole, so it
 * costs the elements present before it; a dense array costs one read per
 * element (1 µs for 1,000 numbers, 20 µs for 1,000 small objects, where
 * their encoding takes 90 and 300 µs), and only the Schemas of `Plan` pay it.
 *
 * Depth: the framings do not reach the same depth, nor do both ends of one:
 * measured with Node 24's default stack, `JSON.stringify` stops at 4,458
 * levels (`JSON.parse` does not stop), `v8.serialize` at 3,294 and
 * `v8.deserialize` at 1,646 for a chain of objects (3,294 for arrays); a
 * Schema with `Schema.suspend` stops at about 2,700 (decoding). Without a
 * bound of its own, a value 4,000 deep crossed under `"json"` and 5,000 did
 * not; under `"advanced"` an object chain 2,000 deep was sent, and the worker
 * that could not read it died. One bound well under the least of these, the
 * same for both framings and both directions, makes the same values cross
 * under both, and a deeper one a `TaskCodecError` that says why.
 *
 * @internal
 */
import * as SchemaAST from "effect/SchemaAST"

/**
 * The most levels of arrays and objects a value may nest to cross: `[[1]]`
 * and `{ a: { b: 1 } }` nest 2. The protocol adds 5 around a value; the
 * least measured limit (`v8.deserialize` of objects, 1,646) leaves a margin
 * for the stack already in use where a frame is read.
 */
export const MAX_DEPTH = 1_000

/**
 * Where a codec checks shapes, from its Schema, once per Schema, so that the
 * Schemas of most tasks (numbers, strings, structs, arrays and classes of
 * them) pay nothing on values that fit:
 * - `before`: the value, before its Schema sees it, when an array in the
 *   Schema takes `undefined` elements (`Schema.Any`, `Schema.UndefinedOr`,
 *   an optional element): its parser would read all of a sparse array's
 *   length. Any other array parser fails at the first hole, and the codec
 *   checks the value only then, before the failure's message renders it.
 * - `after`: the wire value, when the Schema does not bound how deep it
 *   nests to `MAX_DEPTH` (`Schema.Unknown`, `Schema.Any`, a recursive Schema).
 */
export interface Plan {
  readonly before: boolean
  readonly after: boolean
}

/** The plan for the JSON codec of a task's Schema (`Schema.toCodecJson`). */
export const planFor = (ast: SchemaAST.AST): Plan => ({
  before: takesHoles(ast, new Set()),
  after: wireDepth(ast, new Set()) > MAX_DEPTH
})

/** Whether an array parser in `ast` passes `undefined` elements (a hole reads as one) on. */
const takesHoles = (ast: SchemaAST.AST, seen: Set<SchemaAST.AST>): boolean => {
  if (seen.has(ast)) return false
  seen.add(ast)
  if (ast.encoding?.some((link) => takesHoles(link.to, seen))) return true
  switch (ast._tag) {
    case "Arrays":
      return (
        ast.elements.some((e) => SchemaAST.isOptional(e) || takesUndefined(e, new Set())) ||
        ast.rest.some((r) => takesUndefined(r, new Set())) ||
        [...ast.elements, ...ast.rest].some((t) => takesHoles(t, seen))
      )
    case "Objects":
      return (
        ast.propertySignatures.some((p) => takesHoles(p.type, seen)) ||
        ast.indexSignatures.some((i) => takesHoles(i.type, seen))
      )
    case "Union":
      return ast.types.some((t) => takesHoles(t, seen))
    case "Declaration":
      return ast.typeParameters.some((t) => takesHoles(t, seen))
    case "Suspend":
      return takesHoles(ast.thunk(), seen)
    default:
      return false
  }
}

const takesUndefined = (ast: SchemaAST.AST, seen: Set<SchemaAST.AST>): boolean => {
  if (seen.has(ast)) return false
  seen.add(ast)
  switch (ast._tag) {
    case "Undefined":
    case "Void":
    case "Any":
    case "Unknown":
      return true
    case "Union":
      return ast.types.some((t) => takesUndefined(t, seen))
    case "Suspend":
      return takesUndefined(ast.thunk(), seen)
    default:
      return false
  }
}

/**
 * The most levels of arrays and objects a wire value of `ast` can nest, or
 * `Infinity` when the Schema does not bound it: an encoded node is as deep
 * as its deepest encoded form; `Unknown`, `Any`, a declaration without an
 * encoding, and recursion are unbounded.
 */
const wireDepth = (ast: SchemaAST.AST, path: Set<SchemaAST.AST>): number => {
  if (ast.encoding !== undefined) return Math.max(...ast.encoding.map((link) => wireDepth(link.to, path)))
  if (path.has(ast)) return Number.POSITIVE_INFINITY
  path.add(ast)
  const deepest = (children: ReadonlyArray<SchemaAST.AST>) => Math.max(0, ...children.map((t) => wireDepth(t, path)))
  let depth: number
  switch (ast._tag) {
    case "Arrays":
      depth = 1 + deepest([...ast.elements, ...ast.rest])
      break
    case "Objects":
      depth = 1 + deepest([...ast.propertySignatures.map((p) => p.type), ...ast.indexSignatures.map((i) => i.type)])
      break
    case "Union":
      depth = deepest(ast.types)
      break
    case "Suspend":
      depth = wireDepth(ast.thunk(), path)
      break
    default:
      depth = LEAVES.has(ast._tag) ? 0 : Number.POSITIVE_INFINITY
  }
  path.delete(ast)
  return depth
}

/** The ASTs whose values are JSON leaves. */
const LEAVES = new Set<SchemaAST.AST["_tag"]>([
  "Null",
  "Undefined",
  "Void",
  "Never",
  "String",
  "Number",
  "Boolean",
  "BigInt",
  "Symbol",
  "UniqueSymbol",
  "Literal",
  "Enum",
  "TemplateLiteral"
])

/** What is wrong with a value's shape, and where. */
export interface Problem {
  readonly kind: "hole" | "deep"
  /** keys from the innermost outwards while the walk unwinds; from the outermost once `check` answers */
  readonly path: Array<PropertyKey>
  readonly length?: number
  readonly index?: number
}

/**
 * What is wrong with the shape of `u`, or `undefined` if it can cross. A
 * value that cannot be looked at (a getter or a proxy that throws) is not
 * this check's business: its Schema or its framing says what is wrong with
 * it.
 */
export const check = (u: unknown): Problem | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  let problem: Problem | undefined
  plainPrototype = !hasEnumerableKey(Object.prototype)
  try {
    problem = walk(u, MAX_DEPTH)
  } catch {
    return undefined
  }
  if (problem === undefined) return undefined
  problem.path.reverse()
  // a cycle is deep without end: the Schema or the framing says what it is
  return problem.kind === "deep" && isCycle(u, problem.path) ? undefined : problem
}

/** Whether following `path` from `root` meets an object twice. */
const isCycle = (root: object, path: ReadonlyArray<PropertyKey>): boolean => {
  const seen = new Set<unknown>([root])
  let at: unknown = root
  try {
    for (const key of path) {
      at = (at as Record<PropertyKey, unknown>)[key]
      if (seen.has(at)) return true
      seen.add(at)
    }
  } catch {
    return true
  }
  return false
}

/** A problem as the end of a sentence that names the value ("has an array with holes at [\"xs\"]: …"). */
export const clause = (problem: Problem): string =>
  problem.kind === "deep"
    ? `is nested deeper than ${MAX_DEPTH} levels of arrays and objects, the most that crosses the process boundary`
    : `has an array with holes${pathText(problem.path)}: length ${problem.length}, the first hole at index ${problem.index} (JSON has no holes)`

/** A problem as a short description of the value, for a message that shows values. */
export const summary = (problem: Problem): string =>
  problem.kind === "deep"
    ? `a value nested deeper than ${MAX_DEPTH} levels`
    : `a value with an array with holes${pathText(problem.path)} (length ${problem.length})`

const walk = (u: object, levels: number): Problem | undefined => {
  if (levels === 0) return { kind: "deep", path: [] }
  if (Array.isArray(u)) {
    const length = u.length
    for (let i = 0; i < length; i++) {
      const v: unknown = u[i]
      if (v === undefined) {
        if (!(i in u)) return { kind: "hole", path: [], length, index: i }
      } else if (typeof v === "object" && v !== null) {
        const problem = walk(v, levels - 1)
        if (problem !== undefined) {
          problem.path.push(i)
          return problem
        }
      }
    }
    return undefined
  }
  // bytes have no nesting, and would each be visited
  if (ArrayBuffer.isView(u)) return undefined
  // Own enumerable keys, as JSON and Schemas read them. Measured on 1,000
  // fresh objects of 3 fields: `for in` takes 20 µs on plain objects, whose
  // inherited keys are none (unless a task added one to Object.prototype);
  // on class instances, whose prototypes may have enumerable keys (an Effect
  // `Schema.Class` has two), `Object.keys` takes 40 µs, where `for in` with
  // `Object.hasOwn` takes 600 and `Object.values` 190.
  const proto = Object.getPrototypeOf(u)
  if (proto === null || (proto === Object.prototype && plainPrototype)) {
    for (const key in u) {
      const problem = walkValue((u as Record<string, unknown>)[key], levels)
      if (problem !== undefined) {
        problem.path.push(key)
        return problem
      }
    }
    return undefined
  }
  const keys = Object.keys(u)
  for (let i = 0; i < keys.length; i++) {
    const problem = walkValue((u as Record<string, unknown>)[keys[i]!], levels)
    if (problem !== undefined) {
      problem.path.push(keys[i]!)
      return problem
    }
  }
  return undefined
}

/** A property's value, one level below its object's. */
const walkValue = (v: unknown, levels: number): Problem | undefined =>
  typeof v === "object" && v !== null ? walk(v, levels - 1) : undefined

/** Whether `Object.prototype` has no enumerable key (a task may add one), as of the current `check`. */
let plainPrototype = true

const hasEnumerableKey = (o: object): boolean => {
  for (const _ in o) return true
  return false
}

/** At most this many keys of a path are shown. */
const PATH_KEYS = 8

const pathText = (path: ReadonlyArray<PropertyKey>): string => {
  if (path.length === 0) return ""
  const shown = path.slice(0, PATH_KEYS).map((key) => `[${JSON.stringify(key)}]`)
  return ` at ${shown.join("")}${path.length > PATH_KEYS ? "…" : ""}`
}
