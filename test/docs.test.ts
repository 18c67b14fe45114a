/**
 * Every public export has a doc comment with a short example, so that the
 * public surface stays documented as it grows.
 */
import * as NodeFs from "node:fs"
import { assert, describe, it } from "@effect/vitest"

const modules = ["Task.ts", "ProcessPool.ts", "ProcessPoolError.ts", "Cluster.ts"]

describe("public exports", () => {
  for (const module of modules) {
    it(`${module}: every export has a doc comment with an @example`, () => {
      const source = NodeFs.readFileSync(new URL(`../src/${module}`, import.meta.url), "utf8")
      const missing: Array<string> = []
      const exportLine = /^export (?:const|type|interface|class) (\w+)/gm
      for (const match of source.matchAll(exportLine)) {
        const before = source.slice(0, match.index)
        const doc = before.match(/\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*$/)
        if (doc === null || !doc[0].includes("@example")) missing.push(match[1]!)
      }
      assert.deepStrictEqual(missing, [])
    })
  }
})
