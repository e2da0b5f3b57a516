/**
 * Emergency and other short service numbers that no cap, block or detector may ever refuse.
 * Source: the national emergency numbers as published by each country's regulator (Japan: 110 police,
 * 118 coast guard, 119 fire and ambulance; NANP 911; the EU-wide 112 and the GSM-standard 112/911
 * that handsets accept everywhere). A deployment adds its own through config.
 */
const byCountry: Readonly<Record<string, readonly string[]>> = {
  JP: ["110", "118", "119"],
  US: ["911", "933"],
  CA: ["911"],
  GB: ["999"],
  AU: ["000"],
  NZ: ["111"],
  KR: ["112", "119"],
  CN: ["110", "119", "120", "122"],
};

const everywhere = ["112", "911"];

export function emergencyNumbersFor(country: string, extra: readonly string[] = []): ReadonlySet<string> {
  return new Set([...everywhere, ...(byCountry[country] ?? []), ...extra]);
}
