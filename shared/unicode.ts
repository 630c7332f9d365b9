/**
 * Well-formed UTF-16 without `String.prototype.isWellFormed` (ES2024, newer than the runtimes
 * shared/ targets): a lone surrogate is a high one not followed by a low one, or a low one not
 * preceded by a high one. The regexes work on code units (no `u` flag) on purpose.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");

export const isWellFormedText = (text: string): boolean => !LONE_SURROGATE.test(text);

/** Each lone surrogate replaced by U+FFFD, as `toWellFormed` would. */
export const toWellFormedText = (text: string): string => text.replace(LONE_SURROGATES, "\uFFFD");
