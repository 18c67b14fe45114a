/**
 * The floor for workload 7 (bytes): a bare forked child, started with
 * `serialization: "advanced"`, that sends back each message as it came (a
 * `Uint8Array` is framed as raw bytes by V8's serializer each way).
 */
process.on("message", (m: unknown) => {
  process.send!(m as never)
})
