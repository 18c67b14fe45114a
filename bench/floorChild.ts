/** The floor: a bare child that answers each IPC message at once, with no framework. */
process.on("message", (m: unknown) => {
  if (Array.isArray(m)) process.send!(m.map((x: number) => x * x))
  else process.send!((m as number) * (m as number))
})
