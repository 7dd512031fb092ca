// A small authoritative DNS server for the tests' outside world: A records for the names it is
// given, NXDOMAIN for any other name. Run as `node dns-server.js ADDR NAME=IP…` in a namespace
// the test made; it answers until killed.
import { createSocket } from 'node:dgram';

/** The question's name (labels joined by dots, lower case) and where the question section ends. */
function question(msg: Buffer): { name: string; type: number; end: number } | undefined {
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length) {
    const len = msg[at] ?? 0;
    if (len === 0) break;
    labels.push(msg.subarray(at + 1, at + 1 + len).toString('ascii').toLowerCase());
    at += 1 + len;
  }
  if (at + 5 > msg.length) return undefined;
  return { name: labels.join('.'), type: msg.readUInt16BE(at + 1), end: at + 5 };
}

export function answer(msg: Buffer, records: Map<string, string>): Buffer | undefined {
  const q = question(msg);
  if (!q) return undefined;
  const ip = records.get(q.name);
  const header = Buffer.from(msg.subarray(0, 12));
  // QR, opcode as asked, AA, RD as asked, RA; NXDOMAIN (3) for names it does not have.
  header[2] = 0x84 | ((msg[2] ?? 0) & 0x79);
  header[3] = 0x80 | (ip ? 0 : 3);
  header.writeUInt16BE(1, 4);
  const withAnswer = ip !== undefined && q.type === 1;
  header.writeUInt16BE(withAnswer ? 1 : 0, 6);
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(0, 10);
  const parts = [header, msg.subarray(12, q.end)];
  if (withAnswer) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6); // TTL
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((b, i) => rr.writeUInt8(Number(b), 12 + i));
    parts.push(rr);
  }
  return Buffer.concat(parts);
}

const [address, ...pairs] = process.argv.slice(2);
if (address) {
  const records = new Map(pairs.map((p) => p.split('=') as [string, string]));
  const socket = createSocket('udp4');
  socket.on('message', (msg, from) => {
    const reply = answer(msg, records);
    if (reply) socket.send(reply, from.port, from.address);
  });
  socket.bind(53, address, () => process.stdout.write('ready\n'));
}
