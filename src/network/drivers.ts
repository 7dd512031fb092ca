// Which driver serves a network: decided here and nowhere else. Everything downstream
// (attach, teardown, reload, net inspect, --dry-run) asks these two functions.
import { MinictrError } from '../base/errors.js';
import { FIREWALL_NAMES, type FirewallName, type NetworkRecord } from '../base/records.js';
import { bridgeDriver } from './bridge.js';
import type { FirewallDriver, NetworkDriver } from './driver.js';
import { iptablesDriver } from './firewall/iptables-driver.js';
import { nftablesDriver } from './firewall/nftables-driver.js';
import { iptablesTracer } from './firewall/iptables-trace.js';
import { nftablesTracer } from './firewall/nftables-trace.js';
import type { Tracer } from './firewall/trace.js';

/** The firewall driver new networks get when nothing chooses another (Docker's default too). */
export const DEFAULT_FIREWALL: FirewallName = 'iptables';

const NETWORK_DRIVERS: Record<string, NetworkDriver> = { bridge: bridgeDriver };
const FIREWALL_DRIVERS: Record<FirewallName, FirewallDriver> = { iptables: iptablesDriver, nftables: nftablesDriver };

/** The network driver a network was created with (its record's `driver`). */
export function networkDriverFor(net: Pick<NetworkRecord, 'driver' | 'name'>): NetworkDriver {
  const driver = NETWORK_DRIVERS[net.driver];
  if (!driver) throw new MinictrError('E_BAD_DRIVER', `network ${net.name} uses driver "${net.driver}", which this minictr does not have`);
  return driver;
}

/** The firewall driver of a network: the one recorded with it, iptables for records older than that field. */
export function firewallDriverFor(net?: Pick<NetworkRecord, 'firewall' | 'name'>): FirewallDriver {
  const name = net?.firewall ?? DEFAULT_FIREWALL;
  const driver = (FIREWALL_DRIVERS as Record<string, FirewallDriver | undefined>)[name];
  if (!driver) throw new MinictrError('E_BAD_DRIVER', `network ${net?.name ?? ''} uses firewall "${name}", which this minictr does not have`);
  return driver;
}

/** Every firewall driver, for what looks at the whole host (leftovers, net inspect). */
export function allFirewallDrivers(): FirewallDriver[] {
  return FIREWALL_NAMES.map((n) => FIREWALL_DRIVERS[n]);
}

/** A firewall name as given by a user (an option, the environment, the config file), checked. */
export function parseFirewallName(value: string, where: string): FirewallName {
  const name = FIREWALL_NAMES.find((n) => n === value.trim().toLowerCase());
  if (!name) {
    throw new MinictrError('E_BAD_FIREWALL', `invalid firewall "${value}" (${where}): choose ${FIREWALL_NAMES.join(' or ')}`);
  }
  return name;
}

/** Where a firewall choice can come from, most specific first. */
export interface FirewallChoice {
  /** `network create -o firewall=…`. */
  option?: string;
  /** $MINICTR_FIREWALL. */
  env?: string;
  /** `firewall` in <state dir>/config.json. */
  config?: string;
}

/** The one place a new network's firewall is chosen: the option, else the environment, else the config file, else iptables. */
export function chooseFirewall(choice: FirewallChoice): FirewallName {
  if (choice.option !== undefined) return parseFirewallName(choice.option, '-o firewall=');
  if (choice.env !== undefined && choice.env !== '') return parseFirewallName(choice.env, 'MINICTR_FIREWALL');
  if (choice.config !== undefined) return parseFirewallName(choice.config, 'the state dir\'s config.json "firewall"');
  return DEFAULT_FIREWALL;
}

/** How `minictr trace` follows a flow through the rules of a network's firewall driver. */
export function tracerFor(net?: Pick<NetworkRecord, 'firewall'>): Tracer {
  return (net?.firewall ?? DEFAULT_FIREWALL) === 'nftables' ? nftablesTracer : iptablesTracer;
}
