/**
 * The `Fiber` that `submit` returns: a job's handle that keeps `Fiber`'s
 * contract (`join`, `await`, `interrupt`, `poll`, `joinAll`, `awaitAll`,
 * observers) without running an Effect fiber for it.
 *
 * A submitted task does nothing in the parent between its submit and its
 * answer, yet a forked fiber per task cost most of the parent's time on tiny
 * tasks: the fiber and its run loop, a finalizer in the pool's scope added and
 * removed, an `AsyncResource` per suspension, and the garbage of 20,000 of
 * them alive at once, which outlive the young generation (bench/RESULTS.md,
 * workload 1). This handle is one small object, ended by the job's own end.
 *
 * What it shares with a forked fiber: the caller's context (its span, log
 * level and services are what `getRef` and `context` answer), its exit (the
 * job's, or the interruption's cause once the job has really stopped), and its
 * place in the pool (the engine ends it when the pool closes, as the pool's
 * scope ended a forked one). Its `id` comes from a range of its own, above any
 * fiber id a process reaches, since Effect's counter is internal to it.
 *
 * Effect's own `Fiber.join`, `Fiber.await`, `Fiber.joinAll` and
 * `Fiber.awaitAll` read a fiber's `_exit` and call `removeObserver` (its
 * `FiberImpl`'s): this class has both, and test/run.test.ts ("submit's fiber")
 * runs each of those functions on it.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import { pipeArguments } from "effect/Pipeable"
import type { SchedulerDispatcher } from "effect/Scheduler"

const FiberTypeId = "~effect/Fiber" as const

const identity = <A>(a: A): A => a
const variance = { _A: identity, _E: identity }

type Observer<A, E> = (exit: Exit.Exit<A, E>) => void

/**
 * Ids of job fibers: far above the ids Effect gives its fibers, which count
 * from 1 (a process would start a billion fibers first), and small integers
 * for V8, which keeps a larger number in a heap object of its own, 16 bytes
 * more for each of the handles a round of tiny tasks holds at once.
 */
let lastId = 2 ** 30

/**
 * The dispatchers of the handles asked for one (none on the path of a task):
 * kept here rather than in a field, which every handle would carry.
 */
const dispatchers = new WeakMap<object, SchedulerDispatcher>()

export class JobFiber<A, E> implements Fiber.Fiber<A, E> {
  readonly id: number
  context: Context.Context<never>
  readonly cache: Fiber.Fiber.Cache
  /** the exit once ended; Effect's fiber functions read it under this name */
  _exit: Exit.Exit<A, E> | undefined = undefined
  /**
   * one observer as it is, more in an array: a handle mostly has one (its
   * joiner's), and `Fiber.joinAll` observes 20,000 at once in a round of tiny
   * tasks, each an array fewer for the young generation to copy
   */
  private observers: Observer<A, E> | Array<Observer<A, E>> | undefined = undefined
  /**
   * `stop(job, onStopped)` stops the job and calls back once it has stopped;
   * both set by `started`. Two fields rather than a closure over the job: a
   * handle lives from its submit to its join, 20,000 at once in a round of
   * tiny tasks, and what they hold is what the young generation copies.
   */
  private stop: ((job: any, onStopped: () => void) => void) | undefined = undefined
  private job: unknown = undefined
  private interrupting: Cause.Cause<never> | undefined = undefined

  constructor(parent: Fiber.Fiber<unknown, unknown>) {
    this.id = ++lastId
    this.context = parent.context
    this.cache = parent.cache
  }

  get [FiberTypeId](): Fiber.Fiber.Variance<A, E> {
    return variance as unknown as Fiber.Fiber.Variance<A, E>
  }

  /** Nothing runs on this fiber: it has run no operation (a getter, not a field each handle carries). */
  get currentOpCount(): number {
    return 0
  }

  get currentDispatcher(): SchedulerDispatcher {
    let dispatcher = dispatchers.get(this)
    if (dispatcher === undefined) dispatchers.set(this, (dispatcher = this.cache.scheduler.makeDispatcher()))
    return dispatcher
  }

  /** Ties the handle to its job: `stop(job, onStopped)` interrupts it. */
  started<J>(stop: (job: J, onStopped: () => void) => void, job: J): void {
    this.stop = stop
    this.job = job
  }

  /**
   * Ends the handle with `exit`, once; its observers are called at once, every
   * one of them even if one throws (a joiner resumes its caller's code here),
   * and the first throw is thrown after them, for the engine's delivery to report.
   */
  end(exit: Exit.Exit<A, E>): void {
    if (this._exit !== undefined) return
    this._exit = exit
    // an ended handle stops nothing: it lets go of its job, which may wait long to be joined
    this.stop = undefined
    this.job = undefined
    const observers = this.observers
    this.observers = undefined
    if (observers === undefined) return
    if (typeof observers === "function") return observers(exit)
    let thrown: { readonly error: unknown } | undefined
    for (let i = 0; i < observers.length; i++) {
      try {
        observers[i]!(exit)
      } catch (error) {
        thrown ??= { error }
      }
    }
    if (thrown !== undefined) throw thrown.error
  }

  /** The runtime sets the context of the fiber it runs; nothing runs on this one, so only `context` changes. */
  setContext(context: Context.Context<never>): void {
    this.context = context
  }

  getRef<X>(ref: Context.Reference<X>): X {
    return Context.get(this.context, ref)
  }

  addObserver(cb: Observer<A, E>): () => void {
    if (this._exit !== undefined) {
      cb(this._exit)
      return () => {}
    }
    const observers = this.observers
    if (observers === undefined) this.observers = cb
    else if (typeof observers === "function") this.observers = [observers, cb]
    else observers.push(cb)
    return () => this.removeObserver(cb)
  }

  removeObserver(cb: Observer<A, E>): void {
    const observers = this.observers
    if (this._exit !== undefined || observers === undefined) return
    if (observers === cb) {
      this.observers = undefined
      return
    }
    if (typeof observers === "function") return
    const index = observers.indexOf(cb)
    if (index >= 0) observers.splice(index, 1)
  }

  interruptUnsafe(fiberId?: number | undefined, annotations?: Context.Context<never> | undefined): void {
    if (this._exit !== undefined || this.interrupting !== undefined) return
    let cause: Cause.Cause<never> = Cause.interrupt(fiberId)
    if (annotations !== undefined) cause = Cause.annotate(cause, annotations)
    this.interrupting = cause
    const stop = this.stop
    if (stop === undefined) return this.end(Exit.failCause(cause))
    stop(this.job, () => this.end(Exit.failCause(cause)))
  }

  pollUnsafe(): Exit.Exit<A, E> | undefined {
    return this._exit
  }

  pipe() {
    // biome-ignore lint/complexity/noArguments: Pipeable's own way
    return pipeArguments(this, arguments)
  }
}
