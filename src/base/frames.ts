// The frames on a container's console socket (src/shim/minictr-shim.c): 8 bytes, Docker's
// stdcopy header [type, 0, 0, 0, length u32 big-endian], then the payload. Pure.

export const FRAME = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  /** From the shim: the command ended; the payload is its status in decimal. */
  exit: 3,
  /** To the shim: the terminal's size, rows and columns as two u16. */
  resize: 4,
  /** To the shim: no more input (the container's stdin is closed). */
  closeStdin: 5,
  /** To the shim: this client follows the log (logs -f) instead of the streams. */
  follow: 6,
  /** From the shim: where the log stood when `follow` came, "inode size". */
  position: 7,
  /** From the shim: one json-file entry, as written to the log. */
  entry: 8,
} as const;

export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export interface Frame {
  type: number;
  payload: Buffer;
}

const HEADER = 8;

export function encodeFrame(type: FrameType, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(HEADER);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

export function resizeFrame(rows: number, columns: number): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt16BE(Math.max(0, Math.min(rows, 0xffff)), 0);
  size.writeUInt16BE(Math.max(0, Math.min(columns, 0xffff)), 2);
  return encodeFrame(FRAME.resize, size);
}

/** Splits a byte stream into frames, whatever sizes the chunks arrive in. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    while (this.pending.length >= HEADER) {
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER + length) break;
      frames.push({ type: this.pending[0] ?? 0, payload: this.pending.subarray(HEADER, HEADER + length) });
      this.pending = this.pending.subarray(HEADER + length);
    }
    return frames;
  }
}
