// Plans for bridge networks and container attachments, built from records alone (pure).
import { command, waitGone, write, type Argv, type CommandOp, type Op, type Plan } from '../base/plan.js';
import type { NetworkAttachment, NetworkRecord, PortMapping } from '../base/records.js';
import {
  RESTORE_ARGV,
  chainCommand,
  containerRules,
  iptablesCommand,
  networkRules,
  restoreShown,
  restoreText,
  standingChains,
  standingRules,
  type Chain,
  type Rule,
} from './firewall/iptables.js';
import { parseSubnet } from './ipam.js';

/** iptables' complaints when what we delete is already gone. */
export const GONE_RULE = /does a matching rule exist|Bad rule|No chain|doesn't exist|does not exist/;
export const GONE_CHAIN = /No chain|does not exist|doesn't exist|No such file/;
export const GONE_LINK = /Cannot find device|does not exist/;
export const EXISTS = /File exists/;

export interface NetworkFacts {
  bridgeExists: boolean;
  /** The MINICTR chains and the FORWARD/PREROUTING/OUTPUT jumps are in place. */
  standingRulesExist: boolean;
  networkRulesExist: boolean;
}

/** `ip -batch -` input: the same commands without the leading `ip` (and its -n NS). */
function ipBatch(prefix: Argv, lines: Argv[], why: string, extra: Pick<CommandOp, 'fallback'> = {}): CommandOp {
  return command([...prefix, '-batch', '-'], why, {
    stdin: lines.map((l) => l.join(' ') + '\n').join(''),
    shown: lines.map((l) => [...prefix, ...l]),
    ...extra,
  });
}

function addRulesOp(rules: Rule[], why: string, declareChains?: Chain[], checks: Rule[] = []): CommandOp {
  const options = { ...(declareChains ? { declareChains } : {}), ...(checks.length > 0 ? { checks } : {}) };
  return command(RESTORE_ARGV, why, {
    stdin: restoreText(rules, options, 'add'),
    shown: restoreShown(rules, options, 'add'),
  });
}

/** One batch; if any rule is already gone the batch fails whole, so retry rule by rule, tolerantly. */
function deleteRulesOp(rules: Rule[], why: string): CommandOp {
  return command(RESTORE_ARGV, why, {
    stdin: restoreText(rules, {}, 'delete'),
    shown: restoreShown(rules, {}, 'delete'),
    fallback: [...rules].reverse().map((r) => command(iptablesCommand(r, 'delete'), why, { tolerate: GONE_RULE })),
  });
}

/** Flush then delete minictr's own chains (the jumps into them must be gone first). */
function removeChainsOp(chains: Chain[], why: string): CommandOp {
  const options = { removeChains: chains };
  return command(RESTORE_ARGV, why, {
    stdin: restoreText([], options, 'delete'),
    shown: restoreShown([], options, 'delete'),
    fallback: [
      ...chains.map((c) => command(chainCommand(c, '-F'), why, { tolerate: GONE_CHAIN })),
      ...chains.map((c) => command(chainCommand(c, '-X'), why, { tolerate: GONE_CHAIN })),
    ],
  });
}

/**
 * Sysctls are written on every setup, whether the bridge existed or not: a write costs no
 * process and a reboot, another tool or a hand edit may have reset them.
 */
function sysctlOps(bridge: string): Op[] {
  const bridgeNf = write(
    '/proc/sys/net/bridge/bridge-nf-call-iptables',
    '1',
    'let iptables see traffic between containers on the same bridge (br_netfilter; affects every bridge on the host)',
  );
  // Absent when br_netfilter is not loaded: then bridged traffic simply bypasses iptables.
  bridgeNf.tolerate = /ENOENT|no such file/i;
  return [
    write('/proc/sys/net/ipv4/ip_forward', '1', 'make the host a router: forward packets between the bridge and other interfaces'),
    write(
      `/proc/sys/net/ipv4/conf/${bridge}/route_localnet`,
      '1',
      `let the host reach ports published on 127.0.0.1 through kernel NAT (only on ${bridge}, never "all")`,
    ),
    bridgeNf,
  ];
}

export function planNetworkSetup(net: NetworkRecord, facts: NetworkFacts): Plan {
  const { prefixLength } = parseSubnet(net.subnet);
  const br = net.bridge;
  const ops: Op[] = [];
  if (!facts.bridgeExists) {
    const steps: Argv[] = [
      ['link', 'add', br, 'type', 'bridge'],
      ['addr', 'add', `${net.gateway}/${prefixLength}`, 'dev', br],
      ['link', 'set', br, 'up'],
    ];
    ops.push(
      ipBatch(['ip'], steps, `create the bridge ${br}, a virtual switch holding the gateway ${net.gateway}`, {
        fallback: steps.map((s) => command(['ip', ...s], `create the bridge ${br}`, { tolerate: EXISTS })),
      }),
    );
  }
  ops.push(...sysctlOps(br));
  const rules = [
    ...(facts.standingRulesExist ? [] : standingRules()),
    ...(facts.networkRulesExist ? [] : networkRules(net)),
  ];
  if (rules.length > 0) {
    const parts = [
      ...(facts.standingRulesExist ? [] : ['create the MINICTR chains and hook them into FORWARD and nat']),
      ...(facts.networkRulesExist
        ? []
        : [`masquerade ${net.subnet} leaving through other interfaces and forward traffic for ${br}`]),
    ];
    ops.push(addRulesOp(rules, parts.join('; '), facts.standingRulesExist ? undefined : standingChains()));
  }
  return { title: `set up network ${net.name} (${br}, ${net.subnet})`, ops };
}

/**
 * Sysctls are left as they are: ip_forward may serve others, and route_localnet goes
 * with the bridge.
 */
export function planNetworkTeardown(net: NetworkRecord, facts: { lastNetwork: boolean }): Plan {
  const ops: Op[] = [deleteRulesOp(networkRules(net), `remove the firewall rules of network ${net.name}`)];
  if (facts.lastNetwork) {
    ops.push(deleteRulesOp(standingRules(), 'unhook the MINICTR chains from FORWARD and nat (last network gone)'));
    ops.push(removeChainsOp(standingChains(), 'remove the MINICTR chains'));
  }
  ops.push(command(['ip', 'link', 'del', net.bridge], `remove the bridge ${net.bridge}`, { tolerate: GONE_LINK }));
  return { title: `remove network ${net.name} (${net.bridge})`, ops };
}

function describePublication(p: PortMapping, ip: string): string {
  return `publish ${p.hostIp || '0.0.0.0'}:${p.hostPort} → ${ip}:${p.containerPort}/${p.proto} (DNAT)`;
}

function containerRulesWhy(att: NetworkAttachment): string {
  return [
    ...att.ports.map((p) => describePublication(p, att.ip)),
    `let only ${att.bridge} reach ${att.ip} directly`,
  ].join('; ');
}

/**
 * The veth pair's MTU. Traffic between the host and its containers never leaves the machine,
 * so it can move in frames as large as lo's; a 1500-byte MTU costs such a TCP stream ~15% of
 * its throughput (segments 45x smaller, an ACK every two). Only the subnet route uses it:
 */
const LOCAL_MTU = '65535';
/** …the default route keeps Docker's 1500, so nothing larger is sent towards the outside world. */
const OUTSIDE_MTU = '1500';

/**
 * The link half of a container's setup: its namespace, the veth pair into the bridge, and
 * eth0's address and route. One `ip -batch` on the host side (`netns add` works in a batch and
 * leaves ip in the host's namespace), one inside the new namespace.
 */
export function planContainerLinkSetup(att: NetworkAttachment): Plan {
  const { netns: ns, hostVeth: veth, bridge: br } = att;
  const ops: Op[] = [
    ipBatch(
      ['ip'],
      [
        ['netns', 'add', ns],
        ['link', 'add', veth, 'mtu', LOCAL_MTU, 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', LOCAL_MTU, 'address', att.mac, 'netns', ns],
        ['link', 'set', veth, 'master', br],
        ['link', 'set', veth, 'up'],
        ['link', 'set', veth, 'type', 'bridge_slave', 'hairpin', 'on'],
      ],
      `give the container its own network stack (a network namespace) and connect it to the host with a veth pair: ` +
        `eth0 inside, ${veth} plugged into ${br} (hairpin on: the container can reach itself through a published port; ` +
        `MTU ${LOCAL_MTU}: traffic that stays on this host moves in 64 KiB frames, as over lo)`,
    ),
    ipBatch(
      ['ip', '-n', ns],
      [
        ['link', 'set', 'lo', 'up'],
        ['addr', 'add', `${att.ip}/${att.prefixLength}`, 'dev', 'eth0'],
        ['link', 'set', 'eth0', 'up'],
        ['route', 'add', 'default', 'via', att.gateway, 'mtu', OUTSIDE_MTU],
      ],
      `give the container eth0 an address from the bridge's subnet (${att.ip}/${att.prefixLength}) ` +
        `and a default route via the gateway ${att.gateway} (MTU ${OUTSIDE_MTU} towards the outside world, as Docker's)`,
    ),
  ];
  return { title: `connect container ${ns} to ${att.bridge} (${att.ip})`, ops };
}

/**
 * The firewall half: the container's own rules, in one iptables-restore. `checks` are rules of
 * the network that must already be there (see firewallChecks); when one is missing the restore
 * fails and the caller repairs the ruleset.
 */
export function planContainerFirewallSetup(att: NetworkAttachment, checks: Rule[] = []): Plan {
  const rules = containerRules(att);
  const ops: Op[] = rules.length > 0 ? [addRulesOp(rules, containerRulesWhy(att), undefined, checks)] : [];
  return { title: `firewall rules of container ${att.netns} (${att.ip})`, ops };
}

/**
 * Two rules whose absence shows minictr's rules were wiped (a firewall reload, `iptables -F`),
 * in this order: the jump from FORWARD into minictr's chains, and the network's MASQUERADE.
 */
export function firewallChecks(net: NetworkRecord): Rule[] {
  return [standingRules().find((r) => r.chain === 'FORWARD'), networkRules(net).find((r) => r.table === 'nat')].filter(
    (r): r is Rule => r !== undefined,
  );
}

/** The firewall half of a container's teardown: its rules, then its UDP flows. */
export function planContainerFirewallTeardown(att: NetworkAttachment): Plan {
  const ops: Op[] = [deleteRulesOp(containerRules(att), `remove the firewall rules of ${att.ip}`)];
  // By HOST port: those are the flows' original destinations (Docker flushes by container port).
  const udpHostPorts = [...new Set(att.ports.filter((p) => p.proto === 'udp').map((p) => p.hostPort))];
  for (const port of udpHostPorts) {
    ops.push(
      command(
        ['conntrack', '-D', '-p', 'udp', '--dport', String(port)],
        `forget UDP flows to host port ${port}, so new datagrams are not sent to the removed container`,
        { tolerate: /0 flow entries|not found/ },
      ),
    );
  }
  return { title: `remove firewall rules of container ${att.netns} (${att.ip})`, ops };
}

/** How long the kernel gets to remove a veth with its namespace (it takes ~5 ms) before minictr does it. */
export const VETH_GONE_TIMEOUT_MS = 250;

/**
 * The link half: network namespace and veth pair (independent of the rules, so it can run
 * beside them). The namespace goes first and takes the veth with it: the kernel unlists both
 * ends at once and frees them in the background, where `ip link del` waits ~30 ms for the
 * freeing. If something still holds the namespace (a process, an open socket), the veth stays,
 * and is removed by hand after the wait.
 */
export function planContainerLinkTeardown(att: NetworkAttachment): Plan {
  return {
    title: `remove links of container ${att.netns}`,
    ops: [
      command(['ip', 'netns', 'del', att.netns], "remove the container's network namespace: its eth0, and with it the veth pair, go too", {
        tolerate: /No such file/,
      }),
      waitGone(`/proc/sys/net/ipv4/conf/${att.hostVeth}`, VETH_GONE_TIMEOUT_MS, `wait until the kernel has removed the veth pair ${att.hostVeth}`, [
        command(['ip', 'link', 'del', att.hostVeth], `remove the veth pair ${att.hostVeth} (its eth0 end goes with it)`, {
          tolerate: GONE_LINK,
        }),
      ]),
    ],
  };
}

export function planContainerNetworkTeardown(att: NetworkAttachment): Plan {
  return {
    title: `remove network of container ${att.netns} (${att.ip})`,
    ops: [...planContainerFirewallTeardown(att).ops, ...planContainerLinkTeardown(att).ops],
  };
}

/**
 * Put back only what is missing (after a firewall reload or a hand edit): declaring a chain
 * that does not exist is safe, and rules already present are never added twice.
 */
export function planFirewallRepair(missing: { chains: Chain[]; rules: Rule[] }): Plan {
  if (missing.chains.length === 0 && missing.rules.length === 0) return { title: 'firewall rules are complete', ops: [] };
  return {
    title: 'restore missing firewall rules',
    ops: [addRulesOp(missing.rules, `put back ${missing.rules.length} missing minictr rule(s)`, missing.chains)],
  };
}

/**
 * When a bridge was deleted by hand, its veths survive unplugged: plug the recorded ones
 * back in (a veth already gone is skipped).
 */
export function planReattachVeths(bridge: string, atts: NetworkAttachment[]): Plan {
  const ops: Op[] = atts.map((att) =>
    command(['ip', 'link', 'set', att.hostVeth, 'master', bridge, 'up'], `plug ${att.hostVeth} (${att.ip}) back into the re-created ${bridge}`, {
      tolerate: GONE_LINK,
    }),
  );
  ops.push(
    ...atts.map((att) =>
      command(['ip', 'link', 'set', att.hostVeth, 'type', 'bridge_slave', 'hairpin', 'on'], `hairpin on for ${att.hostVeth} again`, {
        tolerate: GONE_LINK,
      }),
    ),
  );
  return { title: `re-attach containers to ${bridge}`, ops };
}
