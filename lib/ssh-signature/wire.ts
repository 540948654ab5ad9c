/**
 * The SSH wire encoding (RFC 4251 §5) that public keys, private key files and SSHSIG objects are built
 * from: uint32 big-endian, `string` = uint32 length + bytes, `mpint` = minimal two's-complement big-endian.
 */

export class SshWireError extends Error {
  override readonly name = 'SshWireError';
}

export class SshReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array, private readonly what: string) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  raw(length: number): Buffer {
    if (length > this.remaining) throw new SshWireError(`${this.what} is truncated (wanted ${length} bytes, ${this.remaining} left)`);
    const out = Buffer.from(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return out;
  }

  uint32(): number {
    return this.raw(4).readUInt32BE(0);
  }

  string(): Buffer {
    return this.raw(this.uint32());
  }

  /** A `string` that must be UTF-8 text (algorithm names, namespaces). */
  text(): string {
    const bytes = this.string();
    const text = bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(bytes)) throw new SshWireError(`${this.what} holds a name that is not valid UTF-8`);
    return text;
  }

  /**
   * An mpint as unsigned big-endian magnitude bytes. Negative values are refused (no key or signature
   * field is negative); leading zero bytes are dropped, as OpenSSH does when it reads one.
   */
  mpint(): Buffer {
    const bytes = this.string();
    if (bytes.length > 0 && (bytes[0] as number) & 0x80) throw new SshWireError(`${this.what} holds a negative integer`);
    let start = 0;
    while (start < bytes.length && bytes[start] === 0) start++;
    return bytes.subarray(start);
  }

  end(): void {
    if (this.remaining !== 0) throw new SshWireError(`${this.what} has ${this.remaining} unexpected trailing bytes`);
  }
}

export class SshWriter {
  private readonly parts: Buffer[] = [];

  raw(bytes: Uint8Array): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }

  uint32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value, 0);
    return this.raw(b);
  }

  string(value: Uint8Array | string): this {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    return this.uint32(bytes.length).raw(bytes);
  }

  /** Writes unsigned big-endian magnitude bytes as an mpint. */
  mpint(magnitude: Uint8Array): this {
    let start = 0;
    while (start < magnitude.length && magnitude[start] === 0) start++;
    const trimmed = Buffer.from(magnitude.subarray(start));
    const needsPad = trimmed.length > 0 && ((trimmed[0] as number) & 0x80) !== 0;
    return this.string(needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Left-pads a big-endian magnitude to a fixed length (P-1363 signature halves, RSA signatures). */
export function padStart(magnitude: Uint8Array, length: number): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  if (trimmed.length > length) throw new SshWireError(`an integer of ${trimmed.length} bytes does not fit in ${length}`);
  return Buffer.concat([Buffer.alloc(length - trimmed.length), trimmed]);
}
