// Go's fmt verbs for floats, as calicoctl prints its numbers: `%.5g` for counts (so IPv6
// totals read 1.2089e+24) and `%.f` for percentages. JavaScript's toPrecision/toFixed
// round ties away from zero and never switch to exponents the way %g does, so the
// digits are produced here the way Go's strconv does: from the exact decimal value of
// the double, rounding exact ties to even, trailing zeros dropped.

/** A non-negative decimal 0.d₁d₂…dₙ × 10^dp, with no trailing zeros in `digits` ('' is zero). */
interface Decimal {
  readonly digits: string;
  readonly dp: number;
}

/** The exact value of a finite, non-negative double as a decimal (every double has one). */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biasedExponent = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exponent: number;
  if (biasedExponent === 0) {
    exponent = -1074; // subnormal
  } else {
    mantissa |= 1n << 52n;
    exponent = biasedExponent - 1075;
  }
  // value = mantissa × 2^exponent; for a negative exponent that is mantissa × 5^-e / 10^-e.
  const n = exponent >= 0 ? mantissa << BigInt(exponent) : mantissa * 5n ** BigInt(-exponent);
  const text = n.toString();
  const dp = exponent >= 0 ? text.length : text.length + exponent;
  return trimZeros({ digits: text, dp });
}

function trimZeros(d: Decimal): Decimal {
  const digits = d.digits.replace(/0+$/, '');
  return digits === '' ? { digits: '', dp: 0 } : { digits, dp: d.dp };
}

/** Go's decimal.shouldRoundUp: an exact half rounds to even, anything above rounds up. */
function shouldRoundUp(d: Decimal, nd: number): boolean {
  const digit = d.digits[nd]!;
  if (digit === '5' && nd + 1 === d.digits.length) {
    return nd > 0 && Number(d.digits[nd - 1]) % 2 === 1;
  }
  return digit >= '5';
}

/** Keeps `nd` significant digits (Go's decimal.Round); nothing happens outside 0 ≤ nd < length. */
function round(d: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= d.digits.length) return d;
  if (!shouldRoundUp(d, nd)) return trimZeros({ digits: d.digits.slice(0, nd), dp: d.dp });
  let i = nd - 1;
  while (i >= 0 && d.digits[i] === '9') i--;
  if (i < 0) return { digits: '1', dp: d.dp + 1 }; // 999 → 1000
  return { digits: d.digits.slice(0, i) + String(Number(d.digits[i]) + 1), dp: d.dp };
}

function digitAt(d: Decimal, i: number): string {
  return i >= 0 && i < d.digits.length ? d.digits[i]! : '0';
}

/** %e with `prec` digits after the point; the exponent has at least two digits. */
function formatExponent(d: Decimal, prec: number): string {
  let out = d.digits === '' ? '0' : d.digits[0]!;
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) out += digitAt(d, i);
  }
  const exp = d.digits === '' ? 0 : d.dp - 1;
  const magnitude = String(Math.abs(exp)).padStart(2, '0');
  return `${out}e${exp < 0 ? '-' : '+'}${magnitude}`;
}

/** %f with `prec` digits after the point. */
function formatFixedDigits(d: Decimal, prec: number): string {
  let out = '';
  if (d.dp > 0) {
    for (let i = 0; i < d.dp; i++) out += digitAt(d, i);
  } else {
    out = '0';
  }
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) out += digitAt(d, d.dp + i - 1);
  }
  return out;
}

function special(x: number): string | undefined {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return undefined;
}

/** Go's `%.<prec>g` (strconv.FormatFloat(x, 'g', prec, 64)). */
export function formatGoG(x: number, prec = 5): string {
  const s = special(x);
  if (s !== undefined) return s;
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const p = prec === 0 ? 1 : prec;
  const d = round(exactDecimal(Math.abs(x)), p);
  if (d.digits === '') return `${sign}0`;
  const nd = d.digits.length;
  let eprec = p;
  if (eprec > nd && nd >= d.dp) eprec = nd;
  const exp = d.dp - 1;
  if (exp < -4 || exp >= eprec) return sign + formatExponent(d, Math.min(p, nd) - 1);
  const digits = p > d.dp ? nd : p;
  return sign + formatFixedDigits(d, Math.max(digits - d.dp, 0));
}

/** Go's `%.<prec>f` (strconv.FormatFloat(x, 'f', prec, 64)). */
export function formatGoFixed(x: number, prec = 0): string {
  const s = special(x);
  if (s !== undefined) return s;
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const exact = exactDecimal(Math.abs(x));
  return sign + formatFixedDigits(round(exact, exact.dp + prec), prec);
}

/**
 * A count as calicoctl's `ipam show` prints it: `%.5g` of the count converted to a
 * float64, as Go's float64(n) does (round to nearest), so huge IPv6 counts match too.
 */
export function formatCount(n: bigint): string {
  return formatGoG(Number(n));
}

/** `%.5g (%.f%%)`: a count and its share of `total`, as in `5 (8%)`. */
export function formatCountWithPercent(n: bigint, total: bigint): string {
  const share = (100 * Number(n)) / Number(total);
  return `${formatCount(n)} (${formatGoFixed(share)}%)`;
}
