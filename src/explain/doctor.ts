// `minictr doctor`: what on this host helps or hurts minictr, as findings with a consequence and
// a fix. The facts are gathered elsewhere (src/cli/doctor.ts); this evaluation is pure.
import { rootlessFindings, type RootlessFacts } from './doctor-rootless.js';
import { contains, isIPv4, subnetsOverlap } from '../network/ipam.js';
import { DEFAULT_NETWORK } from '../network/names.js';
import { isMinictrRule, type Route } from './inspect-net.js';
import { parseIptablesSave } from '../network/firewall/iptables-save.js';
import { parseNftJson } from '../network/firewall/nft-json.js';
import { columns } from './text.js';

export type Status = 'ok' | 'warn' | 'blocker';

export interface Finding {
  check: string;
  status: Status;
  /** What was found, in a few words. */
  summary: string;
  /** One line: what it means for containers (empty when all is well). */
  consequence: string;
  /** One line: what to do about it (empty when all is well). */
  fix: string;
}

export interface ToolFact {
  name: string;
  /** Absent: not found on PATH. */
  found: boolean;
  /** First line of `TOOL -V` (or similar). */
  version?: string;
}

export interface BusyboxFact {
  path: string;
  static: boolean;
  version?: string;
}

export interface DoctorFacts {
  root: boolean;
  /** `iptables -V`, e.g. "iptables v1.8.9 (nf_tables)". */
  iptablesVersion?: string;
  /** iptables-save of the backend `iptables` uses (where minictr's rules go). */
  activeSave?: string;
  /** iptables-save of the other backend (legacy when iptables is nft, and so on); absent when unavailable. */
  otherSave?: string;
  ipForward?: string;
  /** /proc/sys/net/bridge exists (br_netfilter is loaded). */
  brNetfilter: boolean;
  bridgeNfCallIptables?: string;
  firewalld: boolean;
  ufw: boolean;
  /** minictr's networks (records, plus the default one). */
  networks: { name: string; bridge: string; subnet: string }[];
  routes: Route[];
  resolvConf: string;
  tools: ToolFact[];
  /** Every busybox found; absent when none. */
  busybox?: BusyboxFact;
  /** /proc/filesystems */
  filesystems: string;
  /** The firewall driver new networks get, and what chose it. */
  firewall?: { name: string; from: string };
  /** Which networks each firewall driver serves (records; the default network as it would be made), and which have IPv6. */
  networkFirewalls?: { name: string; firewall: string; ipv6?: boolean }[];
  /** ip6tables-save of the backend `ip6tables` uses, and of the other one (as activeSave/otherSave for IPv4). */
  activeSave6?: string;
  otherSave6?: string;
  /** /proc/sys/net/ipv6 exists: the kernel has IPv6 (absent with ipv6.disable=1 or without the module). */
  ipv6Kernel?: boolean;
  /** net.ipv6.conf.all.disable_ipv6 */
  ipv6Disabled?: string;
  /** net.ipv6.conf.all.forwarding */
  ipv6Forward?: string;
  /** `nft -j list ruleset` (every family); absent when nft is missing, fails, or not root. */
  nftRuleset?: string;
  /** Whether `nft -j list ruleset` worked, and the first line it said when not (an nft built without JSON support); absent when nft is missing or not root. */
  nftJson?: { works: true } | { works: false; said: string };
  /** Run by a normal user: what rootless minictr needs. */
  rootless?: RootlessFacts;
}

export const REQUIRED_TOOLS = ['ip', 'iptables', 'iptables-restore', 'unshare', 'nsenter', 'mount'] as const;
export const OPTIONAL_TOOLS = ['conntrack', 'nft', 'ip6tables'] as const;

const ok = (check: string, summary: string): Finding => ({ check, status: 'ok', summary, consequence: '', fix: '' });
const warn = (check: string, summary: string, consequence: string, fix: string): Finding => ({ check, status: 'warn', summary, consequence, fix });
const blocker = (check: string, summary: string, consequence: string, fix: string): Finding => ({ check, status: 'blocker', summary, consequence, fix });

export function iptablesBackend(version: string | undefined): 'nf_tables' | 'legacy' | undefined {
  if (!version) return undefined;
  if (/nf_tables/.test(version)) return 'nf_tables';
  if (/legacy/.test(version)) return 'legacy';
  // iptables before 1.8 prints no backend: it is legacy.
  return /^iptables v1\.[0-7]\./.test(version) ? 'legacy' : undefined;
}

export function countRules(save: string): { rules: number; minictr: number } {
  const rules = parseIptablesSave(save).rules;
  return { rules: rules.length, minictr: rules.filter((r) => isMinictrRule(r.line)).length };
}

export function nameservers(resolvConf: string): string[] {
  return resolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);
}

export function overlaySupported(filesystems: string): boolean {
  return /\toverlay$/m.test(filesystems);
}

/** A network uses the nftables driver, or new ones would get it. */
function nftNeeded(facts: DoctorFacts): boolean {
  return facts.firewall?.name === 'nftables' || (facts.networkFirewalls ?? []).some((n) => n.firewall === 'nftables');
}

/** minictr reads the nftables driver's rules back as JSON (`nft -j`): an nft built without libjansson cannot. */
function nftJsonFinding(json: NonNullable<DoctorFacts['nftJson']>): Finding {
  if (json.works) return ok('nft JSON', '`nft -j list ruleset` works');
  return blocker(
    'nft JSON',
    `\`nft -j list ruleset\` fails: ${json.said}`,
    'minictr reads the nftables rules back as JSON: container start, network reload, repair, net inspect and CNI GC fail on nftables networks',
    /json/i.test(json.said)
      ? "install an nft built with JSON support (libjansson), e.g. Debian's or Ubuntu's: apt-get install nftables"
      : 'run `nft -j list ruleset` by hand to see why (a kernel without nf_tables: modprobe nf_tables), or keep networks on -o firewall=iptables',
  );
}

function toolFindings(facts: DoctorFacts): Finding[] {
  const out: Finding[] = [];
  for (const name of [...REQUIRED_TOOLS, ...OPTIONAL_TOOLS]) {
    const t = facts.tools.find((x) => x.name === name);
    const required = (REQUIRED_TOOLS as readonly string[]).includes(name);
    if (t?.found) {
      out.push(ok(`tool ${name}`, t.version ?? 'found'));
      if (name === 'nft' && nftNeeded(facts) && facts.nftJson) out.push(nftJsonFinding(facts.nftJson));
      continue;
    }
    const pkg = name === 'ip' ? 'iproute2' : name.startsWith('iptables') ? 'iptables' : name === 'conntrack' ? 'conntrack' : name === 'nft' ? 'nftables' : name === 'mount' ? 'mount' : 'util-linux';
    if (name === 'ip6tables') {
      const needing = ipv6Networks(facts).filter((n) => n.firewall === 'iptables').map((n) => n.name);
      out.push(
        needing.length > 0
          ? blocker('tool ip6tables', 'not found on PATH', `network(s) ${needing.join(', ')} have IPv6 on the iptables firewall: their IPv6 rules (NAT66, published ports, guards) cannot be made or removed`, `apt-get install ${pkg}`)
          : ok('tool ip6tables', 'not found (needed only for networks with IPv6 on the iptables firewall)'),
      );
      continue;
    }
    if (name === 'nft') {
      out.push(
        nftNeeded(facts)
          ? blocker('tool nft', 'not found on PATH', 'a network uses the nftables firewall driver (or new ones would): its rules cannot be made or removed', `apt-get install ${pkg}`)
          : ok('tool nft', 'not found (needed only for -o firewall=nftables)'),
      );
      continue;
    }
    out.push(
      required
        ? blocker(`tool ${name}`, 'not found on PATH', `minictr runs ${name} to ${name === 'ip' ? 'create namespaces, veths and bridges' : name.startsWith('iptables') ? 'install its firewall rules' : 'start and enter containers'}: nothing works without it`, `apt-get install ${pkg}`)
        : warn(`tool ${name}`, 'not found on PATH', 'removing a container cannot forget its UDP flows: datagrams may keep going to the removed address for a while', `apt-get install ${pkg}`),
    );
  }
  const bb = facts.busybox;
  if (!bb) {
    out.push(blocker('busybox', 'not found', 'the default image (busybox) is built from the host\'s static busybox, and every container\'s init runs it', 'apt-get install busybox-static'));
  } else if (!bb.static) {
    out.push(blocker('busybox', `${bb.path} is dynamically linked`, 'after pivot_root a dynamic binary no longer finds its loader: containers cannot start', 'apt-get install busybox-static (it replaces the dynamic one)'));
  } else {
    out.push(ok('busybox', `${bb.path}, static${bb.version ? `: ${bb.version}` : ''}`));
  }
  return out;
}

/** One family's iptables program: which backend it uses, and whether the other backend holds rules too. */
function backendFindingOf(program: 'iptables' | 'ip6tables', version: string | undefined, activeSave: string | undefined, otherSave: string | undefined): Finding {
  const check = `${program} backend`;
  const backend = iptablesBackend(version?.replace(/^ip6tables/, 'iptables'));
  if (!backend) return warn(check, `unknown (${version ?? `${program} -V gave nothing`})`, 'cannot tell where minictr\'s rules go, or whether another backend holds rules too', `check \`${program} -V\` and \`update-alternatives --display ${program}\``);
  const other = backend === 'nf_tables' ? 'legacy' : 'nf_tables';
  const otherTool = `${program}-${other === 'legacy' ? 'legacy' : 'nft'}-save`;
  const here = activeSave === undefined ? undefined : countRules(activeSave);
  const there = otherSave === undefined ? undefined : countRules(otherSave);
  const summary = `minictr uses ${backend}${here ? ` (${here.rules} rules, ${here.minictr} of them minictr's)` : ''}`;
  if (there && there.minictr > 0) {
    return warn(check, `${summary}; ${there.minictr} minictr rules sit in ${other}`, `those rules were made by minictr under the other backend and still act on packets; minictr no longer sees or removes them`, `list them with ${otherTool} | grep -i minictr and delete them there`);
  }
  if (there && there.rules > 0) {
    return warn(check, `${summary}; ${there.rules} rules in ${other} too`, `both rule sets apply, in an order nobody chose: a DROP in ${other} (e.g. another tool's FORWARD policy) drops what minictr accepted`, `use one backend for every tool (update-alternatives --config ${program}), or check \`${otherTool}\` allows container traffic`);
  }
  return ok(check, `${summary}; nothing in ${other}`);
}

function backendFinding(facts: DoctorFacts): Finding {
  return backendFindingOf('iptables', facts.iptablesVersion, facts.activeSave, facts.otherSave);
}

/** The networks that ask for IPv6 (the default one too, when config.json gives it IPv6). */
function ipv6Networks(facts: DoctorFacts): { name: string; firewall: string }[] {
  return (facts.networkFirewalls ?? []).filter((n) => n.ipv6 === true);
}

/**
 * IPv6, checked when a network asks for it: the kernel has it (and has it on), the host forwards
 * it (Docker sets net.ipv6.conf.all.forwarding for --ipv6 too), and ip6tables uses one backend.
 */
export function ipv6Findings(facts: DoctorFacts): Finding[] {
  const wanting = ipv6Networks(facts);
  if (wanting.length === 0) return [ok('IPv6', 'no network asks for it (network create --ipv6)')];
  const names = wanting.map((n) => n.name).join(', ');
  const out: Finding[] = [];
  if (facts.ipv6Kernel === false) {
    out.push(blocker('IPv6', `the kernel has no IPv6 (/proc/sys/net/ipv6 is missing); network(s) ${names} ask for it`, 'their bridges and containers cannot get IPv6 addresses: starting a container there fails', 'boot without ipv6.disable=1 (or load the ipv6 module), or remove those networks and create them without --ipv6'));
    return out;
  }
  if (facts.ipv6Disabled === '1') {
    out.push(warn('IPv6', `net.ipv6.conf.all.disable_ipv6 = 1; network(s) ${names} ask for IPv6`, 'the host\'s own interfaces have no IPv6: containers\' IPv6 reaches the bridge and each other, nothing beyond the host (minictr turns it on for its bridges only)', 'sysctl -w net.ipv6.conf.all.disable_ipv6=0 (and the same in /etc/sysctl.d to keep it), or create those networks without --ipv6'));
  } else {
    out.push(ok('IPv6', `the kernel has IPv6; network(s) with it: ${names}`));
  }
  if (facts.ipv6Forward === '1') out.push(ok('ipv6 forwarding', 'net.ipv6.conf.all.forwarding = 1'));
  else {
    out.push(warn('ipv6 forwarding', `net.ipv6.conf.all.forwarding = ${facts.ipv6Forward ?? '?'}`, 'containers\' IPv6 cannot reach beyond the host until minictr sets it again (it does when it sets up a network with IPv6, as Docker does); with it on, the host ignores router advertisements unless accept_ra = 2', 'nothing needed for minictr; to keep it across reboots: echo net.ipv6.conf.all.forwarding=1 > /etc/sysctl.d/99-minictr.conf (and accept_ra=2 on an uplink configured by SLAAC)'));
  }
  if (facts.tools.some((t) => t.name === 'ip6tables' && t.found) && wanting.some((n) => n.firewall === 'iptables')) {
    out.push(backendFindingOf('ip6tables', facts.tools.find((t) => t.name === 'ip6tables')?.version, facts.activeSave6, facts.otherSave6));
  }
  return out;
}

function forwardFinding(facts: DoctorFacts): Finding {
  if (facts.activeSave === undefined) {
    return facts.root ? warn('FORWARD chain', 'iptables-save gave nothing', 'cannot check what decides forwarded traffic', 'run `iptables-save` by hand') : warn('FORWARD chain', 'not checked (needs root)', 'cannot check what decides forwarded traffic', 'run minictr doctor as root');
  }
  const dump = parseIptablesSave(facts.activeSave);
  const policy = dump.chains.find((c) => c.table === 'filter' && c.chain === 'FORWARD')?.policy ?? 'ACCEPT';
  const forward = dump.rules.filter((r) => r.table === 'filter' && r.chain === 'FORWARD');
  const firstMine = forward.findIndex((r) => isMinictrRule(r.line));
  const ahead = firstMine > 0 ? forward.slice(0, firstMine) : [];
  const blocking = ahead.find((r) => / -j (DROP|REJECT)\b/.test(r.line)) ?? ahead[0];
  if (blocking) {
    return warn('FORWARD chain', `policy ${policy}; ${ahead.length} rule(s) ahead of minictr's jumps, e.g. ${blocking.line}`, 'containers\' traffic meets those rules first: a DROP/REJECT there cuts containers off', '`minictr network reload` puts minictr\'s jumps back at the head of FORWARD');
  }
  if (policy === 'DROP') return ok('FORWARD chain', 'policy DROP (Docker sets this); minictr\'s jumps come first, so iptables-driver networks are unaffected');
  return ok('FORWARD chain', `policy ${policy}; minictr's raw-table guards still keep other machines from routing to containers directly`);
}

function overlapFindings(facts: DoctorFacts): Finding[] {
  const out: Finding[] = [];
  const nets = [...facts.networks];
  if (!nets.some((n) => n.name === DEFAULT_NETWORK.name)) nets.push({ ...DEFAULT_NETWORK });
  const bridges = new Set(nets.map((n) => n.bridge));
  const servers = nameservers(facts.resolvConf);
  let clashes = 0;
  for (const net of nets) {
    for (const route of facts.routes) {
      if (route.dst === 'default' || (route.dev !== undefined && bridges.has(route.dev))) continue;
      const dst = route.dst.includes('/') ? route.dst : `${route.dst}/32`;
      if (!isIPv4(dst.split('/')[0] ?? '')) continue;
      let overlaps = false;
      try {
        overlaps = subnetsOverlap(dst, net.subnet);
      } catch {
        continue;
      }
      if (!overlaps) continue;
      clashes++;
      out.push(
        blocker(
          'subnets',
          `network ${net.name} (${net.subnet}) overlaps the host route ${route.dst}${route.dev ? ` dev ${route.dev}` : ''}`,
          `addresses in ${route.dst} become unreachable from containers, and from the host once ${net.bridge} is up`,
          net.name === DEFAULT_NETWORK.name
            ? `the default network's subnet is fixed (${DEFAULT_NETWORK.subnet}, the article's): move the other network, or run containers on a user network with a free subnet`
            : `remove network ${net.name} and create it again with a free subnet`,
        ),
      );
    }
    for (const ns of servers) {
      if (!isIPv4(ns) || !contains(net.subnet, ns)) continue;
      clashes++;
      out.push(blocker('subnets', `nameserver ${ns} lies inside network ${net.name} (${net.subnet})`, `once ${net.bridge} is up, DNS queries to ${ns} go to the bridge: name resolution fails on the host and in containers`, `give network ${net.name} another subnet, or use another nameserver`));
    }
  }
  if (clashes === 0) out.push(ok('subnets', `${nets.map((n) => `${n.name} ${n.subnet}`).join(', ')}: no overlap with host routes or nameservers`));
  return out;
}

/** The tables of an nft ruleset that another tool made, by what they are. */
export function nftTableOwners(ruleset: string): { table: string; owner: string }[] {
  const tables = [...new Set(parseNftJson(ruleset).chains.map((c) => c.table))];
  const known: [RegExp, string][] = [
    [/^inet minictr$/, 'minictr'],
    [/^(ip|ip6) docker-bridges$/, 'Docker 29 (nftables backend)'],
    [/^inet firewalld$/, 'firewalld'],
    [/^inet netavark$/, 'podman (netavark)'],
    [/^(ip|ip6|inet|arp|bridge) (filter|nat|raw|mangle|security)$/, 'iptables-nft'],
  ];
  return tables.map((table) => ({ table, owner: known.find(([re]) => re.test(table))?.[1] ?? 'another tool' }));
}

/**
 * Which firewall driver new networks get, and whether the host's other firewalls let the
 * nftables driver's traffic through: in nftables an accept ends only its own base chain, so a
 * drop policy in any other table's forward chain (iptables-nft's FORWARD, firewalld's) still
 * drops it. iptables-driver networks are not affected (their jumps sit at the head of FORWARD).
 */
function firewallFindings(facts: DoctorFacts): Finding[] {
  const out: Finding[] = [];
  const byDriver = (name: string): string[] => (facts.networkFirewalls ?? []).filter((n) => n.firewall === name).map((n) => n.name);
  if (facts.firewall?.name === '?') {
    out.push(warn('firewall driver', facts.firewall.from, 'new networks (the default one too, on first use) cannot be made until the setting is fixed', 'set MINICTR_FIREWALL (or "firewall" in the state dir\'s config.json) to iptables or nftables'));
  } else if (facts.firewall) {
    const nft = byDriver('nftables');
    const ipt = byDriver('iptables');
    out.push(ok('firewall driver', `new networks get ${facts.firewall.name} (${facts.firewall.from}); iptables: ${ipt.join(', ') || 'none'}; nftables: ${nft.join(', ') || 'none'}`));
  }
  const nftNetworks = byDriver('nftables');
  if (facts.nftRuleset === undefined) return out;
  const dump = parseNftJson(facts.nftRuleset);
  const others = nftTableOwners(facts.nftRuleset).filter((t) => t.owner !== 'minictr' && t.owner !== 'iptables-nft');
  if (others.length > 0) {
    out.push(
      warn(
        'other nftables rules',
        others.map((t) => `${t.table} (${t.owner})`).join(', '),
        'every table sees every packet: a drop in theirs wins over an accept in minictr\'s (an accept ends only its own chain)',
        'check their forward chains let minictr\'s bridges through (iifname/oifname "minictr*" accept), or keep those networks on -o firewall=iptables',
      ),
    );
  }
  if (nftNetworks.length > 0) {
    const ipFilter = facts.activeSave === undefined ? undefined : parseIptablesSave(facts.activeSave).chains.find((c) => c.table === 'filter' && c.chain === 'FORWARD');
    const drops = [
      ...dump.chains.filter((c) => c.table !== 'inet minictr' && c.policy === 'drop' && /^(ip|ip6|inet) /.test(c.table) && /forward/i.test(c.chain)).map((c) => (c.table === 'ip filter' && c.chain === 'FORWARD' ? 'iptables FORWARD policy DROP' : `${c.table} ${c.chain} policy drop`)),
      ...(ipFilter?.policy === 'DROP' && !dump.chains.some((c) => c.table === 'ip filter' && c.chain === 'FORWARD') ? ['iptables FORWARD policy DROP'] : []),
    ];
    if (drops.length > 0) {
      out.push(
        warn(
          'forward drop vs nftables',
          `${drops.join('; ')}; networks on nftables: ${nftNetworks.join(', ')}`,
          'traffic to and from containers on those networks is dropped there, whatever minictr\'s table accepts (Docker 29 and netavark have the same limit)',
          'accept minictr\'s bridges ahead of that drop (iptables -I FORWARD -i minictr+ -j ACCEPT; iptables -I FORWARD -o minictr+ -j ACCEPT; in nft: insert rule TABLE CHAIN iifname "minictr*" accept, and oifname), safe since minictr\'s own table still drops what it must (a drop is final in every table); or use -o firewall=iptables for them',
        ),
      );
    } else {
      out.push(ok('forward drop vs nftables', 'no other forward chain drops by policy'));
    }
  }
  if (facts.otherSave !== undefined && iptablesBackend(facts.iptablesVersion) === 'nf_tables' && countRules(facts.otherSave).rules > 0 && nftNetworks.length > 0) {
    out.push(
      warn(
        'iptables-legacy and nftables',
        `${countRules(facts.otherSave).rules} rules in iptables-legacy beside nftables`,
        'legacy xtables and nftables both see every packet, in an order nobody chose: a legacy DROP drops what minictr\'s nftables table accepted',
        'move those rules to one backend (iptables-legacy-save | iptables-nft-restore), or check they allow minictr\'s bridges',
      ),
    );
  }
  return out;
}

function dnsFinding(facts: DoctorFacts): Finding {
  const servers = nameservers(facts.resolvConf);
  const usable = servers.filter((s) => !/^(127\.|::1$)/.test(s));
  if (servers.length === 0) return warn('DNS', 'no nameserver in /etc/resolv.conf', 'containers cannot resolve names', 'configure a nameserver on the host');
  if (usable.length === 0) {
    return warn('DNS', `only loopback nameservers (${servers.join(', ')}): a local stub such as systemd-resolved`, 'containers cannot reach the host\'s 127.x, so minictr leaves them out: containers get no nameserver', 'point /etc/resolv.conf at the real upstream servers (e.g. ln -sf /run/systemd/resolve/resolv.conf /etc/resolv.conf)');
  }
  return ok('DNS', `containers get nameserver ${usable.join(', ')}`);
}

/** Every check, in the order a person would fix them. */
export function evaluate(facts: DoctorFacts): Finding[] {
  if (facts.rootless) return rootlessFindings(facts.rootless);
  const findings: Finding[] = [];
  if (!facts.root) findings.push(blocker('root', 'not running as root', 'minictr creates namespaces and changes the network: it needs root', 'run it with sudo'));
  findings.push(...toolFindings(facts));
  findings.push(backendFinding(facts));
  if (facts.ipForward === '1') findings.push(ok('ip_forward', 'net.ipv4.ip_forward = 1'));
  else {
    findings.push(warn('ip_forward', `net.ipv4.ip_forward = ${facts.ipForward ?? '?'}`, 'containers cannot reach beyond the host until minictr sets it again (it does on every run and network reload)', 'nothing needed for minictr; to keep it across reboots: echo net.ipv4.ip_forward=1 > /etc/sysctl.d/99-minictr.conf'));
  }
  if (!facts.brNetfilter) {
    findings.push(warn('br_netfilter', 'not loaded (/proc/sys/net/bridge is missing)', 'traffic between containers on one bridge skips iptables: a container reaching another (or itself) through a published port gets no reply', 'modprobe br_netfilter; echo br_netfilter > /etc/modules-load.d/minictr.conf'));
  } else if (facts.bridgeNfCallIptables !== '1') {
    findings.push(warn('br_netfilter', `loaded, bridge-nf-call-iptables = ${facts.bridgeNfCallIptables ?? '?'}`, 'bridged traffic skips iptables until minictr sets it to 1 again (it does when it sets up a network)', 'nothing needed for minictr; sysctl -w net.bridge.bridge-nf-call-iptables=1 to set it now'));
  } else {
    findings.push(ok('br_netfilter', 'loaded, bridge-nf-call-iptables = 1'));
  }
  findings.push(forwardFinding(facts));
  findings.push(...ipv6Findings(facts));
  findings.push(...firewallFindings(facts));
  const bypass = 'published ports bypass INPUT: DNAT happens in PREROUTING and FORWARD decides, so host firewall INPUT rules never see them';
  if (facts.firewalld) {
    findings.push(warn('firewalld', 'running', `a firewalld reload flushes iptables and with it minictr's rules (containers lose their network); and ${bypass}`, 'after `firewall-cmd --reload` run `minictr network reload`; filter published ports in the MINICTR-USER chain'));
  } else {
    findings.push(ok('firewalld', 'not running'));
  }
  if (facts.ufw) {
    findings.push(warn('ufw', 'enabled', `${bypass}: \`ufw deny\` does not protect a published port`, 'publish on 127.0.0.1 (-p 127.0.0.1:8080:80) or put DROP rules in MINICTR-USER; ufw reload also wipes rules: then `minictr network reload`'));
  } else {
    findings.push(ok('ufw', 'not enabled'));
  }
  findings.push(...overlapFindings(facts));
  findings.push(dnsFinding(facts));
  findings.push(
    overlaySupported(facts.filesystems)
      ? ok('overlayfs', 'available')
      : warn('overlayfs', 'not in /proc/filesystems', 'each container gets a full copy of its image instead of an overlay: slower to start, more disk', 'modprobe overlay'),
  );
  return findings;
}

export function exitCodeFor(findings: Finding[]): 0 | 1 {
  return findings.some((f) => f.status === 'blocker') ? 1 : 0;
}

const LABEL: Record<Status, string> = { ok: 'ok', warn: 'WARN', blocker: 'BLOCKER' };

export function renderFindings(findings: Finding[]): string {
  const lines: string[] = [];
  const rows = columns(findings.map((f) => [LABEL[f.status], f.check, f.summary]), { indent: '  ' });
  const pad = ' '.repeat(2 + Math.max(...findings.map((f) => LABEL[f.status].length)) + 2);
  findings.forEach((f, i) => {
    lines.push(rows[i] ?? '');
    if (f.status !== 'ok') lines.push(`${pad}→ ${f.consequence}`, `${pad}fix: ${f.fix}`);
  });
  const warns = findings.filter((f) => f.status === 'warn').length;
  const blockers = findings.filter((f) => f.status === 'blocker').length;
  lines.push('', blockers > 0 ? `${blockers} blocker(s), ${warns} warning(s): minictr cannot work here until the blockers are fixed` : `${warns} warning(s), no blockers`);
  return `${lines.join('\n')}\n`;
}
