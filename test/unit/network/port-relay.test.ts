// minictr's port relay (rootless networks, rootful [::1] ports), on loopback: what one published port's socket receives
// reaches the target and the answer comes back to the right client, for TCP and UDP.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { once } from 'node:events';
import { relayTcp, relayUdp } from '../../../src/network/port-relay.js';

async function listening(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function bound(sock: UdpSocket): Promise<number> {
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  return sock.address().port;
}

describe('port relay', () => {
  it('TCP: a client of the published socket talks to the target, both ways', async () => {
    const target = createServer((s) => s.on('data', (d) => s.end(`echo ${d.toString()}`)));
    const published = createServer();
    try {
      relayTcp(published, { kind: 'tcp', ip: '127.0.0.1', port: await listening(target) });
      const client = connect(await listening(published), '127.0.0.1');
      client.end('hi');
      let answer = '';
      client.on('data', (d: Buffer) => { answer += d.toString(); });
      await once(client, 'close');
      assert.equal(answer, 'echo hi');
    } finally {
      target.close();
      published.close();
    }
  });

  it('UDP: each client has its own flow to the target, answers go back to it', async () => {
    const target = createSocket('udp4');
    target.on('message', (m, from) => target.send(`echo ${m.toString()}`, from.port, from.address));
    const published = createSocket('udp4');
    const clients = [createSocket('udp4'), createSocket('udp4')];
    try {
      relayUdp(published, { kind: 'udp', ip: '127.0.0.1', port: await bound(target) });
      const port = await bound(published);
      const answers = await Promise.all(clients.map(async (c, i) => {
        await bound(c);
        const got = once(c, 'message');
        c.send(`n${i}`, port, '127.0.0.1');
        const [msg] = (await got) as [Buffer];
        return msg.toString();
      }));
      assert.deepEqual(answers, ['echo n0', 'echo n1']);
    } finally {
      for (const s of [target, published, ...clients]) s.close();
    }
  });

  it('UDP to an IPv6 target: the flow\'s socket is an IPv6 one ([::1] ports relay to a container\'s IPv6 address)', async (t) => {
    const target = createSocket('udp6');
    const published = createSocket('udp6');
    const client = createSocket('udp6');
    try {
      target.bind(0, '::1');
      const ready = await Promise.race([once(target, 'listening').then(() => true), once(target, 'error').then(() => false)]);
      if (!ready) {
        t.skip('no ::1 here');
        return;
      }
      target.on('message', (m, from) => target.send(`echo ${m.toString()}`, from.port, from.address));
      relayUdp(published, { kind: 'udp', ip: '::1', port: target.address().port });
      published.bind(0, '::1');
      await once(published, 'listening');
      client.bind(0, '::1');
      await once(client, 'listening');
      const got = once(client, 'message');
      client.send('v6', published.address().port, '::1');
      const [msg] = (await got) as [Buffer];
      assert.equal(msg.toString(), 'echo v6');
    } finally {
      for (const s of [target, published, client]) s.close();
    }
  });
});
