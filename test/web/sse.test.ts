import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type SseMessage, SseParser } from "../../web/src/sse.js";

// The console reads GET /v1/events with fetch; these are the stream's framing rules it depends on.

test("events are split on blank lines, with their names, ids and multi-line data", () => {
  const p = new SseParser();
  const got = p.push(
    'id: 1\nevent: hello\ndata: {"at":"x"}\n\n: a comment\nid: 2\nevent: alert\ndata: line one\ndata: line two\n\n',
  );
  assert.deepEqual(got, [
    { event: "hello", data: '{"at":"x"}', id: "1" },
    { event: "alert", data: "line one\nline two", id: "2" },
  ]);
});

test("an event without a name is a message; a field without a colon has an empty value; CRLF works", () => {
  const p = new SseParser();
  assert.deepEqual(p.push("data: a\r\n\r\ndata\r\n\r\n"), [
    { event: "message", data: "a", id: undefined },
    { event: "message", data: "", id: undefined },
  ]);
});

test("an event cut across chunks anywhere, even inside CRLF, is the same event (property)", () => {
  const events = fc.array(
    fc.record({
      event: fc.constantFrom("alert", "stats", "block"),
      data: fc.string({ unit: fc.constantFrom("a", "{", "}", '"', " ", "ー", "ß", ":") }),
    }),
    { minLength: 1, maxLength: 5 },
  );
  fc.assert(
    fc.property(events, fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (evs, cuts, crlf) => {
      const nl = crlf ? "\r\n" : "\n";
      const text = evs.map((e) => `event: ${e.event}${nl}data: ${e.data}${nl}${nl}`).join("");
      const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
      const p = new SseParser();
      const got: SseMessage[] = [];
      let from = 0;
      for (const c of [...points, text.length]) {
        got.push(...p.push(text.slice(from, c)));
        from = c;
      }
      assert.deepEqual(
        got.map((m) => ({ event: m.event, data: m.data })),
        evs.map((e) => ({ event: e.event, data: e.data })),
      );
    }),
  );
});
