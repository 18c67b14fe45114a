/**
 * A new user's check: build and pack the package, install the tarball in an
 * empty folder next to `effect` and `@effect/platform-node`, and run a
 * plain-JavaScript program that defines its own task. This is what proves the
 * worker entry ships as compiled JavaScript (Node does not strip types under
 * node_modules) and that `exports` is right.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

const root = new URL("..", import.meta.url).pathname
const run = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  NodeChildProcess.execFileSync(command, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 240_000
  })

describe("the packed package", () => {
  it.live(
    "installs from its tarball and runs a plain-JavaScript user's own task",
    () =>
      Effect.sync(() => {
        const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "epp-pack-"))
        try {
          const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", dir], root))
          const tarball = NodePath.join(dir, packed[0].filename)
          const files: Array<string> = packed[0].files.map((f: { path: string }) => f.path)
          assert.include(files, "dist/internal/workerMain.js")
          assert.include(files, "dist/index.d.ts")
          const app = NodePath.join(dir, "app")
          NodeFs.mkdirSync(app)
          NodeFs.writeFileSync(
            NodePath.join(app, "package.json"),
            JSON.stringify({ name: "app", type: "module", private: true })
          )
          const versions = JSON.parse(NodeFs.readFileSync(NodePath.join(root, "package.json"), "utf8")).devDependencies
          run(
            "npm",
            [
              "install",
              "--no-audit",
              "--no-fund",
              "--prefer-offline",
              tarball,
              `effect@${versions.effect}`,
              `@effect/platform-node@${versions["@effect/platform-node"]}`
            ],
            app
          )
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
        } finally {
          NodeFs.rmSync(dir, { recursive: true, force: true })
        }
      }),
    300_000
  )
})
