/**
 * Compares keys in UTF-8 byte order, the order etcd sorts ranges in. UTF-8 byte order is
 * Unicode code point order; JavaScript's `<` compares UTF-16 code units, which disagrees
 * only where a surrogate pair (U+10000 and above) meets a code unit in U+E000–U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

// Surrogates (0xD800–0xDFFF) stand for code points above 0xFFFF, so they must rank after
// 0xE000–0xFFFF: shift that block down below the surrogates.
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
