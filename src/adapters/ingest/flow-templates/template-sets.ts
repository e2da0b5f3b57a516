/**
 * Learning and withdrawing templates, shared by the NetFlow v9 and IPFIX decoders (their template
 * records differ in layout, not in what happens once the fields are known).
 */
import { replayPending, type SetContext } from "./data-sets.js";
import { compileTemplate, type FieldList, sameBytes } from "./template.js";
import type { TemplateStore } from "./template-store.js";

/**
 * Installs (or refreshes) a template from the parsed fields; raw is the record's bytes, used to
 * recognise an unchanged refresh cheaply. Replays data sets held for it. Counts and returns false when
 * the template describes no usable record.
 */
export function learnTemplate(
  store: TemplateStore,
  ctx: SetContext,
  dialect: "v9" | "ipfix",
  id: number,
  options: boolean,
  fields: FieldList,
  b: Uint8Array,
  rawStart: number,
  rawEnd: number,
): boolean {
  const d = ctx.dom!;
  const st = ctx.stats!;
  const old = d.templates.get(id);
  let t = old;
  if (old !== undefined && old.options === options && sameBytes(old.raw, b, rawStart, rawEnd - rawStart)) {
    old.refreshedAt = ctx.receivedAt;
  } else {
    t = compileTemplate(id, options, dialect, fields, b.subarray(rawStart, rawEnd), ctx.receivedAt);
    if (t === undefined) {
      // A broken redefinition must not leave the old layout decoding new data.
      d.templates.delete(id);
      ctx.fail("badTemplate");
      return false;
    }
    d.templates.set(id, t);
  }
  st.templates++;
  if (d.pending.length > 0 && t !== undefined) replayPending(ctx, store, t);
  return true;
}

/** Withdraws one template. */
export function withdrawTemplate(ctx: SetContext, id: number): void {
  if (ctx.dom!.templates.delete(id)) ctx.stats!.withdrawals++;
}

/** Withdraws every template of one kind (IPFIX "all templates" / "all options templates"). */
export function withdrawAll(ctx: SetContext, options: boolean): void {
  const d = ctx.dom!;
  for (const [id, t] of d.templates) {
    if (t.options === options) {
      d.templates.delete(id);
      ctx.stats!.withdrawals++;
    }
  }
}

/** True when the rest of a set is zero bytes: padding, not a record. */
export function zeroTail(b: Uint8Array, p: number, end: number): boolean {
  for (let i = p; i < end; i++) if (b[i] !== 0) return false;
  return true;
}
