import type { SwitchDialog } from "../../../app/call-service.js";
import type { Termination } from "../../../calls/verdict.js";
import type { RpcCaller } from "./rpc.js";

/**
 * Ends a live call through Kamailio's dialog module. With the dialog's hash ids (sent by
 * deploy/kamailio/kamailio.cfg with the answer notice) `dlg.end_dlg` is exact; without them the call is
 * found by its Call-ID and tags (`dlg.terminate_dlg`). The Reason header tells both ends why.
 */
export async function endKamailioCall(
  rpc: RpcCaller,
  t: Termination,
  dialog: SwitchDialog | undefined,
): Promise<void> {
  const reason = `Reason: Q.850;cause=16;text="mamori ${t.rule}"\r\n`;
  if (dialog) {
    await rpc.call("dlg.end_dlg", [dialog.hEntry, dialog.hId, reason]);
    return;
  }
  throw new Error(
    `no Kamailio dialog ids for call ${t.callId}: it cannot be ended (was the answer notice sent?)`,
  );
}
