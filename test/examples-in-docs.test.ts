/**
 * Every `@example` in a doc comment of src/ compiles as a user would write it.
 * Each is written to .doc-examples/ (generated, git-ignored) as a file of its
 * own, named after its module and the export it documents (`ProcessPool.run.ts`;
 * a module's opening comment is `ProcessPool.module.ts`), and all of them are
 * type-checked in one tsc run with the repo's compiler options. An error is
 * reported at its line in src/, with the export whose example it is.
 *
 * There is no prelude: an example imports or defines what it uses, and imports
 * the package as users do (`from "effect-process-pool"`, which the source
 * condition resolves to src/). An example whose first line names a file
 * (`// primes.ts`) is written as that file instead, so that the others can
 * import it: the task module of Task.ts's opening comment, with `countPrimes`
 * and `TooLarge`, is the `./primes.ts` that the others import, and the example
 * of `Task.make` is `./square.ts`.
 *
 * One rule is looser than the repo's: a binding that an example never reads
 * is fine (an example binds a value to show it, or its type), so tsc's
 * "declared but never read" is dropped, except on an import, where it is a
 * mistake that misleads the reader.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { typecheck } from "./helpers/typecheck.ts"

const src = new URL("../src/", import.meta.url).pathname
const out = new URL("../.doc-examples/", import.meta.url).pathname

/** One `@example` block of a doc comment. */
interface Example {
  /** the source file, relative to the repo: `src/ProcessPool.ts` */
  readonly source: string
  /** what the comment documents: an export (`run`), a member (`Service.map`) or `module` */
  readonly documents: string
  /** the file it is written as, in .doc-examples/ */
  readonly file: string
  /** the line of src/ that holds the example's first line of code (1-based) */
  readonly line: number
  /** per line of code, how many characters of the comment's ` * ` precede it */
  readonly indents: ReadonlyArray<number>
  readonly code: string
}

const sources = NodeFs.readdirSync(src, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".ts"))
  .sort()

const examples: Array<Example> = []
/** `@example` tags not followed by a ```ts block, as `src/X.ts:LINE` */
const unfenced: Array<string> = []

const exportName =
  /^export (?:declare )?(?:const|let|function|type|interface|class|abstract class) (\w+)|^export \* as (\w+)/
const memberName = /^\s*(?:readonly )?(\w+)/
const namesFile = /^\/\/ ([\w.-]+\.ts)(?=:|\n|$)/
const prefix = /^\s*\* ?/

for (const path of sources) {
  const source = NodeFs.readFileSync(NodePath.join(src, path), "utf8")
  const module = path.replace(/\.ts$/, "").replaceAll("/", ".")
  const lineAt = (index: number) => source.slice(0, index).split("\n").length
  for (const comment of source.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const start = comment.index
    const end = start + comment[0].length
    const next = source
      .slice(end)
      .replace(/^\s*\n/, "")
      .split("\n")[0]!
    const exported = next.match(exportName)
    const member = next.match(memberName)
    const enclosing = [...source.slice(0, start).matchAll(new RegExp(exportName, "gm"))].at(-1)
    const documents =
      source.slice(0, start).trim() === ""
        ? "module"
        : exported !== null
          ? (exported[1] ?? exported[2])!
          : member !== null && enclosing !== undefined
            ? `${enclosing[1] ?? enclosing[2]}.${member[1]}`
            : `line ${lineAt(end)}`
    const lines = comment[0].split("\n")
    const first = lineAt(start)
    for (const [i, line] of lines.entries()) {
      if (!/^\s*\*\s*@example\b/.test(line)) continue
      let open = i + 1
      while (open < lines.length - 1 && lines[open]!.replace(prefix, "").trim() === "") open++
      if (lines[open]!.replace(prefix, "").trim() !== "```ts") {
        unfenced.push(`src/${path}:${first + i}`)
        continue
      }
      let close = open + 1
      while (close < lines.length - 1 && lines[close]!.replace(prefix, "").trim() !== "```") close++
      const body = lines.slice(open + 1, close)
      const code = body.map((l) => l.replace(prefix, "")).join("\n")
      const named = code.match(namesFile)
      // a second example of one export (a const and a type of one name) is `-2`
      const base = `${module}.${documents.replaceAll(" ", "-")}`
      const taken = (file: string) => examples.some((e) => e.file === file)
      let file = named !== null ? named[1]! : `${base}.ts`
      for (let n = 2; named === null && taken(file); n++) file = `${base}-${n}.ts`
      examples.push({
        source: `src/${path}`,
        documents,
        file,
        line: first + open + 1,
        indents: body.map((l) => l.match(prefix)?.[0].length ?? 0),
        code
      })
    }
  }
}

// Written when the file is collected, so that every test below sees the same files.
NodeFs.rmSync(out, { recursive: true, force: true })
NodeFs.mkdirSync(out)
for (const { code, file } of examples) NodeFs.writeFileSync(`${out}${file}`, `${code}\n`)

/** "declared but its value is never read", "declared but never used", "all destructured elements are unused" */
const unread = new Set(["TS6133", "TS6196", "TS6198"])

/** Whether line `line` (1-based), column `column` of `code` lies in an import declaration. */
const inImport = (code: string, line: number, column: number): boolean => {
  const lineStart = code
    .split("\n")
    .slice(0, line - 1)
    .reduce((n, l) => n + l.length + 1, 0)
  const offset = lineStart + column - 1
  return [...code.matchAll(/^import\b[\s\S]*?from\s+"[^"]*"/gm)].some(
    (m) => offset >= m.index && offset < m.index + m[0].length
  )
}

describe("the examples in doc comments", () => {
  it("every @example is a ```ts block, and each has a file of its own", () => {
    assert.isNotEmpty(examples, "no @example found in src/")
    assert.deepStrictEqual(unfenced, [], "an @example without a ```ts block after it")
    const files = examples.map((e) => e.file)
    assert.deepStrictEqual(files, [...new Set(files)], "two examples name the same file")
  })

  it("type-checks", () => {
    const tsc = typecheck(out)
    const errors = tsc.diagnostics.flatMap((d) => {
      const example = examples.find((e) => e.file === d.file)
      if (example === undefined || d.line === undefined || d.column === undefined) {
        return [`${d.file ?? "tsc"}: ${d.code} ${d.message}`]
      }
      if (unread.has(d.code) && !inImport(example.code, d.line, d.column)) return []
      const at = `${example.source}:${example.line + d.line - 1}:${(example.indents[d.line - 1] ?? 0) + d.column}`
      return [`${at}, in the @example of ${example.documents} (.doc-examples/${example.file}): ${d.code} ${d.message}`]
    })
    if (errors.length > 0) assert.fail(`doc examples that do not compile:\n${errors.join("\n")}`)
    // failed without an error it could name: a crash, a timeout
    assert.isTrue(tsc.status === 0 || tsc.diagnostics.length > 0, `tsc failed: ${tsc.output}`)
  })
})
