// A container's output on an API connection: Docker's multiplexed framing (8-byte headers,
// stream 1 stdout, 2 stderr) without a terminal, raw bytes with one.
import { Writable } from 'node:stream';
import { encodeFrame, FRAME } from '../base/frames.js';

/** A writable that frames what is written as one stream of `out`, or passes it raw (tty). */
export function streamWriter(out: NodeJS.WritableStream, stream: 'stdout' | 'stderr', tty: boolean): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const data = tty ? chunk : encodeFrame(stream === 'stdout' ? FRAME.stdout : FRAME.stderr, chunk);
      if (out.write(data)) done();
      else out.once('drain', () => done());
    },
  });
}
