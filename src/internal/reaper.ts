/**
 * A tiny `sh` process per pool that holds a pipe from the parent and, when the
 * pipe closes without a goodbye (the parent died, even by SIGKILL), kills every
 * worker it was told about, with its process group (each worker leads one, see
 * `workerProcess.ts`: the processes its tasks started go with it). A worker notices a dead parent by itself through
 * its channel closing — unless a synchronous loop blocks its event
 * loop, which is exactly the case this covers. Chosen over a watchdog thread in
 * each worker (a worker thread costs about 40 MB, per worker) for one `sh` per
 * pool: about 1.6 MB of RSS (measured with `ps -o rss`) and a millisecond to
 * spawn, once. test/faults/orphans.test.ts shows a worker busy in a loop gone
 * within a second of `kill -9` of its parent. POSIX only; on Windows there is
 * no sidecar.
 *
 * @internal
 */
import * as ChildProcess from "node:child_process"

export interface Reaper {
  readonly add: (pid: number) => void
  readonly remove: (pid: number) => void
  /** The graceful end: the reaper exits without killing anything. */
  readonly close: () => void
}

const REAPER_SCRIPT = `trap '' INT
pids=' '
while IFS= read -r line; do
  case $line in
    bye) exit 0 ;;
    +*) pids="$pids\${line#+} " ;;
    -*) p=" \${line#-} "; case $pids in *"$p"*) pids="\${pids%%"$p"*} \${pids#*"$p"}" ;; esac ;;
  esac
done
for p in $pids; do kill -9 -$p 2>/dev/null; kill -9 $p 2>/dev/null; done
exit 0`

export const makeReaper = (): Reaper => {
  if (process.platform === "win32") return { add: () => {}, remove: () => {}, close: () => {} }
  let child: ChildProcess.ChildProcess | undefined
  /** the workers it guards: told again to a sidecar that starts late (one that could not start, EMFILE) */
  const guarded = new Set<number>()
  const started = (): void => {
    let sidecar: ChildProcess.ChildProcess
    try {
      sidecar = ChildProcess.spawn("/bin/sh", ["-c", REAPER_SCRIPT], { stdio: ["pipe", "ignore", "ignore"] })
    } catch {
      // E2BIG, EMFILE...: no sidecar for now; workers still exit when their channel closes
      return
    }
    sidecar.on("error", () => {})
    // no stdin: it did not start (EMFILE); its 'error' event follows
    if (sidecar.stdin === null || sidecar.pid === undefined) return
    sidecar.stdin.on("error", () => {})
    // the reaper must never keep the parent alive
    sidecar.unref()
    ;(sidecar.stdin as unknown as { unref?: () => void }).unref?.()
    child = sidecar
    for (const pid of guarded) write(`+${pid}`)
  }
  const write = (line: string) => {
    if (child?.stdin?.writable) child.stdin.write(`${line}\n`)
  }
  return {
    add: (pid) => {
      guarded.add(pid)
      // a sidecar that starts now is told of every guarded worker, this one included
      if (child !== undefined) write(`+${pid}`)
      else started()
    },
    remove: (pid) => {
      guarded.delete(pid)
      write(`-${pid}`)
    },
    close: () => {
      guarded.clear()
      if (child === undefined) return
      write("bye")
      child.stdin?.end()
      child = undefined
    }
  }
}
