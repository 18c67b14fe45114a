"""
Breaks the engine's rules one at a time and checks that its unit tests
(test/internal/engine.test.ts, on a fake kind of worker and a fake clock)
catch each: `python3 scripts/dev/mutate-engine.py` from the repository's root.
Each mutation is a text replacement in one file, undone after its run; a rule
whose breaking no test notices is printed MISSED. Not part of `npm test`
(it runs the engine tests once per mutation).
"""
import subprocess, sys
muts = [
 ("src/internal/interrupts.ts", "clock.nextTurn(() => heldStopped(state, job))", "heldStopped(state, job)", "held: conclude in the same turn"),
 ("src/internal/interrupts.ts", "if (waited < MIN_HELD_WAIT_MS) {", "if (false) {", "held: no minimum wait"),
 ("src/internal/interrupts.ts", "if (job.worker!.handle.receiving()) {", "if (false) {", "held: ignore a message arriving"),
 ("src/internal/interrupts.ts", "  if (Jobs.isRunning(job)) {\n    Jobs.waitFor(", "  if (false) {\n    Jobs.waitFor(", "held: no own grace when it became running"),
 ("src/internal/interrupts.ts", "if (stale || Jobs.isRunning(job)) return", "if (stale) return", "revoke: requeue a started job"),
 ("src/internal/interrupts.ts", "clock.after(MIN_HELD_WAIT_MS, () => clock.nextTurn(() => revokeExpired(state, job, donor)))", "clock.after(MIN_HELD_WAIT_MS, () => revokeExpired(state, job, donor))", "revoke: no next turn"),
 ("src/internal/workers.ts", "    if (job.stopping !== undefined || state.closed) finish(state, job, [Jobs.CANCELLED])\n    else requeued.push(job)", "    requeued.push(job)", "death: requeue a job being interrupted"),
 ("src/internal/workers.ts", "  Jobs.requeue(state.queue, requeued, false)\n", "  for (const job of requeued) finish(state, job, [Jobs.CANCELLED])\n", "death: held jobs not requeued"),
 ("src/internal/workers.ts", "  const lost = slot.lost ?? workerEnd.lostChannel", "  const lost = undefined as string | undefined", "lost: not a crash"),
 ("src/internal/slots.ts", "    onKilled()\n    kill(slot)", "    onKilled()", "retire: no kill"),
 ("src/internal/replacements.ts", "  r.toReplace++\n  r.recycling++", "  r.toReplace++", "recycle: replacement not at once"),
 ("src/internal/engine.ts", "      clock.after(KILL_WAIT_MS, finishShutdown, true)", "      void KILL_WAIT_MS", "shutdown: waits for ever for killed workers"),
 ("src/internal/slots.ts", "return this.state === READY && !this.finishing && this.handle.accepting()", "return this.state !== GONE && !this.finishing && this.handle.accepting()", "dispatch: send to a starting worker"),
 ("src/internal/engine.ts", "      return answer[2].length === job.count", "      return true", "validation: a Done of the wrong size"),
 ("src/internal/workers.ts", "    } else if (!slot.loaded.has(running.ref) && !expected && lost === undefined && !workerEnd.killedFromOutside) {", "    } else if (!slot.loaded.has(running.ref) && !expected && lost === undefined) {", "death: killed from outside while loading is a broken module"),
 ("src/internal/interrupts.ts", "    Slots.kill(job.worker!)\n    return", "    return", "grace: never kill"),
 ("src/internal/workers.ts", "  if (liveWorkers(state) > 0) return\n  // nothing can serve", "  return\n  // nothing can serve", "start: waiting jobs never fail"),
]
ok = True
for f, a, b, name in muts:
    src = open(f).read()
    if a not in src:
        print("NOT FOUND:", name); ok = False; continue
    open(f, "w").write(src.replace(a, b, 1))
    r = subprocess.run(["npx", "vitest", "run", "test/internal/engine.test.ts"], capture_output=True, text=True, timeout=300)
    open(f, "w").write(src)
    failed = r.returncode != 0
    print(("caught  " if failed else "MISSED  ") + name)
    ok = ok and failed
print("all caught" if ok else "some missed")
