import { connect } from "node:net";

/**
 * A FastAGI client that behaves as Asterisk does (from its AGI documentation): it sends the channel's
 * agi_* environment, answers each command with `200 result=1`, and can announce a hang-up with
 * `HANGUP` mid-session. It records the variables the server set.
 */
export type AgiRun = { variables: Record<string, string>; commands: string[]; closedByServer: boolean };

export async function runAgi(
  port: number,
  script: string,
  env: Record<string, string>,
  opts: { args?: string[]; hangupAfter?: number; timeoutMs?: number } = {},
): Promise<AgiRun> {
  const socket = connect({ host: "127.0.0.1", port });
  socket.setEncoding("utf8");
  const run: AgiRun = { variables: {}, commands: [], closedByServer: false };
  const block: Record<string, string> = {
    agi_network: "yes",
    agi_network_script: script,
    agi_request: `agi://127.0.0.1:${port}/${script}`,
    agi_channel: "PJSIP/100-00000001",
    agi_language: "en",
    agi_type: "PJSIP",
    agi_uniqueid: "1709251200.1",
    agi_version: "20.5.0",
    agi_callerid: "100",
    agi_calleridname: "Tanaka",
    agi_callingpres: "0",
    agi_callingani2: "0",
    agi_callington: "0",
    agi_callingtns: "0",
    agi_dnid: "unknown",
    agi_rdnis: "unknown",
    agi_context: "from-internal",
    agi_extension: "s",
    agi_priority: "1",
    agi_enhanced: "0.0",
    agi_accountcode: "",
    agi_threadid: "140000000000001",
    ...env,
  };
  (opts.args ?? []).forEach((a, i) => {
    block[`agi_arg_${i + 1}`] = a;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  socket.write(
    Object.entries(block)
      .map(([k, v]) => `${k}: ${v}\n`)
      .join("") + "\n",
  );
  let buf = "";
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, opts.timeoutMs ?? 5000);
    socket.on("data", (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
        const cmd = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        run.commands.push(cmd);
        const m = /^SET VARIABLE (\S+) "((?:[^"\\]|\\.)*)"$/.exec(cmd);
        if (m) run.variables[m[1] as string] = (m[2] as string).replace(/\\(.)/g, "$1");
        if (opts.hangupAfter !== undefined && run.commands.length === opts.hangupAfter) {
          socket.write("HANGUP\n");
          socket.write("511 Command Not Permitted on a dead channel\n");
        } else socket.write("200 result=1\n");
      }
    });
    socket.on("close", () => {
      run.closedByServer = true;
      clearTimeout(timer);
      resolve();
    });
  });
  return run;
}
