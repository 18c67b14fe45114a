/**
 * A tiny `sh` process per pool that holds a pipe from the parent and, when the
 * pipe closes without a goodbye (the parent died, even by SIGKILL), kills every
 * worker it was told about. A worker notices a dead parent by itself through
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
kill -9 $pids 2>/dev/null
exit 0`

export const makeReaper = (): Reaper => {
  if (process.platform === "win32") return { add: () => {}, remove: () => {}, close: () => {} }
  let child: ChildProcess.ChildProcess | undefined
  const write = (line: string) => {
    if (child === undefined) {
      child = ChildProcess.spawn("/bin/sh", ["-c", REAPER_SCRIPT], { stdio: ["pipe", "ignore", "ignore"] })
      child.on("error", () => {})
      child.stdin!.on("error", () => {})
      // the reaper must never keep the parent alive
      child.unref()
      ;(child.stdin as unknown as { unref?: () => void }).unref?.()
    }
    if (child.stdin!.writable) child.stdin!.write(`${line}\n`)
  }
  return {
    add: (pid) => write(`+${pid}`),
    remove: (pid) => {
      if (child !== undefined) write(`-${pid}`)
    },
    close: () => {
      if (child === undefined) return
      write("bye")
      child.stdin!.end()
      child = undefined
    }
  }
}
