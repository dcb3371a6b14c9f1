/**
 * IP addresses, ranges and CIDR blocks for the journeys' `ip` rule field (issue 10), and the
 * sorted, merged interval sets the compiled policy searches by bisection.
 *
 * Text forms accepted (each strictly; anything else is malformed):
 * - IPv4 dotted decimal, four parts 0..255 without leading zeros (`010.0.0.1` is refused: some
 *   parsers read it as octal, so its meaning is ambiguous);
 * - IPv6 per RFC 4291 §2.2: eight groups of 1..4 hex digits, one `::` at most, an embedded
 *   dotted IPv4 tail; no zone id (`%eth0`), no brackets, no port;
 * - an IPv4-mapped IPv6 address (`::ffff:a.b.c.d` or `::ffff:0a00:0001`, RFC 4291 §2.5.5.2)
 *   is that IPv4 address: a dual-stack socket reports IPv4 clients this way;
 * - a range `a-b`: both ends of one family, a <= b, inclusive;
 * - CIDR `a/n`: n in 0..32 (IPv4) or 0..128 (IPv6). Host bits set below the prefix are cleared
 *   (`10.1.2.3/8` is `10.0.0.0/8`), as routers and firewalls read it. An IPv4-mapped address
 *   with a prefix is refused unless the prefix is >= 96 (then it is IPv4 /n-96).
 *
 * IPv4 values are numbers (0..2^32-1); IPv6 values are bigints (0..2^128-1). The families
 * never meet: an IPv4 client (mapped or not) lies in no IPv6 block, so `::/0` is "every IPv6
 * address" and `0.0.0.0/0` "every IPv4 address".
 */

export type Family = 4 | 6;
export interface Address {
  family: Family;
  v4: number;
  v6: bigint;
}
export interface Interval {
  family: Family;
  lo: number | bigint;
  hi: number | bigint;
}

const V6_MAX = (1n << 128n) - 1n;

/**
 * Parses dotted-decimal IPv4 in s[start, end) into 0..2^32-1, or -1. Scans character codes:
 * compiling a policy parses thousands of these, and splitting strings would allocate for each.
 */
export function parseV4(s: string, start = 0, end = s.length): number {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // a leading zero: octal to some parsers
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + part;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** The eight 16-bit groups of the last IPv6 parsed (parsing is synchronous, so one buffer serves). */
const G = new Uint16Array(8);

/** Parses IPv6 text (RFC 4291 §2.2) into G; false when malformed. */
function parseV6Groups(s: string): boolean {
  const n = s.length;
  if (n < 2 || n > 45) return false;
  let count = 0;
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    if (count === 8) return false;
    let j = i;
    let val = 0;
    for (; j < n; j++) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      val = val * 16 + h;
    }
    if (j < n && s.charCodeAt(j) === 46) {
      // An embedded IPv4 tail (RFC 4291 §2.2 form 3) takes the last two groups.
      if (count > 6) return false;
      const v4 = parseV4(s, i, n);
      if (v4 < 0) return false;
      G[count++] = Math.floor(v4 / 65536);
      G[count++] = v4 % 65536;
      i = n;
      break;
    }
    if (j === i || j - i > 4) return false;
    G[count++] = val;
    if (j === n) break;
    if (s.charCodeAt(j) !== 58) return false;
    j++;
    if (j < n && s.charCodeAt(j) === 58) {
      if (gap >= 0) return false;
      gap = count;
      j++;
    } else if (j === n) {
      return false;
    }
    i = j;
  }
  if (gap < 0) return count === 8;
  // `::` stands for at least one zero group (RFC 5952 §4.2.2 says writers use it for 2+, but RFC 4291 readers accept 1).
  if (count > 7) return false;
  const tail = count - gap;
  for (let k = 0; k < tail; k++) G[7 - k] = G[count - 1 - k]!;
  for (let k = gap; k < 8 - tail; k++) G[k] = 0;
  return true;
}

const groupsValue = (): bigint =>
  (BigInt(G[0]! * 65536 + G[1]!) << 96n) | (BigInt(G[2]! * 65536 + G[3]!) << 64n) | (BigInt(G[4]! * 65536 + G[5]!) << 32n) | BigInt(G[6]! * 65536 + G[7]!);

/** Parses IPv6 text (RFC 4291 §2.2) into a 128-bit bigint, or null. */
export function parseV6(s: string): bigint | null {
  return parseV6Groups(s) ? groupsValue() : null;
}

/** An address of either family, IPv4-mapped IPv6 folded to IPv4; null when malformed. */
export function parseAddress(raw: string): Address | null {
  const s = raw.trim();
  if (s.includes(":")) {
    if (!parseV6Groups(s)) return null;
    if (G[0] === 0 && G[1] === 0 && G[2] === 0 && G[3] === 0 && G[4] === 0 && G[5] === 0xffff) return { family: 4, v4: G[6]! * 65536 + G[7]!, v6: 0n };
    return { family: 6, v4: 0, v6: groupsValue() };
  }
  const v4 = parseV4(s);
  return v4 < 0 ? null : { family: 4, v4, v6: 0n };
}

/**
 * One written IP value (address, `a-b` range or CIDR) as an inclusive interval, or a reason it
 * is malformed (a string: the caller names the field).
 */
export function parseIpValue(raw: string): Interval | string {
  const s = raw.trim();
  if (s === "") return "is empty";
  const dash = s.indexOf("-");
  if (dash >= 0) {
    const aText = s.slice(0, dash).trim();
    const bText = s.slice(dash + 1).trim();
    const a = parseAddress(aText);
    const b = parseAddress(bText);
    if (!a) return `range "${s}": "${aText}" is not an IPv4 or IPv6 address`;
    if (!b) return `range "${s}": "${bText}" is not an IPv4 or IPv6 address`;
    if (a.family !== b.family) return `"${s}" mixes IPv4 and IPv6`;
    const lo = a.family === 4 ? a.v4 : a.v6;
    const hi = b.family === 4 ? b.v4 : b.v6;
    if (lo > hi) return `"${s}" starts after it ends`;
    return { family: a.family, lo, hi };
  }
  const slash = s.indexOf("/");
  if (slash >= 0) {
    const addrText = s.slice(0, slash).trim();
    const lenText = s.slice(slash + 1).trim();
    if (!/^[0-9]{1,3}$/.test(lenText)) return `"${s}" has no valid prefix length`;
    let len = Number(lenText);
    const isV6Text = addrText.includes(":");
    const a = parseAddress(addrText);
    if (!a) return `"${s}" is not an IPv4 or IPv6 CIDR block`;
    if (isV6Text && a.family === 4) {
      // An IPv4-mapped block: only meaningful inside ::ffff:0:0/96.
      if (len < 96 || len > 128) return `"${s}" is an IPv4-mapped block with a prefix outside 96..128`;
      len -= 96;
    }
    if (a.family === 4) {
      if (len > 32) return `"${s}" has a prefix longer than 32`;
      const size = 2 ** (32 - len);
      const lo = a.v4 - (a.v4 % size);
      return { family: 4, lo, hi: lo + size - 1 };
    }
    if (len > 128) return `"${s}" has a prefix longer than 128`;
    const hostMask = (1n << BigInt(128 - len)) - 1n;
    const lo = a.v6 & ~hostMask & V6_MAX;
    return { family: 6, lo, hi: lo | hostMask };
  }
  const a = parseAddress(s);
  if (!a) return `"${s}" is not an IPv4 or IPv6 address, range or CIDR block`;
  const v = a.family === 4 ? a.v4 : a.v6;
  return { family: a.family, lo: v, hi: v };
}

/**
 * Sorted, merged, disjoint intervals of one family: `lo[i] <= hi[i] < lo[i+1] - 1`. Membership
 * is one binary search (O(log n), no allocation).
 */
export interface IntervalSet<T extends number | bigint> {
  lo: T[];
  hi: T[];
}

function merge<T extends number | bigint>(items: { lo: T; hi: T }[], one: T): IntervalSet<T> {
  items.sort((x, y) => (x.lo < y.lo ? -1 : x.lo > y.lo ? 1 : 0));
  const lo: T[] = [];
  const hi: T[] = [];
  for (const it of items) {
    const last = hi.length - 1;
    // Overlapping or adjacent (last.hi + 1 >= it.lo): extend the last interval.
    if (last >= 0 && (hi[last]! as number) + (one as number) >= (it.lo as number)) {
      if (it.hi > hi[last]!) hi[last] = it.hi;
    } else {
      lo.push(it.lo);
      hi.push(it.hi);
    }
  }
  return { lo, hi };
}

/** Both families' interval sets of a list of parsed intervals. */
export function intervalSets(items: readonly Interval[]): { v4: IntervalSet<number>; v6: IntervalSet<bigint> } {
  const v4: { lo: number; hi: number }[] = [];
  const v6: { lo: bigint; hi: bigint }[] = [];
  for (const it of items) {
    if (it.family === 4) v4.push({ lo: it.lo as number, hi: it.hi as number });
    else v6.push({ lo: it.lo as bigint, hi: it.hi as bigint });
  }
  return { v4: merge(v4, 1), v6: merge(v6, 1n) };
}

/** Whether `v` lies in one of the set's intervals (binary search for the last lo <= v). */
export function inIntervals<T extends number | bigint>(set: IntervalSet<T>, v: T): boolean {
  const { lo, hi } = set;
  let a = 0;
  let b = lo.length - 1;
  while (a <= b) {
    const m = (a + b) >> 1;
    if (lo[m]! <= v) {
      if (v <= hi[m]!) return true;
      a = m + 1;
    } else {
      b = m - 1;
    }
  }
  return false;
}
