// The bridge network driver: the article's recipe. A Linux bridge holding the gateway address,
// and per container a network namespace joined to it by a veth pair (pure planning).
import { command, waitGone, write, type Argv, type BatchPlan, type CommandOp, type Op, type Plan } from '../base/plan.js';
import type { NetworkAttachment, NetworkRecord } from '../base/records.js';
import type { HostNet, InsideStep, NetworkDriver, Owned } from './driver.js';
import { parseSubnet } from './ipam.js';
import { macFromIp } from './names.js';
import { parseSubnet6 } from './ipv6.js';

/** ip's complaints when what we delete is already gone, or what we add is already there. */
export const GONE_LINK = /Cannot find device|does not exist/;
export const EXISTS = /File exists/;

/** `ip -batch -` input: the same commands without the leading `ip` (and what enters the namespace). */
function ipBatch(prefix: Argv, lines: Argv[], why: string, extra: Pick<CommandOp, 'fallback'> = {}): CommandOp {
  return command([...prefix, '-batch', '-'], why, {
    stdin: lines.map((l) => l.join(' ') + '\n').join(''),
    shown: lines.map((l) => [...prefix, ...l]),
    ...extra,
  });
}

/**
 * br_netfilter's switch for one family: bridged traffic goes through iptables' (ip6tables')
 * hooks. Absent when br_netfilter is not loaded: then bridged traffic simply bypasses them.
 */
function bridgeNfOp(program: 'iptables' | 'ip6tables', why: string): Op {
  return write(`/proc/sys/net/bridge/bridge-nf-call-${program}`, '1', why, { tolerate: /ENOENT|no such file/i });
}

/**
 * Sysctls are written on every setup, whether the bridge existed or not: a write costs no
 * process and a reboot, another tool or a hand edit may have reset them.
 */
function sysctlOps(bridge: string, ipv6: boolean): Op[] {
  return [
    write('/proc/sys/net/ipv4/ip_forward', '1', 'make the host a router: forward packets between the bridge and other interfaces'),
    write(
      `/proc/sys/net/ipv4/conf/${bridge}/route_localnet`,
      '1',
      `let the host reach ports published on 127.0.0.1 through kernel NAT (only on ${bridge}, never "all")`,
    ),
    bridgeNfOp('iptables', 'let iptables see traffic between containers on the same bridge (br_netfilter; affects every bridge on the host)'),
    ...(ipv6 ? ipv6SysctlOps(bridge) : []),
  ];
}

/** A network with IPv6: the host routes IPv6 too, the bridge keeps IPv6 on, ip6tables sees bridged traffic. */
function ipv6SysctlOps(bridge: string): Op[] {
  return [
    write(
      '/proc/sys/net/ipv6/conf/all/forwarding',
      '1',
      'make the host an IPv6 router too, as Docker does for --ipv6 (the host then ignores router advertisements unless accept_ra=2)',
    ),
    write(`/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`, '0', `keep IPv6 on for ${bridge}, whatever the host's default`),
    bridgeNfOp('ip6tables', "let ip6tables (and nftables' ip6 hooks) see IPv6 traffic between containers on the same bridge (br_netfilter)"),
  ];
}

/**
 * The veth pair's MTU. Traffic between the host and its containers never leaves the machine,
 * so it can move in frames as large as lo's; a 1500-byte MTU costs such a TCP stream ~15% of
 * its throughput (segments 45x smaller, an ACK every two). Only the subnet route uses it:
 */
const LOCAL_MTU = '65535';
/** …the default route keeps Docker's 1500, so nothing larger is sent towards the outside world. */
const OUTSIDE_MTU = '1500';

/** How long the kernel gets to remove a veth with its namespace (it takes ~5 ms) before minictr does it. */
export const VETH_GONE_TIMEOUT_MS = 250;

/**
 * The namespace goes first and takes the veth with it: the kernel unlists both ends at once
 * and frees them in the background, where `ip link del` waits ~30 ms for the freeing. If
 * something still holds the namespace (a process, an open socket), the veth stays, and is
 * removed by hand after the wait.
 */
function netnsDelOp(netns: string): CommandOp {
  return command(['ip', 'netns', 'del', netns], "remove the container's network namespace: its eth0, and with it the veth pair, go too", {
    tolerate: /No such file/,
  });
}

function vethGoneOp(hostVeth: string): Op {
  return waitGone(`/proc/sys/net/ipv4/conf/${hostVeth}`, VETH_GONE_TIMEOUT_MS, `wait until the kernel has removed the veth pair ${hostVeth}`, [
    command(['ip', 'link', 'del', hostVeth], `remove the veth pair ${hostVeth} (its eth0 end goes with it)`, { tolerate: GONE_LINK }),
  ]);
}

/**
 * `ip` inside the container's network namespace. Not `ip -n NAME`: that also makes a mount
 * namespace to remount /sys, a copy of the host's whole mount table, which grows by one bind
 * mount with every named namespace (~2 ms more per call beside 2,000 containers).
 */
export function enterNetns(att: Pick<NetworkAttachment, 'netns' | 'netnsPath'>): Argv {
  return ['nsenter', `--net=${att.netnsPath ?? `/run/netns/${att.netns}`}`];
}

/**
 * No IPv6 link-local address on a bridge port: it needs none, and its duplicate address
 * detection, MLD reports and router solicitations would be flooded to every container on the bridge.
 */
const noLinkLocal = (ifname: string, host: HostNet): Argv[] => (host.noIPv6 ? [] : [['link', 'set', ifname, 'addrgenmode', 'none']]);

/**
 * The batch inside the container's namespace. On an IPv4-only network its interface has IPv6
 * off before it comes up, as Docker 26.0.2+ does (CVE-2024-32473: a router advertisement from
 * another container could otherwise give it an IPv6 address no firewall rule covers); no
 * link-local traffic floods the bridge either. One process chain: nsenter, sh, ip.
 */
function insideBatch(att: NetworkAttachment, host: HostNet, ifname: string, lines: Argv[], why: string, then?: InsideStep): CommandOp {
  const enter = enterNetns(att);
  const op = ipBatch([...enter, 'ip'], lines, why);
  const v6off = att.ip6 || host.noIPv6 ? undefined : `echo 1 > /proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`;
  const shown = [...(v6off ? [[...enter, 'sh', '-c', v6off]] : []), ...(op.shown ?? [])];
  if (then) {
    // The ip batch as a here-document, so stdin stays the next step's; set -e stops at the first failure.
    const script = ['set -e', ...(v6off ? [v6off] : []), `ip -batch - <<'EOF'\n${op.stdin ?? ''}EOF`, then.script].join('\n');
    return { ...op, argv: [...enter, 'sh', '-c', script], stdin: then.stdin, shown: [...shown, ...then.shown], why: `${why}; then ${then.why}` };
  }
  if (!v6off) return op;
  return { ...op, argv: [...enter, 'sh', '-c', `${v6off} && exec ip -batch -`], shown };
}

export const bridgeDriver: NetworkDriver = {
  name: 'bridge',

  planNetworkSetup(net: NetworkRecord, facts: { bridgeExists: boolean }): Plan {
    const { prefixLength } = parseSubnet(net.subnet);
    const br = net.bridge;
    const ops: Op[] = [];
    if (!facts.bridgeExists) {
      // Without a gateway address (a CNI config's isGateway false) the bridge is a plain switch:
      // the host has no address, and so no route, on the subnet.
      const holdsGateway = net.bridgeGateway !== false;
      // A fixed MAC: a bridge without one takes the lowest of its ports', so each new container's
      // veth could change the gateway's MAC under the others, whose ARP caches then send to the
      // old one (dropped) for 10-30 s: DNS, the way out and published ports via the host stall.
      const steps: Argv[] = [
        ['link', 'add', br, 'address', macFromIp(net.gateway), 'type', 'bridge'],
        ...(holdsGateway ? [['addr', 'add', `${net.gateway}/${prefixLength}`, 'dev', br]] : []),
        // nodad: the address is the bridge's own on a link minictr made; no duplicate to detect, no 1 s wait.
        ...(net.subnet6 && net.gateway6 ? [['addr', 'add', `${net.gateway6}/${parseSubnet6(net.subnet6).prefixLength}`, 'dev', br, 'nodad']] : []),
        ['link', 'set', br, 'up'],
      ];
      const v6 = net.gateway6 ? ` and ${net.gateway6}` : '';
      const what = holdsGateway ? `a virtual switch holding the gateway ${net.gateway}${v6}` : 'a virtual switch without an address of its own (no gateway on this host)';
      ops.push(
        ipBatch(['ip'], steps, `create the bridge ${br}, ${what} (its own fixed MAC, so joining containers never change it)`, {
          fallback: steps.map((s) => command(['ip', ...s], `create the bridge ${br}`, { tolerate: EXISTS })),
        }),
      );
    }
    ops.push(...sysctlOps(br, net.subnet6 !== undefined));
    return { title: `set up bridge ${br} (${net.subnet})`, ops };
  },

  /** Sysctls are left as they are: ip_forward may serve others, and route_localnet goes with the bridge. */
  planNetworkTeardown(net: NetworkRecord): Plan {
    return {
      title: `remove bridge ${net.bridge}`,
      ops: [command(['ip', 'link', 'del', net.bridge], `remove the bridge ${net.bridge}`, { tolerate: GONE_LINK })],
    };
  },

  /**
   * The namespace, the veth pair into the bridge, and eth0's address and route. One `ip -batch`
   * on the host side (`netns add` works in a batch and leaves ip in the host's namespace), one
   * inside the new namespace, entered by nsenter (see enterNetns), also when someone else made
   * it (`netnsPath`, a CNI runtime's).
   */
  planContainerSetup(att: NetworkAttachment, host: HostNet = {}, then?: InsideStep): Plan {
    const { hostVeth: veth, bridge: br } = att;
    const ns = att.netnsPath ?? att.netns;
    const ifname = att.ifname ?? 'eth0';
    const local = String(att.mtu ?? LOCAL_MTU);
    const outside = String(att.mtu ?? OUTSIDE_MTU);
    const hairpin = att.hairpin !== false;
    const route = att.defaultRoute !== false;
    const mtuWhy = att.mtu
      ? `MTU ${att.mtu}, as configured`
      : `MTU ${LOCAL_MTU}: traffic that stays on this host moves in 64 KiB frames, as over lo`;
    const ops: Op[] = [
      ipBatch(
        ['ip'],
        [
          ...(att.netnsPath ? [] : [['netns', 'add', ns]]),
          ['link', 'add', veth, 'mtu', local, 'type', 'veth', 'peer', 'name', ifname, 'mtu', local, 'address', att.mac, 'netns', ns],
          ['link', 'set', veth, 'master', br],
          ...noLinkLocal(veth, host),
          ['link', 'set', veth, 'up'],
          ...(hairpin ? [['link', 'set', veth, 'type', 'bridge_slave', 'hairpin', 'on']] : []),
        ],
        `${att.netnsPath ? 'connect the network namespace ' + ns : 'give the container its own network stack (a network namespace) and connect it'} to the host with a veth pair: ` +
          `${ifname} inside, ${veth} plugged into ${br} (${hairpin ? 'hairpin on: the container can reach itself through a published port' : 'hairpin off, as configured'}; ${mtuWhy}` +
          `${host.noIPv6 ? '' : `; no IPv6 link-local address on ${veth}: a bridge port needs none, and its address checks would be flooded to every container on ${br}`})`,
      ),
      insideBatch(
        att,
        host,
        ifname,
        [
          ['link', 'set', 'lo', 'up'],
          ['addr', 'add', `${att.ip}/${att.prefixLength}`, 'dev', ifname],
          ['link', 'set', ifname, 'up'],
          // An --internal network has no way out, and a CNI network without a gateway no route: no default route.
          ...(route && !att.internal ? [['route', 'add', 'default', 'via', att.gateway, 'mtu', outside]] : []),
          ...(att.ip6 && att.gateway6
            ? [
                ['addr', 'add', `${att.ip6}/${att.prefixLength6 ?? 64}`, 'dev', ifname, 'nodad'],
                ...(att.internal ? [] : [['route', 'add', 'default', 'via', att.gateway6, 'dev', ifname, 'mtu', outside]]),
              ]
            : []),
        ],
        `give the container ${ifname} an address from the bridge's subnet (${att.ip}/${att.prefixLength}) ` +
          (att.internal
            ? '(an internal network: no default route, no way out)'
            : route
              ? `and a default route via the gateway ${att.gateway} (MTU ${outside} towards the outside world${att.mtu ? '' : ", as Docker's"})`
              : 'and no default route (no gateway, as configured): it reaches its subnet only') +
          (att.ip6
            ? `; the same for IPv6: ${att.ip6}/${att.prefixLength6 ?? 64} (nodad: minictr hands out each address once)${att.internal ? '' : `, default via ${att.gateway6 ?? ''}`}`
            : host.noIPv6
              ? ''
              : `; IPv6 off on ${ifname} first, as Docker does on an IPv4-only network (no address a router advertisement could add, no link-local chatter on the bridge)`),
        then,
      ),
    ];
    return { title: `connect container ${att.netns} to ${att.bridge} (${att.ip})`, ops };
  },

  planContainerConnect(att: NetworkAttachment, host: HostNet = {}): Plan {
    const { netns: ns, hostVeth: veth, bridge: br } = att;
    const ifname = att.ifname ?? 'eth0';
    const ops: Op[] = [
      ipBatch(
        ['ip'],
        [
          ['link', 'add', veth, 'mtu', LOCAL_MTU, 'type', 'veth', 'peer', 'name', ifname, 'mtu', LOCAL_MTU, 'address', att.mac, 'netns', ns],
          ['link', 'set', veth, 'master', br],
          ...noLinkLocal(veth, host),
          ['link', 'set', veth, 'up'],
          ['link', 'set', veth, 'type', 'bridge_slave', 'hairpin', 'on'],
        ],
        `connect the running container to one more network: a veth pair, ${ifname} inside ${ns}, ${veth} plugged into ${br}`,
      ),
      insideBatch(
        att,
        host,
        ifname,
        [
          ['addr', 'add', `${att.ip}/${att.prefixLength}`, 'dev', ifname],
          ...(att.ip6 ? [['addr', 'add', `${att.ip6}/${att.prefixLength6 ?? 64}`, 'dev', ifname, 'nodad']] : []),
          ['link', 'set', ifname, 'up'],
        ],
        `give ${ifname} an address from ${br}'s subnet (${att.ip}/${att.prefixLength}${att.ip6 ? `, and ${att.ip6}/${att.prefixLength6 ?? 64} from its IPv6 subnet` : ''}); the default routes stay with the first network, as in Docker` +
          (att.ip6 || host.noIPv6 ? '' : `; IPv6 off on ${ifname} first (an IPv4-only network)`),
      ),
    ];
    return { title: `connect container ${ns} to ${br} (${att.ip})`, ops };
  },

  planContainerDisconnect(att: Pick<NetworkAttachment, 'hostVeth'>): Plan {
    return {
      title: `disconnect ${att.hostVeth}`,
      ops: [command(['ip', 'link', 'del', att.hostVeth], `remove the veth pair ${att.hostVeth}: the container's interface on that network goes with it`, { tolerate: GONE_LINK })],
    };
  },

  /**
   * The namespace, then a wait for its veth (see netnsDelOp). A namespace someone else owns
   * (`netnsPath`) stays: only the veth pair goes (already gone with that namespace counts as removed).
   */
  planContainerTeardown(att: Pick<NetworkAttachment, 'netns' | 'hostVeth' | 'netnsPath'>): Plan {
    const title = `remove links of container ${att.netns}`;
    if (att.netnsPath) {
      return { title, ops: [command(['ip', 'link', 'del', att.hostVeth], `remove the veth pair ${att.hostVeth} (its end in ${att.netnsPath} goes with it)`, { tolerate: GONE_LINK })] };
    }
    return { title, ops: [netnsDelOp(att.netns), vethGoneOp(att.hostVeth)] };
  },

  /**
   * Every namespace in one `ip -force -batch` (it goes on past a namespace already gone, and
   * then fails: each container's own tolerant delete runs instead), then the veth waits side by side.
   */
  planContainersTeardown(atts: Owned<Pick<NetworkAttachment, 'netns' | 'hostVeth'>>[]): BatchPlan {
    const title = `remove links of ${atts.length} container(s)`;
    if (atts.length === 0) return { title, shared: [], own: [] };
    const lines = atts.map(({ attachment }): Argv => ['netns', 'del', attachment.netns]);
    const op = command(['ip', '-force', '-batch', '-'], "remove the containers' network namespaces: their eth0s, and with them the veth pairs, go too", {
      stdin: lines.map((l) => l.join(' ') + '\n').join(''),
      shown: lines.map((l) => ['ip', ...l]),
    });
    return {
      title,
      shared: [{ op, shares: atts.map(({ owner, attachment }) => ({ owner, plan: { title, ops: [netnsDelOp(attachment.netns)] } })) }],
      own: atts.map(({ owner, attachment }) => ({ owner, plan: { title, ops: [vethGoneOp(attachment.hostVeth)] } })),
    };
  },

  /** A bridge deleted by hand leaves its veths unplugged: plug the recorded ones back (a veth already gone is skipped). */
  planReattach(net: NetworkRecord, atts: NetworkAttachment[]): Plan {
    const bridge = net.bridge;
    const ops: Op[] = atts.map((att) =>
      command(['ip', 'link', 'set', att.hostVeth, 'master', bridge, 'up'], `plug ${att.hostVeth} (${att.ip}) back into the re-created ${bridge}`, {
        tolerate: GONE_LINK,
      }),
    );
    ops.push(
      ...atts.filter((att) => att.hairpin !== false).map((att) =>
        command(['ip', 'link', 'set', att.hostVeth, 'type', 'bridge_slave', 'hairpin', 'on'], `hairpin on for ${att.hostVeth} again`, {
          tolerate: GONE_LINK,
        }),
      ),
    );
    return { title: `re-attach containers to ${bridge}`, ops };
  },
};
