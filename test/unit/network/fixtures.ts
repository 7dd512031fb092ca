// Shared test data: one container on the default network, publishing 5005:5000 and 127.0.0.1:8080:80/udp.
import type { NetworkAttachment, NetworkRecord } from '../../../src/base/records.js';
import { concatPlans, type Plan } from '../../../src/base/plan.js';
import { bridgeDriver } from '../../../src/network/bridge.js';
import { iptablesDriver } from '../../../src/network/firewall/iptables-driver.js';

export const ID = 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789';
export const C = 'minictr:abcdef012345';

export const ATT: NetworkAttachment = {
  network: 'bridge',
  bridge: 'minictr0',
  netns: 'minictr-abcdef012345',
  hostVeth: 'vethabcdef0',
  ip: '172.18.0.2',
  prefixLength: 16,
  gateway: '172.18.0.1',
  mac: '02:42:ac:12:00:02',
  ports: [
    { hostIp: '', hostPort: 5005, containerPort: 5000, proto: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, proto: 'udp' },
  ],
};

export const NET: NetworkRecord = {
  schemaVersion: 1,
  name: 'bridge',
  id: 'f00d'.repeat(16),
  driver: 'bridge',
  bridge: 'minictr0',
  subnet: '172.18.0.0/16',
  gateway: '172.18.0.1',
  created: '2025-01-01T00:00:00Z',
};

/** A container's own setup steps in the order the runtime applies them: its links, then its rules. */
export function containerSetupPlan(att: NetworkAttachment = ATT): Plan {
  return concatPlans(`set up network for container ${att.netns}`, bridgeDriver.planContainerSetup(att), iptablesDriver.planContainerSetup(att));
}
