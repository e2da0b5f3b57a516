/**
 * Smoke test of deploy/kamailio/kamailio.cfg with the real Kamailio and SIPp on loopback: SIPp calls
 * through Kamailio to a SIPp "trunk", and Kamailio asks Mamori's HTTP API about each call.
 *
 * By default a tiny stand-in answers for Mamori (deny numbers starting +232, 00232 or 010232, allow
 * the rest) and records the answer/hang-up notices. To run the same calls against a real service,
 * set MAMORI_SMOKE_URL (and MAMORI_SMOKE_API_KEY); the checks that read the stand-in's records are
 * then skipped.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Dialog, type Kamailio, kamailioSkipReason, startKamailio, until } from "../support/kamailio.js";
import { artifactsDir, freePort, stopAll } from "../support/peers.js";
import { type Call, finish, messagesStarting, Sipp, stopUas } from "../support/sipp.js";

const REAL_URL = process.env.MAMORI_SMOKE_URL;
const API_KEY = process.env.MAMORI_SMOKE_API_KEY ?? "smoke-test-key";
const DENIED = /^(\+|00|010)232/;
const skip = kamailioSkipReason();

// One directory per run, so that logs of a failed run stay next to each other.
let runDir = "";
function dir(): string {
  if (!runDir) runDir = artifactsDir("kamailio-smoke", `run-${Date.now()}-${process.pid}`);
  return runDir;
}

// ---------------------------------------------------------------- stand-in for Mamori's API

interface Seen {
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

interface CallEvent extends Seen {
  callId: string;
  event: "answer" | "hangup";
}

interface StandIn {
  url: string;
  authorizations: Seen[];
  events: CallEvent[];
  stop(): Promise<void>;
}

async function startStandIn(): Promise<StandIn> {
  const authorizations: Seen[] = [];
  const events: CallEvent[] = [];
  const server = createHttpServer((req, res) => {
    readJson(req)
      .then((body) => answer(req, res, body))
      .catch(() => reply(res, 400, { error: "bad json" }));
  });
  function answer(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) {
    const seen = { path: req.url ?? "", authorization: req.headers.authorization, body };
    if (req.method === "POST" && req.url === "/v1/calls/authorize") {
      authorizations.push(seen);
      const deny = DENIED.test(String(body.to ?? ""));
      return reply(
        res,
        200,
        deny
          ? {
              decision: "deny",
              reasons: [{ rule: "destination.high-risk", message: 'Sierra Leone (+232): "IRSF" risk' }],
            }
          : { decision: "allow", reasons: [] },
      );
    }
    const match = /^\/v1\/calls\/([^/]+)\/(answer|hangup)$/.exec(req.url ?? "");
    if (req.method === "POST" && match?.[1] && (match[2] === "answer" || match[2] === "hangup")) {
      events.push({ ...seen, callId: decodeURIComponent(match[1]), event: match[2] });
      return reply(res, 200, { ok: true });
    }
    return reply(res, 404, { error: "not found" });
  }
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    authorizations,
    events,
    stop: () => closeServer(server),
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = "";
  for await (const chunk of req) text += String(chunk);
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

function reply(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function listen(server: import("node:net").Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
}

function closeServer(
  server: import("node:net").Server & { closeAllConnections?: () => void },
): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/** A server that accepts connections and never answers: Mamori hanging. */
async function startHungServer(): Promise<{ url: string; connections: () => number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createTcpServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => count,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    },
  };
}

const sipp = new Sipp(dir);

function kamailioFor(name: string, mamoriUrl: string, nextHopPort: number, defines: string[] = []) {
  const debug = Boolean(process.env.MAMORI_SMOKE_KAMAILIO_DEBUG);
  return startKamailio({ name, dir: dir(), mamoriUrl, apiKey: API_KEY, nextHopPort, defines, debug });
}

// ---------------------------------------------------------------- tests

const ALLOWED: readonly Call[] = [
  ["acme", "+14155550123", "2001"],
  ["acme", "0044207946000", "2002"],
  ["globex", "+81312345678", "3001"],
];
const DENIED_CALLS: readonly Call[] = [
  ["acme", "+23276123456", "2001"],
  ["acme", "0023276123456", "2001"],
  ["globex", "01023276123456", "3001"],
];

describe("Kamailio asks Mamori before relaying each call", { skip }, () => {
  let standIn: StandIn | undefined;
  let kamailio: Kamailio;
  let trunkPort = 0;
  let allowedCallIds: string[] = [];
  const needsStandIn = REAL_URL
    ? "the stand-in's records are not available against a real service"
    : undefined;

  before(async () => {
    standIn = REAL_URL ? undefined : await startStandIn();
    trunkPort = await freePort();
    kamailio = await kamailioFor("main", REAL_URL ?? standIn?.url ?? "", trunkPort);
  });

  after(async () => {
    await stopAll();
    await standIn?.stop();
  });

  it("relays allowed calls to the trunk, where they complete", async () => {
    const trunk = await sipp.startUas("uas.xml", trunkPort, ALLOWED.length, "trunk");
    const callers = await sipp.uac("uac.xml", kamailio.sipPort, ALLOWED, "allowed");
    const trunkResult = await finish(trunk);

    assert.equal(
      callers.successful,
      ALLOWED.length,
      `callers: ${JSON.stringify(callers, null, 1).slice(0, 400)}`,
    );
    assert.equal(callers.failed, 0);
    assert.equal(callers.code, 0);
    assert.equal(trunkResult.successful, ALLOWED.length);
    const invites = messagesStarting(trunkResult.messages, "INVITE ");
    assert.equal(invites.length, ALLOWED.length);
    for (const invite of invites) {
      assert.doesNotMatch(invite, /^X-Mamori-Account:/im, "the account header stays inside");
    }
    allowedCallIds = invites.map((invite) => /^Call-ID:\s*(.+)$/im.exec(invite)?.[1]?.trim() ?? "");

    if (standIn) {
      const asked = standIn.authorizations.filter((a) => allowedCallIds.includes(String(a.body.callId)));
      assert.equal(asked.length, ALLOWED.length);
      for (const [account, dialled, caller] of ALLOWED) {
        const question = asked.find((a) => a.body.to === dialled);
        assert.ok(question, `asked about ${dialled}`);
        assert.deepEqual(
          { account: question.body.account, from: question.body.from, sourceIp: question.body.sourceIp },
          { account, from: caller, sourceIp: "127.0.0.1" },
        );
        assert.equal(question.authorization, `Bearer ${API_KEY}`);
      }
    }
  });

  it("tells Mamori when each call is answered and when it ends", { skip: needsStandIn }, async () => {
    assert.equal(allowedCallIds.length, ALLOWED.length, "needs the calls of the previous test");
    const events = standIn?.events ?? [];
    await until("answer and hang-up notices", 5000, () =>
      allowedCallIds.every((id) => events.some((e) => e.callId === id && e.event === "hangup"))
        ? true
        : undefined,
    );
    for (const callId of allowedCallIds) {
      const mine = events.filter((e) => e.callId === callId);
      assert.deepEqual(
        mine.map((e) => e.event),
        ["answer", "hangup"],
        `notices for ${callId}`,
      );
      const [answer, hangup] = mine;
      assert.equal(answer?.authorization, `Bearer ${API_KEY}`);
      assert.equal(hangup?.body.cause, "bye");
      const { hEntry, hId, fromTag, toTag } = (answer?.body.dialog ?? {}) as Record<string, unknown>;
      assert.deepEqual(
        [hEntry, hId, fromTag, toTag].map((v) => typeof v),
        ["number", "number", "string", "string"],
      );
    }
  });

  it("refuses calls to +232 with 403 and Mamori's reason, and never rings the trunk", async () => {
    const trunk = await sipp.startUas("uas.xml", trunkPort, 1, "trunk-untouched");
    const callers = await sipp.uac("uac-rejected.xml", kamailio.sipPort, DENIED_CALLS, "denied");
    const trunkResult = await stopUas(trunk);

    assert.equal(callers.successful, DENIED_CALLS.length, `code ${callers.code}, failed ${callers.failed}`);
    const refusals = messagesStarting(callers.messages, "SIP/2.0 403");
    assert.equal(refusals.length, DENIED_CALLS.length);
    for (const refusal of refusals) {
      const reason = /^X-Mamori-Reason:\s*(.+)$/im.exec(refusal)?.[1] ?? "";
      if (standIn) assert.match(reason, /^destination\.high-risk: Sierra Leone \(\+232\)/);
      else assert.notEqual(reason, "");
      assert.match(refusal, /^Reason:\s*SIP\s*;\s*cause=403\s*;\s*text="[^"\r\n]*"\s*$/im);
    }
    assert.equal(messagesStarting(trunkResult.messages, "INVITE ").length, 0, "no INVITE reached the trunk");

    if (standIn) {
      const deniedIds = standIn.authorizations
        .filter((a) => DENIED.test(String(a.body.to)))
        .map((a) => a.body.callId);
      assert.equal(deniedIds.length, DENIED_CALLS.length);
      await sleep(300);
      const notices = standIn.events.filter((e) => deniedIds.includes(e.callId));
      assert.equal(notices.length, 0, "no notices for refused calls");
    }
  });

  /** Sets up a call that stays up, lets `end` end it over RPC, and checks both ends got a BYE. */
  async function endLiveCall(label: string, dialled: string, end: (dialog: Dialog) => Promise<unknown>) {
    const trunk = await sipp.startUas("uas-hold.xml", trunkPort, 1, `trunk-${label}`);
    const caller = await sipp.startUac("uac.xml", kamailio.sipPort, [["acme", dialled, "2001"]], label);
    const live = await until("a confirmed dialog", 10_000, async () => {
      const dialogs = (await kamailio.rpc("dlg.list")) as Dialog[];
      return dialogs.find((d) => d.state === 4);
    });
    if (standIn) {
      // The answer notice carries what the RPCs need.
      const events = standIn.events;
      const answer = await until("the answer notice", 5000, () =>
        events.find((e) => e.callId === live["call-id"] && e.event === "answer"),
      );
      assert.deepEqual(answer.body.dialog, {
        hEntry: live.h_entry,
        hId: live.h_id,
        fromTag: live.caller.tag,
        toTag: live.callee.tag,
      });
    }
    await end(live);

    const callerResult = await finish(caller);
    const trunkResult = await finish(trunk);
    assert.equal(callerResult.successful, 1, "the caller got a BYE");
    assert.equal(trunkResult.successful, 1, "the trunk got a BYE");
    if (standIn) {
      const events = standIn.events;
      const hangup = await until("the hang-up notice", 5000, () =>
        events.find((e) => e.callId === live["call-id"] && e.event === "hangup"),
      );
      assert.equal(hangup.body.cause, "proxy");
    }
    return { trunkMessages: trunkResult.messages };
  }

  it("lets Mamori end a live call with dlg.end_dlg over JSON-RPC, with a Reason", async () => {
    const { trunkMessages } = await endLiveCall("end-dlg", "+14155550199", (d) =>
      kamailio.rpc("dlg.end_dlg", [d.h_entry, d.h_id, 'Reason: Q.850;cause=21;text="mamori: fraud"\r\n']),
    );
    const bye = messagesStarting(trunkMessages, "BYE ")[0] ?? "";
    assert.match(bye, /^Reason: Q\.850;cause=21;text="mamori: fraud"$/m);
  });

  it("or with dlg.terminate_dlg given the call-id and both tags", async () => {
    await endLiveCall("terminate-dlg", "+14155550198", (d) =>
      kamailio.rpc("dlg.terminate_dlg", [d["call-id"], d.caller.tag, d.callee.tag]),
    );
  });
});

describe("when Mamori does not answer, the configured failure mode applies", { skip }, () => {
  after(() => stopAll());

  it("fail-open (the default) relays the call", async () => {
    const stopped = await startStandIn();
    await stopped.stop(); // nothing listens on its port any more
    const trunkPort = await freePort();
    const kamailio = await kamailioFor("fail-open", stopped.url, trunkPort);
    try {
      const trunk = await sipp.startUas("uas.xml", trunkPort, 1, "trunk-fail-open");
      const caller = await sipp.uac(
        "uac.xml",
        kamailio.sipPort,
        [["acme", "+14155550100", "2001"]],
        "fail-open",
      );
      const trunkResult = await finish(trunk);
      assert.equal(caller.successful, 1, `caller: code ${caller.code}, failed ${caller.failed}`);
      assert.equal(trunkResult.successful, 1);
      assert.match(kamailio.process.output(), /mamori: unavailable, fail-open/);
    } finally {
      await kamailio.process.stop();
    }
  });

  it("fail-closed answers 503 once the time-out has passed, then at once while Mamori is down", async (t) => {
    const hung = await startHungServer();
    t.after(() => hung.stop());
    const trunkPort = await freePort();
    const kamailio = await kamailioFor("fail-closed", hung.url, trunkPort, ["MAMORI_FAIL_CLOSED"]);
    try {
      const trunk = await sipp.startUas("uas.xml", trunkPort, 1, "trunk-fail-closed");
      const call = async (dialled: string, label: string) => {
        const started = Date.now();
        const result = await sipp.uac(
          "uac-rejected.xml",
          kamailio.sipPort,
          [["acme", dialled, "2001"]],
          label,
        );
        return { ...result, elapsed: Date.now() - started };
      };

      const first = await call("+14155550100", "fail-closed");
      assert.equal(first.successful, 1, `caller: code ${first.code}, failed ${first.failed}`);
      assert.match(
        messagesStarting(first.messages, "SIP/2.0 503")[0] ?? "",
        /^X-Mamori-Reason: mamori-unavailable/m,
      );
      assert.ok(hung.connections() >= 1, "Kamailio did ask");
      const { elapsed } = first;
      assert.ok(
        elapsed >= 900 && elapsed < 6000,
        `refused after the 1 s time-out, not later (${elapsed} ms)`,
      );

      // Within MAMORI_BREAKER_S the next call does not wait for Mamori again.
      const asked = hung.connections();
      const second = await call("+14155550101", "breaker");
      assert.equal(second.successful, 1);
      assert.match(
        messagesStarting(second.messages, "SIP/2.0 503")[0] ?? "",
        /^X-Mamori-Reason: mamori-unavailable/m,
      );
      assert.ok(second.elapsed < 900, `refused at once while Mamori is down (${second.elapsed} ms)`);
      assert.equal(hung.connections(), asked, "Mamori was not asked again");

      const trunkResult = await stopUas(trunk);
      assert.equal(
        messagesStarting(trunkResult.messages, "INVITE ").length,
        0,
        "no INVITE reached the trunk",
      );
    } finally {
      await kamailio.process.stop();
    }
  });
});
