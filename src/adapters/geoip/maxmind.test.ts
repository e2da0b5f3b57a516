import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildMmdb } from "../../../test/support/mmdb.js";
import { openGeoip } from "./maxmind.js";

test("countries come from a MaxMind-format database; unknown addresses give undefined", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mamori-geoip-"));
  const file = join(dir, "country.mmdb");
  writeFileSync(
    file,
    buildMmdb([
      { cidr: "192.0.2.0/24", country: "JP" },
      { cidr: "198.51.100.0/24", country: "SL" },
      { cidr: "203.0.113.128/25", country: "LT" },
    ]),
  );
  const country = await openGeoip(file);
  assert.equal(country("192.0.2.77"), "JP");
  assert.equal(country("198.51.100.1"), "SL");
  assert.equal(country("203.0.113.200"), "LT");
  assert.equal(country("203.0.113.5"), undefined);
  assert.equal(country("not an address"), undefined);
});

test("a file that is not a MaxMind database is refused with a message naming the setting", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "mamori-geoip-")), "bad.mmdb");
  writeFileSync(file, "not a database");
  await assert.rejects(openGeoip(file), /pbxGuard\.geoipDatabase: cannot open/);
});
