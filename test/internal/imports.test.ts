import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { assert, describe, it } from "@effect/vitest"

/**
 * The shape of `src/`: no import cycle between runtime modules (a cycle makes
 * the order of evaluation, and so what a module sees of another at import
 * time, depend on which one is imported first), and files small enough to
 * read as one concept each.
 */

const SRC = NodePath.resolve(import.meta.dirname, "../../src")

/** A file of `src/` may have at most this many lines. */
const MAX_LINES = 400
/** The public facade is mostly documentation: its lines outside doc comments must be fewer than `MAX_LINES`. */
const FACADE = "ProcessPool.ts"

const sources = (): Array<string> =>
  NodeFs.readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => file.split(NodePath.sep).join("/"))
    .sort()

const read = (file: string): string => NodeFs.readFileSync(NodePath.join(SRC, file), "utf8")

// --- a small reader of import statements ------------------------------------------

/**
 * Comments blanked out, strings kept (so that `"//"` or `"/*"` in a string is
 * not taken for a comment). It does not know regular expression literals: one
 * holding a quote or a comment opener would confuse it (those in src/ hold neither).
 */
const withoutComments = (text: string): string =>
  text.replace(
    /("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g,
    (match, string: string | undefined) => string ?? match.replace(/[^\n]/g, " ")
  )

const NAME = String.raw`[\w$]+`
const NAMED = String.raw`\{[^}]*\}`
const NAMESPACE = String.raw`\*\s*as\s+${NAME}`
/** `import <clause> from "…"`: a default, a namespace, named bindings (over several lines), or a default with one of the others. */
const IMPORT_CLAUSE = String.raw`(?:${NAMESPACE}|${NAMED}|${NAME}(?:\s*,\s*(?:${NAMESPACE}|${NAMED}))?)`
/** `export <clause> from "…"`: all, all as a namespace, or named bindings. */
const EXPORT_CLAUSE = String.raw`(?:\*(?:\s*as\s+${NAME})?|${NAMED})`
const SPECIFIER = String.raw`["']([^"'\n]+)["']`

const STATEMENTS = [
  new RegExp(String.raw`\bimport\s+(type\s+)?${IMPORT_CLAUSE}\s*from\s*${SPECIFIER}`, "g"),
  new RegExp(String.raw`\bexport\s+(type\s+)?${EXPORT_CLAUSE}\s*from\s*${SPECIFIER}`, "g"),
  // a module imported for its effects
  new RegExp(String.raw`\bimport()\s*${SPECIFIER}`, "g"),
  // `import("…")`: loaded at run time, and its evaluation order depends on the graph as much
  new RegExp(String.raw`\bimport\s*\(()\s*${SPECIFIER}\s*\)`, "g")
]

interface Import {
  readonly specifier: string
  /** `import type` or `export type … from`: erased, no module is loaded */
  readonly typeOnly: boolean
}

/**
 * The modules a file imports or re-exports, statically or with a literal
 * `import()`. `import { type A } from "…"` still loads its module (only the
 * binding is erased), so it is a runtime import. Also answers what is left of
 * the file that looks like an import the patterns above did not read, so
 * that a form they miss fails the test instead of hiding an edge.
 */
const importsOf = (text: string): { readonly imports: Array<Import>; readonly unread: Array<string> } => {
  let code = withoutComments(text)
  const imports: Array<Import> = []
  for (const pattern of STATEMENTS) {
    code = code.replace(pattern, (statement, type: string | undefined, specifier: string) => {
      imports.push({ specifier, typeOnly: type !== undefined && type !== "" })
      return " ".repeat(statement.length)
    })
  }
  const unread = [
    ...code.matchAll(/^[^\n]*\bfrom\s*["'][^\n]*|^\s*import(?![\w$.])[^\n]*|\bimport\s*\(\s*["'][^\n]*/gm)
  ].map((m) => m[0].trim())
  return { imports, unread }
}

/** The file of `src/` that a relative specifier of `from` names, if it is one. */
const resolve = (from: string, specifier: string, files: ReadonlySet<string>): string | undefined => {
  if (!specifier.startsWith(".")) return undefined
  const target = NodePath.posix.normalize(NodePath.posix.join(NodePath.posix.dirname(from), specifier))
  if (files.has(target)) return target
  const ts = target.replace(/\.js$/, ".ts")
  return files.has(ts) ? ts : undefined
}

/** Each file's runtime imports among the files of `src/`. */
const runtimeGraph = (files: ReadonlyArray<string>, text: (file: string) => string): Map<string, Array<string>> => {
  const known = new Set(files)
  const graph = new Map<string, Array<string>>()
  for (const file of files) {
    const { imports, unread } = importsOf(text(file))
    assert.deepStrictEqual(unread, [], `${file}: import statements the reader does not understand`)
    const edges: Array<string> = []
    for (const { specifier, typeOnly } of imports) {
      const target = resolve(file, specifier, known)
      if (specifier.startsWith(".") && target === undefined) {
        assert.fail(`${file} imports ${specifier}, which is not a file of src/`)
      }
      if (!typeOnly && target !== undefined && !edges.includes(target)) edges.push(target)
    }
    graph.set(file, edges)
  }
  return graph
}

/** The cycles a depth-first walk meets, one per edge back to a file on its path (at least one if there is any), as `a.ts → b.ts → a.ts`. */
const cycles = (graph: ReadonlyMap<string, ReadonlyArray<string>>): Array<string> => {
  const found: Array<string> = []
  const done = new Set<string>()
  const path: Array<string> = []
  const visit = (file: string): void => {
    path.push(file)
    for (const next of graph.get(file) ?? []) {
      const at = path.indexOf(next)
      if (at !== -1) found.push([...path.slice(at), next].map((f) => `src/${f}`).join(" → "))
      else if (!done.has(next)) visit(next)
    }
    path.pop()
    done.add(file)
  }
  for (const file of graph.keys()) if (!done.has(file)) visit(file)
  return found
}

/** How many lines a file has (a last line without its newline counts). */
const lineCount = (text: string): number => text.split("\n").length - (text.endsWith("\n") ? 1 : 0)

/** What a doc comment's characters become in `linesOutsideDocComments` (a noncharacter: no source holds it). */
const DOC = "\uffff"

/** How many lines are outside `/** … *\/` comments; a line that holds code besides one counts. */
const linesOutsideDocComments = (text: string): number =>
  text
    .replace(/\/\*\*[\s\S]*?\*\//g, (doc) => doc.replace(/[^\n]/g, DOC))
    .split("\n")
    .slice(0, lineCount(text))
    .filter((line) => !line.includes(DOC) || line.replaceAll(DOC, "").trim() !== "").length

describe("the modules of src/", () => {
  it("the reader sees every kind of import, and tells type-only ones apart", () => {
    const { imports, unread } = importsOf(
      [
        `/** @example import { x } from "./inDoc.ts" */`,
        `import * as A from "./a.ts"`,
        `import type * as B from "./b.ts"`,
        `import {`,
        `  type C1,`,
        `  c2`,
        `} from "./c.ts"`,
        `import type { D } from "./d.ts"`,
        `import e, { e2 } from './e.ts'`,
        `import "./f.ts"`,
        `export * as G from "./g.ts"`,
        `export type { H } from "./h.ts"`,
        `export { i } from "./i.ts"`,
        `const url = "http://example.com/*"`,
        `const J = await import("./j.ts")`,
        `// const K = await import("./k.ts")`,
        `const l = await import(url)`
      ].join("\n")
    )
    assert.deepStrictEqual(unread, [])
    const byName = Object.fromEntries(imports.map((i) => [i.specifier, i.typeOnly]))
    assert.deepStrictEqual(byName, {
      "./a.ts": false,
      "./b.ts": true,
      "./c.ts": false,
      "./d.ts": true,
      "./e.ts": false,
      "./f.ts": false,
      "./g.ts": false,
      "./h.ts": true,
      "./i.ts": false,
      "./j.ts": false
    })
  })

  it("the cycle check names a cycle as a path", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", ["a.ts"]]
    ])
    assert.deepStrictEqual(cycles(graph), ["src/a.ts → src/b.ts → src/c.ts → src/a.ts"])
    assert.deepStrictEqual(cycles(new Map([["a.ts", ["a.ts"]]])), ["src/a.ts → src/a.ts"])
    assert.deepStrictEqual(cycles(new Map([["a.ts", []]])), [])
  })

  it("no runtime import cycle between the modules of src/", () => {
    const files = sources()
    const graph = runtimeGraph(files, read)
    // the reader found the engine's parts, so it does read this tree
    assert.include(graph.get("internal/engine.ts") ?? [], "internal/jobs.ts")
    assert.include(graph.get("internal/workerMain.ts") ?? [], "internal/worker/runtime.ts")
    assert.notInclude(graph.get("internal/jobs.ts") ?? [], "internal/outcomes.ts")
    const found = cycles(graph)
    assert.deepStrictEqual(found, [], `import cycles:\n${found.join("\n")}`)
  })

  it(`no file of src/ has more than ${MAX_LINES} lines, and ${FACADE} has fewer outside its doc comments`, () => {
    const long = sources()
      .filter((file) => file !== FACADE)
      .map((file) => [file, lineCount(read(file))] as const)
      .filter(([, lines]) => lines > MAX_LINES)
      .map(([file, lines]) => `src/${file}: ${lines} lines`)
    assert.deepStrictEqual(long, [], `files over ${MAX_LINES} lines:\n${long.join("\n")}`)
    const facade = linesOutsideDocComments(read(FACADE))
    assert.isBelow(facade, MAX_LINES, `src/${FACADE}: ${facade} lines outside doc comments`)
  })

  it("lines in doc comments are told from the others", () => {
    const text = ["/**", " * one", " */", "const a = 1", "/** two */", "const b = 2 /** trailing */", ""].join("\n")
    assert.strictEqual(lineCount(text), 6)
    assert.strictEqual(linesOutsideDocComments(text), 2)
  })
})
