import { createHash } from "node:crypto";
import { err, ok, type Result } from "../core/result.js";
import type { TokenError, TokenSigner } from "./signed-token.js";

/**
 * The challenge unknown clients get under attack: a signed nonce (bound to the client's network, valid
 * for the length of a pass) and a small proof of work. The page's script finds a counter such that
 * SHA-256(nonce "~" counter) starts with `bits` zero bits, stores `nonce~counter` in a cookie and
 * reloads; API clients may send the same value in a header. A flood script that neither runs scripts
 * nor keeps cookies never gets past it, and one that does pays 2^bits hashes per network and pass.
 *
 * Verification costs one HMAC and one hash and keeps no state: the pass is the solved nonce itself.
 */
export type PassError = TokenError | "unsolved";
export type Pass = { readonly id: string; readonly expiresAt: number };

const MAX_COUNTER = 1e12;

export function issueChallenge(signer: TokenSigner, id: string, binding: string, expiresAt: number): string {
  return signer.sign("n", id, binding, expiresAt);
}

/** Checks `nonce~counter`: a nonce this gateway signed for this binding, unexpired, and solved. */
export function verifyPass(
  signer: TokenSigner,
  value: string,
  binding: string,
  bits: number,
  at: number,
): Result<Pass, PassError> {
  const tilde = value.lastIndexOf("~");
  if (tilde === -1) return err("malformed");
  const counter = value.slice(tilde + 1);
  if (!/^\d{1,12}$/.test(counter)) return err("malformed");
  const nonce = value.slice(0, tilde);
  const claims = signer.verify(nonce, "n", binding, at);
  if (!claims.ok) return claims;
  if (!solves(nonce, counter, bits)) return err("unsolved");
  return ok({ id: claims.value.subject, expiresAt: claims.value.expiresAt });
}

export function solves(nonce: string, counter: string | number, bits: number): boolean {
  if (bits <= 0) return true;
  return leadingZeroBits(createHash("sha256").update(`${nonce}~${counter}`).digest()) >= bits;
}

function leadingZeroBits(b: Uint8Array): number {
  let n = 0;
  for (const byte of b) {
    if (byte === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(byte) - 24;
  }
  return n;
}

/** What a client does with the challenge: the first counter that solves it (for API clients and tests). */
export function solveChallenge(nonce: string, bits: number, maxTries = 2 ** 28): number | undefined {
  for (let i = 0; i < Math.min(maxTries, MAX_COUNTER); i++) if (solves(nonce, i, bits)) return i;
  return undefined;
}

// SHA-256 round constants (first 32 bits of the fractional parts of the cube roots of the first 64 primes).
const K =
  "428a2f98,71374491,b5c0fbcf,e9b5dba5,3956c25b,59f111f1,923f82a4,ab1c5ed5,d807aa98,12835b01,243185be,550c7dc3," +
  "72be5d74,80deb1fe,9bdc06a7,c19bf174,e49b69c1,efbe4786,0fc19dc6,240ca1cc,2de92c6f,4a7484aa,5cb0a9dc,76f988da," +
  "983e5152,a831c66d,b00327c8,bf597fc7,c6e00bf3,d5a79147,06ca6351,14292967,27b70a85,2e1b2138,4d2c6dfc,53380d13," +
  "650a7354,766a0abb,81c2c92e,92722c85,a2bfe8a1,a81a664b,c24b8b70,c76c51a3,d192e819,d6990624,f40e3585,106aa070," +
  "19a4c116,1e376c08,2748774c,34b0bcb5,391c0cb3,4ed8aa4a,5b9cca4f,682e6ff3,748f82ee,78a5636f,84c87814,8cc70208," +
  "90befffa,a4506ceb,bef9a3f7,c67178f2";

/**
 * The solver that runs in the page: plain ES5, SHA-256 over ASCII written out because
 * `crypto.subtle` exists only in secure contexts and the shield may sit behind a plain-HTTP hop. It
 * works in slices of 50 ms so the page stays responsive. `h` and `ok` are also run by the tests.
 */
export const PAGE_SOLVER = `var K="${K}".split(",").map(function(x){return parseInt(x,16)|0});
function h(s){var l=s.length,n=((l+72)>>6)<<4,w=[],W=[],i,j;for(i=0;i<n;i++)w[i]=0;
for(i=0;i<l;i++)w[i>>2]|=(s.charCodeAt(i)&255)<<(24-(i&3)*8);w[l>>2]|=128<<(24-(l&3)*8);w[n-1]=l*8;
var H=[0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19];
for(j=0;j<n;j+=16){var a=H[0],b=H[1],c=H[2],d=H[3],e=H[4],f=H[5],g=H[6],k=H[7];
for(i=0;i<64;i++){if(i<16)W[i]=w[j+i]|0;else{var x=W[i-15],y=W[i-2];
W[i]=(((x>>>7|x<<25)^(x>>>18|x<<14)^(x>>>3))+W[i-16]+((y>>>17|y<<15)^(y>>>19|y<<13)^(y>>>10))+W[i-7])|0}
var t1=(k+((e>>>6|e<<26)^(e>>>11|e<<21)^(e>>>25|e<<7))+((e&f)^(~e&g))+K[i]+W[i])|0;
var t2=(((a>>>2|a<<30)^(a>>>13|a<<19)^(a>>>22|a<<10))+((a&b)^(a&c)^(b&c)))|0;
k=g;g=f;f=e;e=(d+t1)|0;d=c;c=b;b=a;a=(t1+t2)|0}
H[0]=(H[0]+a)|0;H[1]=(H[1]+b)|0;H[2]=(H[2]+c)|0;H[3]=(H[3]+d)|0;H[4]=(H[4]+e)|0;H[5]=(H[5]+f)|0;H[6]=(H[6]+g)|0;H[7]=(H[7]+k)|0}
return H}
function ok(w,b){var i=0;while(b>=32){if(w[i]!==0)return false;b-=32;i++}return b===0||(w[i]>>>(32-b))===0}`;

export type ChallengePageOptions = {
  readonly nonce: string;
  readonly bits: number;
  readonly cookie: string;
  readonly maxAgeS: number;
  readonly secure: boolean;
  /** Reload the page when solved (GET); otherwise ask the user to send the form again. */
  readonly reload: boolean;
};

export function challengePage(o: ChallengePageOptions): string {
  // Nonces are base64url, dots and digits and cookie names are checked by the settings: nothing here
  // needs escaping, and JSON.stringify keeps it so if that ever changes.
  const attrs = `; path=/; max-age=${Math.floor(o.maxAgeS)}; samesite=lax${o.secure ? "; secure" : ""}`;
  const done = o.reload
    ? "location.reload()"
    : `document.getElementById("m").textContent="Thank you. Please send your request again."`;
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>One moment</title></head><body><p id="m">Checking your browser before the billing service; this takes a moment.</p>
<noscript>Please turn on JavaScript to continue.</noscript>
<script>(function(){${PAGE_SOLVER}
var N=${JSON.stringify(o.nonce)},B=${o.bits | 0},C=${JSON.stringify(o.cookie)},A=${JSON.stringify(attrs)},n=0;
function run(){var t=Date.now();while(Date.now()-t<50){if(ok(h(N+"~"+n),B)){document.cookie=C+"="+N+"~"+n+A;${done};return}n++}setTimeout(run,0)}
run()})();</script></body></html>`;
}
