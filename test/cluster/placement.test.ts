/**
 * The pure parts of the cluster client: placement, liveness, when a queued
 * chunk expires, and task references.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as NodeUrl from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { afterLoss, expiresAt } from "../../src/internal/cluster/clientJobs.ts"
import * as Liveness from "../../src/internal/cluster/liveness.ts"
import * as Placement from "../../src/internal/cluster/placement.ts"
import { resolveModuleRef, toModuleRef } from "../../src/internal/cluster/taskRef.ts"

describe("placement", () => {
  it("sends the next chunk to the runner with the smallest share of its credit in use", () => {
    assert.strictEqual(
      Placement.pick([
        { inflight: 2, credit: 4, lastSent: 0 },
        { inflight: 1, credit: 4, lastSent: 0 }
      ]),
      1
    )
    // a bigger runner takes more: 3/8 in use is less than 2/4
    assert.strictEqual(
      Placement.pick([
        { inflight: 2, credit: 4, lastSent: 0 },
        { inflight: 3, credit: 8, lastSent: 0 }
      ]),
      1
    )
    assert.strictEqual(
      Placement.pick([
        { inflight: 4, credit: 4, lastSent: 0 },
        { inflight: 0, credit: 0, lastSent: 0 }
      ]),
      undefined
    )
  })

  it("among runners equally loaded, sends to the one sent a chunk least recently (a runner that joined included)", () => {
    assert.strictEqual(
      Placement.pick([
        { inflight: 0, credit: 4, lastSent: 9 },
        { inflight: 1, credit: 4, lastSent: 8 },
        { inflight: 0, credit: 4, lastSent: 0 }
      ]),
      2
    )
    assert.strictEqual(
      Placement.pick([
        { inflight: 0, credit: 4, lastSent: 7 },
        { inflight: 0, credit: 4, lastSent: 9 }
      ]),
      0
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

describe("liveness", () => {
  const config = { pingIntervalMs: 500, pingTimeoutMs: 1_500 }
  const heard = (lastSeen: number, infoAt = lastSeen, askedAt?: number) => ({ lastSeen, infoAt, askedAt })

  it("a busy client asks a runner silent for pingInterval, or not refreshed for a second; an idle one every 5 s", () => {
    assert.isFalse(Liveness.isDue(heard(1_000), 1_400, true, config))
    assert.isTrue(Liveness.isDue(heard(1_000), 1_500, true, config))
    assert.isTrue(Liveness.isDue(heard(1_000, 0), 1_100, true, config)) // answers chunks, shards not refreshed
    assert.isFalse(Liveness.isDue(heard(1_000), 5_000, false, config))
    assert.isTrue(Liveness.isDue(heard(1_000), 6_000, false, config))
    assert.isFalse(Liveness.isDue(heard(1_000, 1_000, 1_500), 9_000, true, config), "one question at a time")
  })

  it("a question waits until the runner has been silent for pingTimeout, and at least half of it", () => {
    // asked pingInterval after its last answer: lost pingTimeout after that answer
    assert.strictEqual(Liveness.answerWaitMs(1_000, 1_500, config), 1_000)
    // asked long after (an idle client): half of pingTimeout
    assert.strictEqual(Liveness.answerWaitMs(1_000, 6_000, config), 750)
    assert.isFalse(Liveness.isLost(1_000, 2_499, config))
    assert.isTrue(Liveness.isLost(1_000, 2_500, config))
  })

  it("a runner silent on a question for 250 ms takes no new chunk; any answer since the question clears it", () => {
    assert.isFalse(Liveness.isSuspect(heard(1_000), 9_000))
    assert.isFalse(Liveness.isSuspect(heard(1_000, 1_000, 1_500), 1_700))
    assert.isTrue(Liveness.isSuspect(heard(1_000, 1_000, 1_500), 1_750))
    assert.isFalse(Liveness.isSuspect(heard(1_600, 1_000, 1_500), 1_900), "a chunk answered after the question")
  })
})

describe("runnerTimeout", () => {
  it("counts from when no runner was reachable, never from when a chunk was queued behind busy ones", () => {
    // queued at 0 behind busy runners; the last runner lost at 40 s: fails at 70 s, not 30 s
    assert.strictEqual(expiresAt(0, 40_000, 30_000), 70_000)
    // queued while nothing is reachable: a whole runnerTimeout from its own arrival
    assert.strictEqual(expiresAt(50_000, 40_000, 30_000), 80_000)
  })
})

describe("a job whose runner was lost", () => {
  it("goes to another runner until maxRedeliveries losses, then fails", () => {
    assert.strictEqual(afterLoss(1, 3, 0), "again")
    assert.strictEqual(afterLoss(3, 3, 0), "again")
    assert.strictEqual(afterLoss(4, 3, 0), "exhausted")
    assert.strictEqual(afterLoss(1, 0, 0), "exhausted")
  })

  it("a stream that has delivered elements fails at once: sent again, they would come twice", () => {
    assert.strictEqual(afterLoss(1, 3, 1), "streamed")
    assert.strictEqual(afterLoss(1, 3, 10_000), "streamed")
    // one that has delivered none is placed elsewhere, as a chunk is
    assert.strictEqual(afterLoss(1, 3, 0), "again")
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

  it("a package resolves only in the runner's own node_modules, never in one above its root", () => {
    const outer = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "epp-ref-"))
    try {
      for (const dir of [
        NodePath.join(outer, "node_modules", "up"),
        NodePath.join(outer, "app", "node_modules", "in")
      ]) {
        NodeFs.mkdirSync(dir, { recursive: true })
        NodeFs.writeFileSync(NodePath.join(dir, "package.json"), "{}")
      }
      const root = NodePath.join(outer, "app")
      assert.strictEqual(
        Result.getOrThrow(resolveModuleRef({ _tag: "Package", name: "in", path: "a.js" }, root)),
        url(NodePath.join(root, "node_modules", "in", "a.js"))
      )
      const up = resolveModuleRef({ _tag: "Package", name: "up", path: "a.js" }, root)
      assert.isTrue(Result.isFailure(up))
      assert.include(Result.isFailure(up) ? up.failure : "", "not installed in the runner's")
    } finally {
      NodeFs.rmSync(outer, { recursive: true, force: true })
    }
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
