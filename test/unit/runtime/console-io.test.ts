import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, FRAME, FrameDecoder, resizeFrame } from '../../../src/base/frames.js';
import { DetachKeyScanner, parseDetachKeys } from '../../../src/runtime/detach-keys.js';
import { logLimits, parseHumanSize, parseLogConfig } from '../../../src/runtime/log-config.js';
import { durationNs, fixedTime, inWindow, parseLogLine, parseLogTime, parseTail, timeNs } from '../../../src/runtime/json-log.js';

describe('console frames', () => {
  it("uses Docker's stdcopy header and survives any chunking", () => {
    const wire = Buffer.concat([encodeFrame(FRAME.stdout, Buffer.from('hello\n')), encodeFrame(FRAME.stderr, Buffer.from('oops')), encodeFrame(FRAME.exit, Buffer.from('3'))]);
    assert.deepEqual([...wire.subarray(0, 8)], [1, 0, 0, 0, 0, 0, 0, 6]);
    const decoder = new FrameDecoder();
    const frames = [];
    for (const byte of wire) frames.push(...decoder.push(Buffer.from([byte])));
    assert.deepEqual(frames.map((f) => [f.type, f.payload.toString()]), [[1, 'hello\n'], [2, 'oops'], [3, '3']]);
  });

  it('carries a window size as two big-endian u16', () => {
    assert.deepEqual([...resizeFrame(24, 80)], [4, 0, 0, 0, 0, 0, 0, 4, 0, 24, 0, 80]);
  });
});

describe('detach keys', () => {
  it("parses Docker's spellings", () => {
    assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
    assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-_,a')], [0, 27, 31, 97]);
    assert.deepEqual([...parseDetachKeys('CTRL-A')], [1]);
  });

  it('refuses an unknown key in one line', () => {
    assert.throws(() => parseDetachKeys('ctrl-1'), /Invalid detach keys \(ctrl-1\) provided/);
    assert.throws(() => parseDetachKeys('shift-a'), /unknown key 'shift-a'/);
  });

  it('detaches on the sequence, even split across reads, and passes everything else through', () => {
    const scanner = new DetachKeyScanner(parseDetachKeys('ctrl-p,ctrl-q'));
    assert.deepEqual(scanner.feed(Buffer.from('ls\x10')), { forward: Buffer.from('ls'), detached: false });
    assert.deepEqual(scanner.feed(Buffer.from('\x11')), { forward: Buffer.alloc(0), detached: true });
  });

  it('sends a held Ctrl-P on when the next key does not complete the sequence', () => {
    const scanner = new DetachKeyScanner(parseDetachKeys('ctrl-p,ctrl-q'));
    assert.deepEqual(scanner.feed(Buffer.from('\x10')).forward, Buffer.alloc(0));
    assert.deepEqual(scanner.feed(Buffer.from('x')), { forward: Buffer.from('\x10x'), detached: false });
  });

  it('with no keys, never detaches', () => {
    const scanner = new DetachKeyScanner(Buffer.alloc(0));
    assert.deepEqual(scanner.feed(Buffer.from('\x10\x11')), { forward: Buffer.from('\x10\x11'), detached: false });
  });
});

describe('log driver flags', () => {
  it('defaults to json-file with no options', () => {
    assert.deepEqual(parseLogConfig(undefined, []), { type: 'json-file', config: {} });
  });

  it('reads max-size in decimal units, as json-file does', () => {
    assert.equal(parseHumanSize('10m'), 10_000_000);
    assert.equal(parseHumanSize('1k'), 1000);
    assert.deepEqual(logLimits(parseLogConfig('json-file', ['max-size=2k', 'max-file=3'])), { maxSize: 2000, maxFile: 3 });
    assert.deepEqual(logLimits(parseLogConfig('json-file', ['max-file=3'])), { maxSize: 0, maxFile: 1 });
  });

  it("refuses what Docker refuses, with Docker's words", () => {
    assert.throws(() => parseLogConfig('syslogx', []), /no log driver named 'syslogx' is registered/);
    assert.throws(() => parseLogConfig('json-file', ['foo=1']), /unknown log opt 'foo' for json-file log driver/);
    assert.throws(() => parseLogConfig('none', ['max-size=1m']), /unknown log opt 'max-size' for none log driver/);
    assert.throws(() => parseLogConfig('json-file', ['max-file=0']), /max-file cannot be less than 1/);
    assert.throws(() => parseLogConfig('json-file', ['max-size=lots']), /invalid size: 'lots'/);
    assert.throws(() => parseLogConfig('json-file', ['max-size']), /invalid key value pair/);
  });
});

describe('json-file entries', () => {
  it('reads an entry and skips a torn or foreign line', () => {
    assert.deepEqual(parseLogLine('{"log":"a\\u003cb\\n","stream":"stderr","time":"2026-12-02T04:33:36.9219Z"}'), { log: 'a<b\n', stream: 'stderr', time: '2026-12-02T04:33:36.9219Z' });
    assert.equal(parseLogLine('{"log":"a'), undefined);
    assert.equal(parseLogLine('hello'), undefined);
  });

  it('keeps times to the nanosecond', () => {
    assert.equal(timeNs('1970-01-01T00:00:01.000000002Z'), 1_000_000_002n);
    assert.equal(timeNs('1970-01-01T01:00:00+01:00'), 0n);
    assert.equal(fixedTime('2026-12-02T04:33:36.9219Z'), '2026-12-02T04:33:36.921900000Z');
    assert.equal(fixedTime('2026-12-02T04:33:36Z'), '2026-12-02T04:33:36.000000000Z');
  });

  it('reads --since and --until as a duration ago, a Unix time or a date', () => {
    const now = Date.parse('2026-12-02T10:00:00Z');
    assert.equal(parseLogTime('since', '10m', now), BigInt(now - 600_000) * 1_000_000n);
    assert.equal(durationNs('1h30m'), 5_400_000_000_000n);
    assert.equal(parseLogTime('since', '1700000000.5', now), 1_700_000_000_500_000_000n);
    assert.equal(parseLogTime('until', '2026-12-02T10:00:00Z', now), BigInt(now) * 1_000_000n);
    assert.throws(() => parseLogTime('since', 'yesterday', now), /invalid value for "since": failed to parse value as time or duration: "yesterday"/);
  });

  it('filters by the window and reads --tail', () => {
    const entry = { log: 'x\n', stream: 'stdout' as const, time: '2026-12-02T10:00:00.5Z' };
    const at = timeNs(entry.time) ?? 0n;
    assert.equal(inWindow(entry, { sinceNs: at }), true);
    assert.equal(inWindow(entry, { sinceNs: at + 1n }), false);
    assert.equal(inWindow(entry, { untilNs: at - 1n }), false);
    assert.equal(parseTail('all'), undefined);
    assert.equal(parseTail('3'), 3);
    assert.throws(() => parseTail('-1'), /invalid value for "tail"/);
  });
});

describe('a console connection', () => {
  it('keeps what the container said before a relay took the output, and its exit status', async () => {
    const { createServer } = await import('node:net');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { connectConsole } = await import('../../../src/runtime/console.js');
    const dir = await mkdtemp(join(tmpdir(), 'minictr-console-'));
    const path = join(dir, 'console.sock');
    // A shim that speaks at once and hangs up: a command quicker than the start that waits for it.
    const server = createServer((s) => s.end(Buffer.concat([encodeFrame(FRAME.stdout, Buffer.from('early\n')), encodeFrame(FRAME.stderr, Buffer.from('late?\n')), encodeFrame(FRAME.exit, Buffer.from('0'))])));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const conn = await connectConsole(path, 'test');
      assert.equal(await conn.ended, 0, 'the connection ended before anyone read the output');
      const got: string[] = [];
      conn.onOutput((stream, data) => got.push(`${stream}:${data.toString()}`) > 0);
      assert.deepEqual(got, ['stdout:early\n', 'stderr:late?\n']);
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
