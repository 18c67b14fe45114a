/**
 * The private PostgreSQL's binaries when the server runs as `nobody` (we are
 * root) and the clone sits under a folder `nobody` cannot enter (`/root`, a
 * `mktemp -d` folder): `reachable` gives the server binaries it can run.
 * Without it, `initdb` failed with EACCES in such a clone.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Postgres from "../../scripts/cluster/postgres.ts"

const user = Postgres.runAs()

const version = (initdb: string, as: { uid: number; gid: number }) =>
  NodeChildProcess.spawnSync(initdb, ["--version"], { ...as, encoding: "utf8", timeout: 10_000 })

describe.skipIf(user === undefined)("binaries under a folder the server's user cannot enter", () => {
  it.effect("are linked into the server's folder, and run from there", () =>
    Effect.gen(function* () {
      const as = user!
      const native = NodePath.dirname(NodePath.dirname((yield* Postgres.binaries()).initdb))
      const closed = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "epp-pg-closed-"))
      const server = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "epp-pg-"))
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const dir of [closed, server]) NodeFs.rmSync(dir, { recursive: true, force: true })
        })
      )
      NodeFs.chmodSync(closed, 0o700)
      NodeFs.chownSync(server, as.uid, as.gid)
      Postgres.linkTree(native, NodePath.join(closed, "native"))
      const bin = {
        initdb: NodePath.join(closed, "native", "bin", "initdb"),
        postgres: NodePath.join(closed, "native", "bin", "postgres")
      }
      // the precondition: from the closed folder the server's user cannot run them
      assert.strictEqual((version(bin.initdb, as).error as NodeJS.ErrnoException | undefined)?.code, "EACCES")

      const given = yield* Postgres.reachable(bin, as, server)
      assert.isTrue(given.initdb.startsWith(server + NodePath.sep), given.initdb)
      assert.match(version(given.initdb, as).stdout, /initdb \(PostgreSQL\) \d+/)
      assert.match(version(given.postgres, as).stdout, /postgres \(PostgreSQL\) \d+/)
    }).pipe(Effect.scoped)
  )

  it.effect("are used where they are when the server's user can run them", () =>
    Effect.gen(function* () {
      const as = user!
      const native = NodePath.dirname(NodePath.dirname((yield* Postgres.binaries()).initdb))
      const server = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "epp-pg-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => NodeFs.rmSync(server, { recursive: true, force: true })))
      NodeFs.chownSync(server, as.uid, as.gid)
      const open = NodeFs.mkdtempSync(NodePath.join(server, "open-"))
      NodeFs.chmodSync(open, 0o755)
      Postgres.linkTree(native, NodePath.join(open, "native"))
      const bin = {
        initdb: NodePath.join(open, "native", "bin", "initdb"),
        postgres: NodePath.join(open, "native", "bin", "postgres")
      }
      const given = yield* Postgres.reachable(bin, as, server)
      assert.deepStrictEqual(given, bin)
    }).pipe(Effect.scoped)
  )
})
