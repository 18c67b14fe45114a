/**
 * The README's code runs as written. A fenced block right after a
 * `<!-- file: NAME -->` comment becomes the file NAME in .readme/ (generated,
 * git-ignored), beside the README's other files, so that one block can import
 * another (`./primes.ts`). Every such file is type-checked with the repo's
 * compiler options, and every program among them is run as a user would run
 * it and must print what `programs` says. A block without the comment is a
 * fragment, and is neither checked nor run.
 */
import * as NodeFs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { processesInGroup } from "./helpers/processes.ts"
import { start } from "./helpers/programs.ts"
import { typecheck } from "./helpers/typecheck.ts"

const out = new URL("../.readme/", import.meta.url).pathname
const readme = NodeFs.readFileSync(new URL("../README.md", import.meta.url), "utf8")

interface Block {
  readonly file: string
  readonly code: string
}

// alone on its line: a mention of the convention in the text is not a marker
const marker = /^<!-- file: ([\w.-]+) -->$/gm
const blocks: Array<Block> = [...readme.matchAll(/^<!-- file: ([\w.-]+) -->\n```(?:ts|js)\n([\s\S]*?)\n```$/gm)].map(
  ([, file, code]) => ({ file: file!, code: code! })
)

/** How a program of the README must behave. */
type Expectation =
  | {
      readonly kind: "exits"
      readonly output: RegExp
      /** how many lines it prints, none twice (for output whose order is not fixed) */
      readonly distinctLines?: number
      /** a package the program's workers import and the parent must not */
      readonly onlyInWorkers?: string
    }
  | { readonly kind: "serves"; readonly path: string; readonly body: RegExp }

const programs: Record<string, Expectation> = {
  "main.ts": {
    kind: "exits",
    // asCompleted's lines come in completion order, which depends on how fast
    // each worker starts: any order of the three is right
    output:
      /^map: \[ 9592, 17984, 25997 \]\nsubmit: too large: 2000000000\n(?:asCompleted: #(?:0 1000000 Success\(78498\)|1 1000 Success\(168\)|2 10000 Success\(1229\))(?:\n|$)){3}$/,
    distinctLines: 5
  },
  "render.ts": {
    kind: "exits",
    output: /^<h1>Lean<\/h1>\n<p><em>task<\/em> modules<\/p>$/,
    onlyInWorkers: "marked"
  },
  "rows-main.ts": {
    kind: "exits",
    output: /^[^\n]*rows: done[^\n]*\nsum of squares: 333338333350000\n[^\n]*rows: done[^\n]*\nfirst: 1, 4, 9$/
  },
  "promise.ts": {
    kind: "exits",
    output: /^primes below 100000: 9592\nrejected: AbortError: This operation was aborted$/
  },
  "server.ts": { kind: "serves", path: "/primes/100000", body: /^\{"n":100000,"count":9592\}$/ }
}

// Written when the file is collected, so that every test below sees the same files.
NodeFs.rmSync(out, { recursive: true, force: true })
NodeFs.mkdirSync(out)
for (const { code, file } of blocks) NodeFs.writeFileSync(`${out}${file}`, `${code}\n`)
// logs each resolution of a bare specifier, with the pid of the process that made it
NodeFs.writeFileSync(
  `${out}resolutions.mjs`,
  `import { registerHooks } from "node:module"
import { threadId } from "node:worker_threads"
registerHooks({
  resolve(specifier, context, next) {
    if (!specifier.startsWith(".") && !specifier.includes(":")) process.stderr.write(\`resolved \${specifier} in \${process.pid}/\${threadId}\\n\`)
    return next(specifier, context)
  }
})
`
)

const conditions = "--conditions=effect-process-pool:source"

describe("the README's code", () => {
  it("every file comment is followed by a block, every file is named once, and every one is run or imported", () => {
    assert.strictEqual(blocks.length, [...readme.matchAll(marker)].length, "a file comment without a ts block after it")
    const files = blocks.map((b) => b.file)
    assert.deepStrictEqual(files, [...new Set(files)], "two blocks with the same file name")
    const imported = new Set(blocks.flatMap((b) => [...b.code.matchAll(/from "\.\/([\w.-]+)"/g)].map((m) => m[1]!)))
    assert.deepStrictEqual(
      files.filter((f) => !(f in programs) && !imported.has(f)),
      [],
      "a file that is neither a program nor imported by one"
    )
    assert.deepStrictEqual(
      Object.keys(programs).filter((f) => !files.includes(f)),
      [],
      "a program that the README does not have"
    )
  })

  it("type-checks", () => {
    const tsc = typecheck(out)
    assert.strictEqual(tsc.status, 0, tsc.output)
  })

  for (const [file, expectation] of Object.entries(programs)) {
    it.live(
      `${file} runs`,
      () =>
        Effect.gen(function* () {
          if (expectation.kind === "exits") {
            const hook = expectation.onlyInWorkers === undefined ? [] : ["--import", `${out}resolutions.mjs`]
            const program = yield* start([conditions, ...hook, file], { cwd: out })
            const exited = yield* program.ended(60_000)
            const output = program.output()
            assert.deepStrictEqual(exited, { code: 0, signal: null }, output)
            assert.deepStrictEqual(processesInGroup(program.pid), [], "the program left processes behind")
            const resolved = /^resolved (\S+) in (\d+\/\d+)\n/gm
            const loaders = [...output.matchAll(resolved)]
            const printed = output.replace(resolved, "").trim()
            assert.match(printed, expectation.output)
            if (expectation.distinctLines !== undefined) {
              assert.strictEqual(new Set(printed.split("\n")).size, expectation.distinctLines, "no line twice")
            }
            if (expectation.onlyInWorkers !== undefined) {
              // `pid/threadId`: the parent is its process's main thread (0), a worker another process or thread
              const where = loaders.filter((m) => m[1] === expectation.onlyInWorkers).map((m) => m[2])
              assert.isNotEmpty(where, `no worker imported ${expectation.onlyInWorkers}`)
              assert.notInclude(where, `${program.pid}/0`, `the parent imported ${expectation.onlyInWorkers}`)
            }
          } else {
            const server = yield* start([conditions, file], { cwd: out, env: { PORT: "0" } })
            const [, port] = yield* server.waitFor(/Listening on http:\/\/127\.0\.0\.1:(\d+)/, 20_000)
            const body = yield* Effect.promise(() =>
              fetch(`http://127.0.0.1:${port}${expectation.path}`, { signal: AbortSignal.timeout(20_000) }).then((r) =>
                r.text()
              )
            )
            assert.match(body, expectation.body)
            const exited = yield* server.stop("SIGTERM", 10_000)
            assert.deepStrictEqual(exited, { code: 130, signal: null }, server.output())
            assert.deepStrictEqual(processesInGroup(server.pid), [], "the server left processes behind")
          }
        }),
      90_000
    )
  }
})
