// Which firewall driver a new network gets, from what the user set (the option, $MINICTR_FIREWALL,
// the state dir's config.json), and whether the host can serve it. The choice itself is pure
// (network/drivers.ts chooseFirewall); this reads its inputs and probes the host.
import { MinictrError, errorMessage } from '../base/errors.js';
import type { FirewallName } from '../base/records.js';
import type { Runner } from '../exec/runner.js';
import { chooseFirewall } from '../network/drivers.js';
import type { Store } from '../state/store.js';

/** The firewall a new network gets (`option`: `network create -o firewall=…`). */
export function firewallChoice(store: Store, option?: string): FirewallName {
  const config = store.loadConfig()['firewall'];
  const env = process.env['MINICTR_FIREWALL'];
  return chooseFirewall({
    ...(option !== undefined ? { option } : {}),
    ...(env !== undefined ? { env } : {}),
    ...(typeof config === 'string' ? { config } : {}),
  });
}

/**
 * Refuse a firewall this host cannot serve, before anything is made: nftables needs the `nft`
 * program and a kernel with nf_tables. One read-only `nft list tables` answers both.
 */
export async function checkFirewallUsable(runner: Runner, firewall: FirewallName): Promise<void> {
  if (firewall !== 'nftables') return;
  let result;
  try {
    result = await runner.run(['nft', 'list', 'tables'], { allowFailure: true });
  } catch (err) {
    if (err instanceof MinictrError && err.code === 'E_MISSING_TOOL') {
      throw new MinictrError('E_MISSING_TOOL', 'the nftables firewall was asked for, but "nft" is not installed: install the "nftables" package, or choose firewall=iptables');
    }
    throw err;
  }
  if (result.exitCode !== 0) {
    const said = result.stderr.trim().split('\n').find((l) => l.startsWith('Error:')) ?? result.stderr.trim();
    throw new MinictrError(
      'E_NO_NFTABLES',
      `the nftables firewall was asked for, but this kernel refuses nftables (${said.replace(/^Error:\s*/, '')}): load nf_tables (modprobe nf_tables), or choose firewall=iptables`,
    );
  }
}

/** The firewall new networks get and what chose it, for `doctor` (a bad setting is said, not thrown). */
export function firewallSource(store: Store): { name: string; from: string } {
  try {
    const name = firewallChoice(store);
    const env = process.env['MINICTR_FIREWALL'];
    const from = env ? 'MINICTR_FIREWALL' : typeof store.loadConfig()['firewall'] === 'string' ? store.paths.config : 'the default, as Docker\'s';
    return { name, from };
  } catch (err) {
    return { name: '?', from: errorMessage(err) };
  }
}
