// The relay's ports are bound by minictr before the relay exists: all or none, a taken one in Docker's words.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { bindPorts, closePorts } from '../../../src/runtime/port-relay.js';

describe('bindPorts', () => {
  it('refuses a taken port as "already allocated" and leaves none of the others bound', async () => {
    const holder = createServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const taken = (holder.address() as AddressInfo).port;
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const free = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    try {
      await assert.rejects(
        bindPorts([
          { hostIp: '127.0.0.1', hostPort: free, containerPort: 80, proto: 'tcp' },
          { hostIp: '127.0.0.1', hostPort: taken, containerPort: 81, proto: 'tcp' },
        ]),
        { code: 'E_PORT_IN_USE', message: `Bind for 127.0.0.1:${taken} failed: port is already allocated` },
      );
      // The first one was let go again.
      const again = await bindPorts([{ hostIp: '127.0.0.1', hostPort: free, containerPort: 80, proto: 'tcp' }]);
      closePorts(again);
    } finally {
      holder.close();
    }
  });
});
