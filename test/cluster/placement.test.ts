/**
 * The pure parts of the cluster client: placement and task references.
 */
import * as NodePath from "node:path"
import * as NodeUrl from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as Placement from "../../src/internal/cluster/placement.ts"
import { resolveModuleRef, toModuleRef } from "../../src/internal/cluster/taskRef.ts"

describe("placement", () => {
  it("sends the next chunk to the runner with the smallest share of its credit in use", () => {
    assert.strictEqual(
      Placement.pick([
        { inflight: 2, credit: 4 },
        { inflight: 1, credit: 4 }
      ]),
      1
    )
    // a bigger runner takes more: 3/8 in use is less than 2/4
    assert.strictEqual(
      Placement.pick([
        { inflight: 2, credit: 4 },
        { inflight: 3, credit: 8 }
      ]),
      1
    )
    assert.strictEqual(
      Placement.pick([
        { inflight: 4, credit: 4 },
        { inflight: 0, credit: 0 }
      ]),
      undefined
    )
  })

  it("finds one entity id per shard, and a route that stays while its shard does", () => {
    const shardOf = (id: string) => (Number(id.slice(Placement.ROUTE_PREFIX.length)) % 10) + 1
    const ids = Placement.idsByShard(10, shardOf)
    assert.strictEqual(ids.size, 10)
    for (const [shard, id] of ids) assert.strictEqual(shardOf(id), shard)
    assert.strictEqual(Placement.routeFor([3, 7], ids, ids.get(7), shardOf), ids.get(7))
    assert.strictEqual(Placement.routeFor([3], ids, ids.get(7), shardOf), ids.get(3))
    assert.isUndefined(Placement.routeFor([], ids, undefined, shardOf))
  })
})

describe("task references", () => {
  const root = "/srv/app"
  const url = (path: string) => NodeUrl.pathToFileURL(path).href

  it("a module under the root travels as its relative path, and resolves under the runner's root", () => {
    const ref = Result.getOrThrow(toModuleRef(url("/srv/app/tasks/primes.ts"), root))
    assert.deepStrictEqual(ref, { _tag: "Root", path: "tasks/primes.ts" })
    assert.strictEqual(Result.getOrThrow(resolveModuleRef(ref, "/opt/other")), url("/opt/other/tasks/primes.ts"))
  })

  it("a module in node_modules travels as the package's name and a path inside it", () => {
    const ref = Result.getOrThrow(toModuleRef(url("/srv/app/node_modules/@acme/tasks/dist/a.js"), root))
    assert.deepStrictEqual(ref, { _tag: "Package", name: "@acme/tasks", path: "dist/a.js" })
    const here = NodePath.resolve(".")
    const effect = Result.getOrThrow(resolveModuleRef({ _tag: "Package", name: "effect", path: "package.json" }, here))
    assert.match(effect, /node_modules\/effect\/package\.json$/)
  })

  it("a module outside the root, or not a file, cannot travel", () => {
    assert.isTrue(Result.isFailure(toModuleRef(url("/home/me/tasks.ts"), root)))
    assert.isTrue(Result.isFailure(toModuleRef("data:text/javascript,export default 1", root)))
  })

  it("a runner refuses references that escape its root or the package", () => {
    for (const path of ["../etc/passwd.js", "/etc/passwd.js", "a/../../b.js", "a\\b.js"]) {
      assert.isTrue(Result.isFailure(resolveModuleRef({ _tag: "Root", path }, root)), path)
    }
    assert.isTrue(Result.isFailure(resolveModuleRef({ _tag: "Package", name: "../x", path: "a.js" }, root)))
    assert.isTrue(
      Result.isFailure(resolveModuleRef({ _tag: "Package", name: "effect", path: "../../x.js" }, NodePath.resolve(".")))
    )
  })
})
