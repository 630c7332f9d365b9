import { expect, test } from "bun:test";
import { isWellFormedText, toWellFormedText } from "./unicode.ts";

test("lone surrogates are found and replaced, pairs are kept", () => {
  for (const text of ["a fox", "🦊 fox", "\ud83e\udd8a", ""]) {
    expect(isWellFormedText(text)).toBe(true);
    expect(toWellFormedText(text)).toBe(text);
  }
  for (const [text, fixed] of [
    ["\ud800 fox", "\ufffd fox"],
    ["fox \udc00", "fox \ufffd"],
    ["\udc00\ud800", "\ufffd\ufffd"],
    ["🦊".slice(0, 1), "\ufffd"],
    ["a\ud83e\udd8a\ud83e", "a🦊\ufffd"],
  ]) {
    expect(isWellFormedText(text as string)).toBe(false);
    expect(toWellFormedText(text as string)).toBe(fixed as string);
  }
});
