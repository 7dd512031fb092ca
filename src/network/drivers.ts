// Which driver serves a network: decided here and nowhere else. Everything downstream
// (attach, teardown, reload, net inspect, --dry-run) asks these two functions.
import { MinictrError } from '../base/errors.js';
import type { NetworkRecord } from '../base/records.js';
import { bridgeDriver } from './bridge.js';
import type { FirewallDriver, NetworkDriver } from './driver.js';
import { iptablesDriver } from './firewall/iptables-driver.js';

/** The firewall driver new networks get (and records made before there was a choice have). */
export const DEFAULT_FIREWALL = 'iptables';

const NETWORK_DRIVERS: Record<string, NetworkDriver> = { bridge: bridgeDriver };
const FIREWALL_DRIVERS: Record<string, FirewallDriver> = { iptables: iptablesDriver };

/** The network driver a network was created with (its record's `driver`). */
export function networkDriverFor(net: Pick<NetworkRecord, 'driver' | 'name'>): NetworkDriver {
  const driver = NETWORK_DRIVERS[net.driver];
  if (!driver) throw new MinictrError('E_BAD_DRIVER', `network ${net.name} uses driver "${net.driver}", which this minictr does not have`);
  return driver;
}

/** The firewall driver of a network: the one recorded with it, iptables for records older than that field. */
export function firewallDriverFor(net?: Pick<NetworkRecord, 'firewall' | 'name'>): FirewallDriver {
  const name = net?.firewall ?? DEFAULT_FIREWALL;
  const driver = FIREWALL_DRIVERS[name];
  if (!driver) throw new MinictrError('E_BAD_DRIVER', `network ${net?.name ?? ''} uses firewall "${name}", which this minictr does not have`);
  return driver;
}
