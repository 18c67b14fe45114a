/** Effect v4 RPC: the requests the bench sends to its child-process workers (bench/peers/rpcChild.ts). */
import { Schema } from "effect"
import { Rpc, RpcGroup } from "effect/rpc"

export class BenchRpcs extends RpcGroup.make(
  Rpc.make("Square", { payload: { n: Schema.Number }, success: Schema.Number }),
  Rpc.make("Squares", { payload: { xs: Schema.Array(Schema.Number) }, success: Schema.Array(Schema.Number) }),
  Rpc.make("CountPrimes", { payload: { limit: Schema.Number }, success: Schema.Number }),
  Rpc.make("Spin", { payload: { ms: Schema.Number }, success: Schema.Number }),
  Rpc.make("Pid", { success: Schema.Number })
) {}
