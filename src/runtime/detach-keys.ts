// Docker's detach keys: `--detach-keys "ctrl-p,ctrl-q"` parsed, and the scanner that finds them
// in what the user types while attached. Pure.
import { MinictrError } from '../base/errors.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** The bytes of a detach-keys spec: `ctrl-<a-z @ [ \ ] ^ _>` or one character, comma-separated. */
export function parseDetachKeys(spec: string): Buffer {
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    if (key.length === 1) {
      codes.push(key.charCodeAt(0));
      continue;
    }
    const lower = key.toLowerCase();
    const named = /^ctrl-(.)$/.exec(lower)?.[1];
    const code = named === undefined ? -1 : '@abcdefghijklmnopqrstuvwxyz[\\]^_'.indexOf(named);
    if (code < 0) {
      throw new MinictrError('E_BAD_DETACH_KEYS', `Invalid detach keys (${spec}) provided: unknown key '${key}'; use ctrl-<a-z>, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_ or single characters, comma-separated`);
    }
    codes.push(code);
  }
  return Buffer.from(codes);
}

/**
 * Passes typed bytes through until the detach sequence is typed. A partial match is held back
 * and sent on, as typed, when the next byte does not continue it (Docker's escape proxy).
 */
export class DetachKeyScanner {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  feed(chunk: Buffer): { forward: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (this.keys.length > 0 && byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { forward: Buffer.from(out), detached: true };
        continue;
      }
      out.push(...this.keys.subarray(0, this.matched), byte);
      this.matched = 0;
    }
    return { forward: Buffer.from(out), detached: false };
  }
}
