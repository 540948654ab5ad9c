/**
 * Exact decimal arithmetic on the strings PostgreSQL returns for numeric and bigint: money is
 * never a float. A value is held as an integer count of 10^-scale units.
 */
export interface ExactDecimal {
  units: bigint;
  scale: number;
}

// An exponent is accepted because String(number) prints small tolerances that way ("1e-7").
const decimalPattern = /^([+-])?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

export function parseDecimal(text: string): ExactDecimal {
  const match = decimalPattern.exec(text.trim());
  if (!match) throw new Error(`not an exact decimal: "${text}"`);
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let units = BigInt(whole! + fraction);
  let scale = fraction.length - Number(exponent);
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { units: sign === '-' ? -units : units, scale };
}

function rescale(value: ExactDecimal, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

/** Both values at their common (largest) scale. */
function aligned(a: ExactDecimal, b: ExactDecimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [rescale(a, scale), rescale(b, scale), scale];
}

export function compareDecimal(a: string, b: string): number {
  const [x, y] = aligned(parseDecimal(a), parseDecimal(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

export function subtractDecimal(a: string, b: string): string {
  const [x, y, scale] = aligned(parseDecimal(a), parseDecimal(b));
  return formatUnits(x - y, scale);
}

const abs = (n: bigint) => (n < 0n ? -n : n);

/**
 * |current - baseline| <= tolerance * |baseline|, computed exactly (the tolerance, e.g. "0.01", is
 * itself read as a decimal). A zero baseline is only matched by a zero current value.
 */
export function withinRelativeTolerance(current: string, baseline: string, tolerance: string | number): boolean {
  const [x, y] = aligned(parseDecimal(current), parseDecimal(baseline));
  const t = parseDecimal(String(tolerance));
  if (t.units < 0n) throw new Error(`tolerance must not be negative: ${tolerance}`);
  return abs(x - y) * 10n ** BigInt(t.scale) <= t.units * abs(y);
}

function formatUnits(units: bigint, scale: number): string {
  const digits = abs(units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? '.' + digits.slice(digits.length - scale) : '';
  return (units < 0n ? '-' : '') + whole + fraction;
}

function groupThousands(whole: string): string {
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "15234" -> "15,234". */
export function formatCount(text: string): string {
  const value = parseDecimal(text);
  const plain = formatUnits(value.units, value.scale);
  const negative = plain.startsWith('-');
  const [whole, fraction] = (negative ? plain.slice(1) : plain).split('.');
  return (negative ? '-' : '') + groupThousands(whole!) + (fraction ? '.' + fraction : '');
}

/** "12456789.45" -> "$12,456,789.45"; "-5" -> "-$5.00". At least two decimals, never rounded. */
export function formatMoney(text: string): string {
  const value = parseDecimal(text);
  const scale = Math.max(2, value.scale);
  const plain = formatUnits(rescale(value, scale), scale);
  const negative = plain.startsWith('-');
  const [whole, fraction] = (negative ? plain.slice(1) : plain).split('.');
  return `${negative ? '-' : ''}$${groupThousands(whole!)}.${fraction}`;
}

export function addDecimal(a: string, b: string): string {
  const [x, y, scale] = aligned(parseDecimal(a), parseDecimal(b));
  return formatUnits(x + y, scale);
}

export function multiplyDecimal(a: string, b: string | number): string {
  const x = parseDecimal(a);
  const y = parseDecimal(String(b));
  return formatUnits(x.units * y.units, x.scale + y.scale);
}

/** [baseline - tolerance*|baseline|, baseline + tolerance*|baseline|], exact. */
export function toleranceBounds(baseline: string, tolerance: number): { min: string; max: string } {
  const delta = multiplyDecimal(baseline.replace(/^-/, ''), tolerance);
  return { min: subtractDecimal(baseline, delta), max: addDecimal(baseline, delta) };
}

/** Rounds toward +infinity (up) or -infinity (down) to a whole number: count bounds are whole. */
export function roundDecimal(text: string, direction: 'up' | 'down'): string {
  const { units, scale } = parseDecimal(text);
  const unit = 10n ** BigInt(scale);
  let whole = units / unit; // truncates toward zero
  if (whole * unit !== units && (units > 0n) === (direction === 'up')) whole += direction === 'up' ? 1n : -1n;
  return whole.toString();
}
