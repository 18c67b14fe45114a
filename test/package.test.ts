/**
 * A new user's check: build and pack the package, install the tarball in an
 * empty project with the README's own install line (read out of the README,
 * so the two cannot drift), and run a plain-JavaScript program that defines
 * its own task. This is what proves the worker entry ships as compiled
 * JavaScript (Node does not strip types under node_modules), that `exports`
 * is right, and that the documented line installs an `effect` and an
 * `@effect/platform-node` that go together.
 *
 * npm picks versions by `engines` for the Node it runs on: on Node 20 an
 * unpinned `@effect/platform-node` resolved to 4.0.6 beside `effect` 4.1.5,
 * and the program died at import (`effect/dist/Crypto.js`). The line runs
 * with npm made to report Node 20 (test/fixtures/oldNode/pretend20.mjs), so
 * the check does not depend on the machine's own Node.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { tmpFile } from "./helpers/files.ts"

const root = new URL("..", import.meta.url).pathname
const asNode20 = { NODE_OPTIONS: `--import ${new URL("./fixtures/oldNode/pretend20.mjs", import.meta.url).href}` }

const run = (command: string, args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) =>
  NodeChildProcess.execFileSync(command, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 240_000
  })

/** The README's install line for the user's project: the `npm install` of the tarball, without its comment. */
const readmeInstallLine = (): ReadonlyArray<string> => {
  const readme = NodeFs.readFileSync(NodePath.join(root, "README.md"), "utf8")
  const section = readme.slice(readme.indexOf("\n## Install\n"), readme.indexOf("\n## Quickstart\n"))
  const lines = section.split("\n").filter((line) => line.startsWith("npm install ") && line.includes(".tgz"))
  assert.strictEqual(lines.length, 1, "one `npm install <tarball> ...` line in the README's Install section")
  return lines[0]!.replace(/#.*$/, "").trim().split(/\s+/)
}

/** An empty ES module project in a new folder. */
const emptyProject = (): string => {
  const app = NodePath.dirname(tmpFile("package.json"))
  NodeFs.writeFileSync(
    NodePath.join(app, "package.json"),
    JSON.stringify({ name: "app", type: "module", private: true })
  )
  return app
}

/** The versions npm chose for `names`, from the project's lockfile. */
const resolved = (app: string, names: ReadonlyArray<string>): Record<string, string> => {
  const lock = JSON.parse(NodeFs.readFileSync(NodePath.join(app, "package-lock.json"), "utf8"))
  return Object.fromEntries(names.map((name) => [name, lock.packages[`node_modules/${name}`]?.version]))
}

const EFFECTS = ["effect", "@effect/platform-node", "@effect/platform-node-shared"]

/** The test fails unless every version is there and they share one major.minor. */
const assertOneMinor = (versions: Record<string, string>, what: string) => {
  const minors = new Set(Object.values(versions).map((v) => v?.split(".").slice(0, 2).join(".")))
  assert.strictEqual(minors.size, 1, `${what}: ${JSON.stringify(versions)}`)
  assert.notInclude([...minors], undefined, `${what}: ${JSON.stringify(versions)}`)
}

describe("the packed package", () => {
  it.live(
    "installs with the README's line, as npm on Node 20 runs it, and runs a plain-JavaScript user's own task",
    () =>
      Effect.sync(() => {
        const dir = NodePath.dirname(tmpFile("pack"))
        const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", dir], root))
        const tarball = NodePath.join(dir, packed[0].filename)
        const files: Array<string> = packed[0].files.map((f: { path: string }) => f.path)
        assert.include(files, "dist/internal/workerMain.js")
        assert.include(files, "dist/index.d.ts")

        const [npm, install, documented, ...rest] = readmeInstallLine()
        assert.deepStrictEqual([npm, install], ["npm", "install"])
        assert.strictEqual(NodePath.basename(documented!), packed[0].filename, "the README names the packed tarball")
        // only flags that change what npm prints, not what it resolves
        const line = [install!, "--no-audit", "--no-fund", tarball, ...rest]

        // the line resolves a set that goes together whatever Node runs npm
        const here = emptyProject()
        run("npm", [...line, "--package-lock-only"], here)
        assertOneMinor(resolved(here, EFFECTS), `npm on Node ${process.versions.node}`)

        const app = emptyProject()
        run("npm", line, app, asNode20)
        assertOneMinor(resolved(app, EFFECTS), "npm on Node 20")

        for (const file of ["primes.js", "main.js"]) {
          NodeFs.copyFileSync(new URL(`./package/${file}`, import.meta.url), NodePath.join(app, file))
        }
        const output = run(process.execPath, ["main.js"], app)
        assert.strictEqual(output.trim(), JSON.stringify([4, 25, 168, 1229, 9592]))
        // task modules may import the Task module alone: the one the index re-exports
        const task = `Promise.all([import("effect-process-pool/Task"), import("effect-process-pool")]).then(([a, b]) => console.log(a.make === b.Task.make))`
        assert.strictEqual(run(process.execPath, ["--input-type=module", "-e", task], app).trim(), "true")
        // src/internal is not importable
        const probe = `import("effect-process-pool/dist/internal/engine.js").then(() => console.log("importable"), (e) => console.log(e.code))`
        assert.strictEqual(
          run(process.execPath, ["--input-type=module", "-e", probe], app).trim(),
          "ERR_PACKAGE_PATH_NOT_EXPORTED"
        )

        // without the versions, the package's optional peer range still steers npm on Node 20
        const bare = emptyProject()
        run(
          "npm",
          [install!, "--no-audit", "--no-fund", "--package-lock-only", tarball, "@effect/platform-node"],
          bare,
          asNode20
        )
        assertOneMinor(resolved(bare, EFFECTS), "npm on Node 20, @effect/platform-node without a version")
      }),
    300_000
  )
})
