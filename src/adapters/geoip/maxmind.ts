import { type CountryResponse, open, type Reader } from "maxmind";

/**
 * Country of an address from a MaxMind-format database (GeoLite2-Country, GeoIP2-Country or City) that
 * the operator supplies; Mamori ships none (their licence does not allow it). Used by the PBX guard's
 * new-country rule: a SIP account that suddenly registers from another country.
 */
export type GeoipLookup = (ip: string) => string | undefined;

export async function openGeoip(path: string): Promise<GeoipLookup> {
  let reader: Reader<CountryResponse>;
  try {
    reader = await open<CountryResponse>(path, { cache: { max: 10_000 } });
  } catch (e) {
    throw new Error(
      `pbxGuard.geoipDatabase: cannot open ${path} as a MaxMind database: ${(e as Error).message}`,
    );
  }
  return (ip) => {
    try {
      const r = reader.get(ip);
      return r?.country?.iso_code ?? r?.registered_country?.iso_code;
    } catch {
      return undefined;
    }
  };
}
