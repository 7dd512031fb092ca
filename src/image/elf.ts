// Just enough ELF reading to tell a static binary from one that needs a dynamic loader (PT_INTERP).
import { closeSync, openSync, readSync } from 'node:fs';
import { MinictrError } from '../base/errors.js';

const PT_INTERP = 3;
const MAX_HEADER_BYTES = 64 * 1024;

export interface ElfInfo {
  bits: 32 | 64;
  /** The requested program interpreter (dynamic loader), or undefined for a static binary. */
  interpreter: string | undefined;
}

/** Parse the ELF header and program headers from the start of a file's bytes. */
export function parseElf(bytes: Buffer, label = 'file'): ElfInfo {
  if (bytes.length < 52 || bytes.readUInt32BE(0) !== 0x7f454c46) {
    throw new MinictrError('E_NOT_ELF', `${label} is not an ELF executable`);
  }
  const bits = bytes[4] === 2 ? 64 : 32;
  const le = bytes[5] !== 2;
  const u16 = (o: number): number => (le ? bytes.readUInt16LE(o) : bytes.readUInt16BE(o));
  const u32 = (o: number): number => (le ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
  const word = (o: number): number =>
    bits === 64 ? Number(le ? bytes.readBigUInt64LE(o) : bytes.readBigUInt64BE(o)) : u32(o);

  const phoff = word(bits === 64 ? 0x20 : 0x1c);
  const phentsize = u16(bits === 64 ? 0x36 : 0x2a);
  const phnum = u16(bits === 64 ? 0x38 : 0x2c);
  let interpreter: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + phentsize > bytes.length) {
      throw new MinictrError('E_NOT_ELF', `${label}: ELF program headers lie beyond what was read`);
    }
    if (u32(ph) !== PT_INTERP) continue;
    const offset = word(bits === 64 ? ph + 0x08 : ph + 0x04);
    const size = word(bits === 64 ? ph + 0x20 : ph + 0x10);
    interpreter =
      offset + size <= bytes.length
        ? bytes.subarray(offset, offset + size).toString('latin1').replace(/\0+$/, '')
        : '(a dynamic loader)';
  }
  return { bits, interpreter };
}

/** Read the start of an executable and parse its ELF headers (one small blocking read). */
export function readElf(path: string): ElfInfo {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(MAX_HEADER_BYTES);
    const bytesRead = readSync(fd, buf, 0, buf.length, 0);
    return parseElf(buf.subarray(0, bytesRead), path);
  } finally {
    closeSync(fd);
  }
}
