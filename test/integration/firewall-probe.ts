// What a network test needs to look at and to break in the sandbox host's firewall, for each of
// minictr's firewall drivers: the whole ruleset as comparable text, the patterns of minictr's own
// rules, a firewall reload (everything wiped, the host's own rules put back), partial wipes, and a
// hole punched ahead of minictr's loopback guard (the control of the CVE-2020-8558 test).
import type { FirewallName, Result, Sandbox } from './sandbox.js';

export interface FirewallProbe {
  name: FirewallName;
  /** Everything the host's firewall holds (iptables-save, and nft's ruleset for nftables), counters zeroed. */
  save(): Promise<string>;
  /** What the default network's standing rules look like once made. */
  standing: RegExp[];
  /** Any rule or element of a container (none once every container is gone). */
  perContainer: RegExp;
  /** A rule or element naming this host port. */
  hostPort(port: number): RegExp;
  /** Everything wiped (a firewall reload, `nft flush ruleset`), then the host's own rules put back. */
  wipe(hostRules: string[][]): Promise<void>;
  /** Two partial wipes: of the forwarding rules, and of the published ports' DNAT. */
  partialWipes: { what: string; run(hostRules: string[][]): Promise<void> }[];
  /** Accept packets from `iface` to 127.0.0.1:port ahead of minictr's guard; returns the undo. */
  bypassLoopbackGuard(iface: string, port: number): Promise<() => Promise<void>>;
}

async function must(p: Promise<Result>, what: string): Promise<string> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed: exit ${r.code}: ${r.stderr.slice(0, 500)}`);
  return r.stdout;
}

function iptablesSave(sb: Sandbox): Promise<string> {
  return must(sb.host(['iptables-save']), 'iptables-save').then((out) =>
    out
      .split('\n')
      .filter((l) => !l.startsWith('#') && l !== '')
      .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
      .join('\n'),
  );
}

const addHostRules = async (sb: Sandbox, rules: string[][], tables: string[]): Promise<void> => {
  for (const r of rules) {
    const table = r.includes('-t') ? (r[r.indexOf('-t') + 1] ?? 'filter') : 'filter';
    if (tables.includes(table)) await must(sb.host(r), r.join(' '));
  }
};

export function iptablesProbe(sb: Sandbox): FirewallProbe {
  return {
    name: 'iptables',
    save: () => iptablesSave(sb),
    standing: [/-A FORWARD .*-j MINICTR-FORWARD/, /-A POSTROUTING -s 172\.18\.0\.0\/16 ! -o minictr0 .*-j MASQUERADE/],
    perContainer: /-j DNAT|\/32 /,
    hostPort: (port) => new RegExp(`--dport ${port}\\b`),
    async wipe(hostRules) {
      await must(sb.host(['iptables', '-w', '-t', 'nat', '-F']), 'nat -F');
      await must(sb.host(['iptables', '-w', '-F']), 'filter -F');
      await addHostRules(sb, hostRules, ['filter', 'nat']);
    },
    partialWipes: [
      {
        what: 'a flush of the filter table alone',
        async run(hostRules) {
          await must(sb.host(['iptables', '-w', '-F']), 'filter -F');
          await addHostRules(sb, hostRules, ['filter']);
        },
      },
      {
        what: 'a flush of the nat table alone',
        async run(hostRules) {
          await must(sb.host(['iptables', '-w', '-t', 'nat', '-F']), 'nat -F');
          await addHostRules(sb, hostRules, ['nat']);
        },
      },
    ],
    async bypassLoopbackGuard(iface, port) {
      const rule = ['-i', iface, '-d', '127.0.0.1/32', '-p', 'tcp', '-m', 'tcp', '--dport', String(port), '-j', 'ACCEPT'];
      await must(sb.host(['iptables', '-w', '-t', 'raw', '-I', 'PREROUTING', ...rule]), 'insert control rule');
      return async () => {
        await sb.host(['iptables', '-w', '-t', 'raw', '-D', 'PREROUTING', ...rule]);
      };
    },
  };
}

/** nft's ruleset with iptables-nft's counters zeroed. */
async function nftRuleset(sb: Sandbox): Promise<string> {
  const out = await must(sb.host(['nft', 'list', 'ruleset']), 'nft list ruleset');
  return out
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .map((l) => l.replace(/counter packets \d+ bytes \d+/g, 'counter'))
    .join('\n');
}

export function nftablesProbe(sb: Sandbox): FirewallProbe {
  return {
    name: 'nftables',
    save: async () => `${await iptablesSave(sb)}\n--- nft list ruleset\n${await nftRuleset(sb)}`,
    standing: [/oifname vmap @fwd-in comment "minictr"/, /oifname != "minictr0" ip saddr 172\.18\.0\.0\/16 masquerade/],
    perContainer: /comment "minictr:[0-9a-f]{12}"/,
    hostPort: (port) => new RegExp(`\\. ${port}\\b`),
    async wipe(hostRules) {
      await must(sb.host(['nft', 'flush', 'ruleset']), 'nft flush ruleset');
      await addHostRules(sb, hostRules, ['filter', 'nat', 'raw']);
    },
    partialWipes: [
      {
        what: 'a flush of the forward chains alone',
        async run() {
          await must(sb.host(['nft', 'flush', 'chain', 'inet', 'minictr', 'forward']), 'flush forward');
          await must(sb.host(['nft', 'flush', 'chain', 'inet', 'minictr', 'in-minictr0']), 'flush in-minictr0');
        },
      },
      {
        what: 'a flush of the published ports\' map alone',
        async run() {
          await must(sb.host(['nft', 'flush', 'map', 'inet', 'minictr', 'ports-any4']), 'flush ports-any4');
        },
      },
    ],
    async bypassLoopbackGuard(iface, port) {
      const out = await must(
        sb.host(['nft', '-e', '-a', 'insert', 'rule', 'inet', 'minictr', 'raw-prerouting', 'iifname', iface, 'ip', 'daddr', '127.0.0.1', 'tcp', 'dport', String(port), 'accept']),
        'insert control rule',
      );
      const handle = /# handle (\d+)/.exec(out)?.[1];
      if (!handle) throw new Error(`nft did not echo the control rule's handle: ${out}`);
      return async () => {
        await sb.host(['nft', 'delete', 'rule', 'inet', 'minictr', 'raw-prerouting', 'handle', handle]);
      };
    },
  };
}

export function firewallProbe(sb: Sandbox, name: FirewallName): FirewallProbe {
  return name === 'nftables' ? nftablesProbe(sb) : iptablesProbe(sb);
}
