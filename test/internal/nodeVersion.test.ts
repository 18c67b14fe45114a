/**
 * Which Node versions the library accepts, and what it says to the others.
 */
import * as NodeFs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { MINIMUM, unsupportedNode } from "../../src/internal/nodeVersion.ts"

describe("unsupportedNode", () => {
  it("accepts the package's engines and later", () => {
    for (const version of ["22.19.0", "22.20.1", "23.0.0", "24.21.0", "30.1.2"]) {
      assert.isUndefined(unsupportedNode(version, "/bin/node"), version)
    }
  })

  it("refuses an older Node, naming it, where it is, what goes wrong and what to do", () => {
    for (const version of ["20.20.2", "22.18.0", "21.7.3", "18.0.0"]) {
      const message = unsupportedNode(version, "/usr/bin/node")
      assert.isString(message, version)
      assert.include(message, `this is Node ${version} (/usr/bin/node)`)
      assert.include(message, "needs Node 22.19 or later")
      assert.include(message, "`if (import.meta.main)`")
      assert.include(message, "npm install --save-dev node@24")
    }
  })

  it("does not refuse a version it cannot read", () => {
    assert.isUndefined(unsupportedNode("", "/bin/node"))
    assert.isUndefined(unsupportedNode("v20", "/bin/node"))
  })

  it("is package.json's engines", () => {
    const pkg = JSON.parse(NodeFs.readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    assert.strictEqual(pkg.engines.node, `>=${MINIMUM[0]}.${MINIMUM[1]}`)
  })
})

describe("the README", () => {
  const readme = NodeFs.readFileSync(new URL("../../README.md", import.meta.url), "utf8")
  const install = readme.slice(readme.indexOf("\n## Install\n"), readme.indexOf("\n## Quickstart\n"))

  it("says the project is an ES module project on the supported Nodes, and how to get one", () => {
    assert.include(install, '(`"type": "module"` in its package.json)')
    assert.include(install, `Node ≥ ${MINIMUM[0]}.${MINIMUM[1]}`)
    assert.include(install, "npm install --save-dev node@24")
  })

  it("recommends the guard the nested-pool error names, and says where it does nothing", () => {
    const source = NodeFs.readFileSync(new URL("../../src/internal/workerContext.ts", import.meta.url), "utf8")
    assert.include(source, "`if (import.meta.main)`")
    assert.include(readme, "  if (import.meta.main) program.pipe(")
    assert.include(readme, "`import.meta.main` needs an ES module")
  })
})
