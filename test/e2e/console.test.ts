import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { runSimulate } from "../../src/cli/simulate.js";
import { netflowV5 } from "../support/flow-packets.js";
import { artifactDir, client, type MamoriProcess, startMamori, tempDir } from "../support/mamori-process.js";
import { freePort } from "../support/peers.js";

/**
 * The operator console in Debian's Chromium, driven by playwright-core, against the real `mamori serve`
 * on loopback while a toll-fraud attack runs through the switch API: sign in, watch the attack arrive
 * on the overview without reloading, open its alert and evidence, lift the block as an operator, be
 * refused as a viewer, replay a CDR file. Screenshots of every screen go to test-artifacts/console/.
 */
const CHROMIUM = "/usr/bin/chromium";
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const haveChromium = existsSync(CHROMIUM);
const allDay = { days: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"], start: "00:00", end: "24:00" };
const ACCOUNT = "okinawa-pbx";

describe("operator console", {
  skip: haveChromium ? false : "Chromium is not installed (scripts/install-peers.sh)",
}, () => {
  let m: MamoriProcess;
  let browser: Browser;
  const keys = { switch: "", operator: "", viewer: "" };
  const shots = artifactDir("console");
  let replayDir = "";
  let netflowPort = 0;
  let operator: { context: BrowserContext; page: Page };

  /**
   * A screenshot for the record, and an accessibility check of the screen as it is (axe-core, WCAG 2
   * A and AA rules: labels, contrast, roles, landmarks): no serious or critical finding.
   */
  const pageErrors = new WeakMap<Page, string[]>();
  const shot = async (page: Page, name: string) => {
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    assert.deepEqual(pageErrors.get(page) ?? [], [], `errors in the browser on ${name}`);
    // Evaluated by the test driver, not added as a script: the console's CSP refuses inline scripts.
    if ((await page.evaluate("typeof window.axe")) !== "object") await page.evaluate(AXE_SOURCE);
    const result = (await page.evaluate(
      "window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa'] })",
    )) as { violations: { id: string; impact: string; help: string; nodes: { target: unknown }[] }[] };
    writeFileSync(join(shots, `${name}.axe.json`), JSON.stringify(result.violations, null, 2));
    const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(
      serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")})`),
      [],
      `accessibility of ${name}`,
    );
  };

  const signIn = async (key: string, opts: { locale?: string; width?: number; height?: number } = {}) => {
    const context = await browser.newContext({
      locale: opts.locale ?? "en-GB",
      viewport: { width: opts.width ?? 1280, height: opts.height ?? 860 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // Script errors and refused resources (a CSP violation, a missing asset) fail the screen's check;
    // the API's refusals (4xx) are answers the console shows, and the tests look at those themselves.
    const errors: string[] = [];
    pageErrors.set(page, errors);
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (msg) => {
      if (msg.type() === "error" && !/status of 4\d\d/.test(msg.text())) errors.push(msg.text());
    });
    page.on("response", (r) => {
      const path = new URL(r.url()).pathname;
      if (r.status() >= 400 && !path.startsWith("/v1/")) errors.push(`${r.status()} ${path}`);
    });
    await page.goto(`${m.url}/console/`);
    await page.getByLabel(opts.locale?.startsWith("ja") ? "API キー" : "API key").fill(key);
    await page.keyboard.press("Enter");
    await page.locator("header nav").waitFor();
    return { context, page };
  };

  before(async () => {
    replayDir = tempDir("mamori-console-replay-");
    await runSimulate({
      accounts: 12,
      days: 3,
      start: "2026-04-20",
      seed: 5,
      format: "asterisk-csv",
      out: join(replayDir, "Master.csv"),
      labels: join(tempDir("mamori-console-labels-"), "labels.jsonl"),
      accountsOut: join(tempDir("mamori-console-accounts-"), "accounts.yaml"),
      timeZone: "Asia/Tokyo",
    });
    netflowPort = await freePort();
    // JSON is YAML: the configuration file an operator would write.
    m = await startMamori({
      config: JSON.stringify({
        server: { replayDir },
        flowGuard: {
          enabled: true,
          collector: { host: "127.0.0.1", netflowPort, ipfixPort: false, sflowPort: false },
          settings: {
            networks: ["192.0.2.0/24"],
            defaultGroup: { thresholds: { pps: 5000 }, learned: false, mitigation: { type: "blackhole" } },
            mitigation: { bgp: { nextHop4: "192.0.2.254" } },
          },
        },
      }),
    });
    const admin = client(m.url, m.adminKey);
    for (const role of ["switch", "operator", "viewer"] as const) {
      const r = await admin("POST", "/v1/keys", { name: `console ${role}`, role });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      keys[role] = r.json.secret;
    }
    const put = await admin("PUT", `/v1/accounts/${ACCOUNT}`, {
      name: "Okinawa office PBX",
      country: "JP",
      international: { mode: "all" },
      businessHours: allDay,
      holidays: { calendar: "none" },
      caps: { callsPerSecond: 100, spendPerDay: 20_000, concurrentCalls: 10 },
    });
    assert.equal(put.status, 201, JSON.stringify(put.json));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });

  after(async () => {
    await operator?.context.close();
    await browser?.close();
    await m?.stop();
  });

  test("an operator signs in and sees a +232 attack arrive on the overview within seconds", async () => {
    operator = await signIn(keys.operator);
    const { page } = operator;
    await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
    await page.getByText("Live", { exact: true }).waitFor();
    await page.getByText("Nothing in force").waitFor();
    await shot(page, "1-overview-quiet");

    // The attack: the hacked PBX dials Sierra Leone numbers one after another, as the switch asks.
    const sw = client(m.url, keys.switch);
    let denied = 0;
    for (let i = 0; i < 20 && denied < 2; i++) {
      const r = await sw("POST", "/v1/calls/authorize", {
        callId: `console-${i}`,
        account: ACCOUNT,
        to: `+2327${(6_100_000 + i * 7919).toString()}`,
      });
      assert.equal(r.status, 200);
      if (r.json.decision === "deny") denied++;
    }
    assert.equal(denied, 2, "the attack is stopped by the guard");

    // No reload: the incident and the live feed come over the event stream.
    const incidents = page.getByTestId("incidents");
    await incidents.getByText(`${ACCOUNT} · cost-velocity`).first().waitFor({ timeout: 10_000 });
    await page.getByTestId("feed").getByText(ACCOUNT).first().waitFor({ timeout: 10_000 });
    assert.equal(await page.getByText("Nothing in force").count(), 0);
    await shot(page, "2-overview-attack");
  });

  test("the alert opens to its evidence, the rule's note, the decision and the calls that fired it", async () => {
    const { page } = operator;
    await page
      .getByTestId("incidents")
      .getByRole("link", { name: `${ACCOUNT} · cost-velocity` })
      .first()
      .click();
    await page.getByRole("heading", { name: /Alert #\d+: cost-velocity/ }).waitFor();
    const evidence = page.getByTestId("evidence");
    assert.ok((await evidence.locator("tr").count()) >= 2, "the evidence has its figures");
    const calls = page.getByTestId("alert-calls");
    await calls.waitFor();
    assert.ok((await calls.getByText("+2327").count()) >= 3, "the +232 calls before the alert are listed");
    assert.ok(await page.getByText("block", { exact: true }).count(), "the decision taken is shown");
    await shot(page, "3-alert-evidence");
  });

  test("a viewer sees the block but cannot lift it; the service refuses the viewer too", async () => {
    const viewer = await signIn(keys.viewer);
    const { page } = viewer;
    await page.getByText("Your key is a viewer key").waitFor();
    await page.getByRole("link", { name: "Blocks & bans" }).click();
    const blocks = page.getByTestId("blocks");
    await blocks.getByText(ACCOUNT).waitFor();
    const lift = blocks.getByRole("button", { name: "Lift" });
    assert.equal(await lift.isDisabled(), true, "the lift button is disabled for a viewer");
    const blockId = (await client(m.url, keys.operator)("GET", `/v1/blocks?account=${ACCOUNT}&active=true`))
      .json.blocks[0].id as string;
    const status = await page.evaluate(
      async ([id, key]) =>
        (
          await fetch(`/v1/blocks/${id}`, {
            method: "DELETE",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify({ reason: "trying anyway" }),
          })
        ).status,
      [blockId, keys.viewer] as const,
    );
    assert.equal(status, 403);
    await shot(page, "4-viewer-blocks");
    await viewer.context.close();
  });

  test("the operator lifts the block with a reason; it is gone from the screen and in the audit trail", async () => {
    const { page } = operator;
    await page.getByRole("link", { name: "Blocks & bans" }).click();
    const blocks = page.getByTestId("blocks");
    await blocks.getByRole("button", { name: new RegExp(`^Lift: ${ACCOUNT}`) }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Reason").fill("customer confirmed the calls were theirs");
    await shot(page, "5-lift-dialog");
    await dialog.getByRole("button", { name: "Lift", exact: true }).click();
    await blocks.getByText("None").waitFor();
    await page.getByTestId("audit").getByText("block.lift").first().waitFor();
    const op = client(m.url, keys.operator);
    assert.equal((await op("GET", `/v1/blocks?account=${ACCOUNT}&active=true`)).json.blocks.length, 0);
    const audit = (await op("GET", "/v1/audit?limit=20")).json.entries as {
      action: string;
      detail: unknown;
    }[];
    const lifted = audit.find((e) => e.action === "block.lift");
    assert.match(JSON.stringify(lifted?.detail), /customer confirmed/);
    await shot(page, "6-after-lift");
  });

  test("the account page shows spend against caps, calls per country, its alerts and blocks", async () => {
    const { page } = operator;
    await page.getByRole("link", { name: "Accounts" }).click();
    await page.getByRole("link", { name: ACCOUNT }).click();
    await page.getByRole("heading", { name: `Account ${ACCOUNT}` }).waitFor();
    await page.getByText("Spend against caps").waitFor();
    await page.getByRole("meter").first().waitFor();
    await page.getByText("Calls per destination country").waitFor();
    await page
      .getByRole("link", { name: /cost-velocity/ })
      .first()
      .waitFor();
    await shot(page, "7-account");
  });

  test("an admin edits an account's policy; a malformed edit is refused with the service's reason", async () => {
    const admin = await signIn(m.adminKey ?? "");
    const { page } = admin;
    await page.goto(`${m.url}/console/#/accounts/${ACCOUNT}`);
    const editor = page.getByLabel("Edit policy (YAML-equivalent JSON)");
    await page.getByText("Spend against caps").waitFor();
    let text = await editor.inputValue();
    for (let i = 0; i < 50 && !text.includes("spendPerDay"); i++) {
      await sleep(100);
      text = await editor.inputValue();
    }
    const policy = JSON.parse(text) as { caps: Record<string, number> };
    policy.caps.spendPerDay = 30_000;
    await editor.fill(JSON.stringify(policy, null, 2));
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Policy saved").waitFor();
    const stored = await client(m.url, keys.operator)("GET", `/v1/accounts/${ACCOUNT}`);
    assert.equal(stored.json.policy.caps.spendPerDay, 30_000);
    await editor.fill(JSON.stringify({ ...policy, caps: { spendPerDay: -5 } }));
    await page.getByRole("button", { name: "Save" }).click();
    await page
      .getByRole("alert")
      .getByText(/spendPerDay/)
      .waitFor();
    await shot(page, "7-account-admin");
    assert.equal(
      (await client(m.url, keys.operator)("GET", `/v1/accounts/${ACCOUNT}`)).json.policy.caps.spendPerDay,
      30_000,
    );
    await admin.context.close();
  });

  test("a UDP flood seen in NetFlow appears as an attack, with the host's rate and its blackhole", async () => {
    const { page } = operator;
    await page.getByRole("link", { name: "Overview" }).click();
    // Flow records describe a flood against a documentation address; the datagrams go to loopback.
    const sock = createSocket("udp4");
    const incidents = page.getByTestId("incidents");
    try {
      const t0 = Date.now();
      for (let i = 0; i < 80 && Date.now() - t0 < 20_000; i++) {
        const records = Array.from({ length: 30 }, (_, k) => ({
          src: `198.51.100.${(k % 200) + 1}`,
          dst: "192.0.2.10",
          packets: 400,
          bytes: 400 * 468,
          first: 1000,
          last: 1000,
          srcPort: 123,
          dstPort: 40000 + k,
          protocol: 17,
        }));
        const pkt = netflowV5(
          { uptime: 1000, unixSecs: Math.floor(Date.now() / 1000), sequence: i * 30 },
          records,
        );
        await new Promise<void>((r) => sock.send(pkt, netflowPort, "127.0.0.1", () => r()));
        if ((await incidents.getByText("192.0.2.10").count()) > 0) break;
        await sleep(250);
      }
    } finally {
      sock.close();
    }
    await incidents.getByText("192.0.2.10").first().waitFor({ timeout: 10_000 });
    await page.getByRole("heading", { name: "Busiest protected hosts now" }).waitFor({ timeout: 10_000 });
    await shot(page, "8-overview-flood");
    await page.getByRole("link", { name: "Blocks & bans" }).click();
    await page.getByTestId("mitigations").getByText("blackhole").first().waitFor();
    await shot(page, "8-mitigations");
  });

  test("a replay of a CDR file on the server gives the report of mamori replay", async () => {
    const { page } = operator;
    await page.getByRole("link", { name: "Replay" }).click();
    await page.getByLabel("Or a file on the server").selectOption("Master.csv");
    await page.getByLabel("Time zone of the file").fill("Asia/Tokyo");
    await page.getByRole("button", { name: "Replay", exact: true }).click();
    const report = page.getByTestId("replay-report");
    await report.waitFor({ timeout: 60_000 });
    const rules = page.getByTestId("replay-rules");
    assert.ok((await rules.locator("tbody tr").count()) >= 1, "the replay raised alerts");
    await report.getByRole("link", { name: "Download the HTML report" }).waitFor();
    await shot(page, "9-replay");
  });

  test("an uploaded CDR file replays too", async () => {
    const { page } = operator;
    await page.getByLabel("CDR file").setInputFiles({
      name: "Master-upload.csv",
      mimeType: "text/csv",
      buffer: readFileSync(join(replayDir, "Master.csv")),
    });
    await page.getByRole("button", { name: "Replay", exact: true }).click();
    await page.getByRole("heading", { name: "Summary: Master-upload.csv" }).waitFor({ timeout: 60_000 });
  });

  test("in Japanese on a phone-sized screen, the console reads and works the same", async () => {
    const ja = await signIn(keys.operator, { locale: "ja-JP", width: 390, height: 844 });
    const { page } = ja;
    await page.getByRole("heading", { name: "概要", level: 1 }).waitFor();
    await page.getByText("現在の攻撃とインシデント").waitFor();
    assert.equal(await page.evaluate("document.documentElement.lang"), "ja");
    const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
    assert.ok(overflow <= 1, `no sideways scrolling on a phone (${overflow}px)`);
    await shot(page, "10-overview-ja-phone");
    // Keyboard: the first Tab reaches the skip button, Enter moves focus to the content.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate("document.activeElement?.textContent"), "本文へ移動");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate("document.activeElement?.id"), "main");
    await page.getByRole("button", { name: "言語" }).click();
    await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
    await ja.context.close();
  });
});
