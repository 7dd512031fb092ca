// What `minictr doctor` looks at: facts about the host, gathered through the Runner and /proc.
// Their evaluation is pure (src/explain/doctor.ts). Works without root too (some facts are then
// left out, and the evaluation says so).
import { pathExists } from '../base/path-exists.js';
import { access, readFile, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Runner } from '../exec/runner.js';
import { readElf } from '../image/elf.js';
import type { Store } from '../state/store.js';
import { parseRoutes } from '../explain/inspect-net.js';
import { DEFAULT_FIREWALL } from '../network/drivers.js';
import { firewallSource } from './firewall-choice.js';
import { listNetworks } from './networks.js';
import {
  OPTIONAL_TOOLS,
  REQUIRED_TOOLS,
  iptablesBackend,
  type BusyboxFact,
  type DoctorFacts,
  type ToolFact,
} from '../explain/doctor.js';

const text = (path: string): Promise<string | undefined> => readFile(path, 'utf8').then((t) => t, () => undefined);

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

/** stdout of a command that may be missing or fail; undefined then. */
async function output(runner: Runner, argv: string[]): Promise<string | undefined> {
  if (!(await onPath(argv[0] ?? ''))) return undefined;
  try {
    const r = await runner.run(argv, { allowFailure: true });
    return r.exitCode === 0 ? r.stdout : undefined;
  } catch {
    return undefined;
  }
}

/** First line a tool prints about its version (some print it on stderr). */
async function toolFact(runner: Runner, name: string): Promise<ToolFact> {
  if (!(await onPath(name))) return { name, found: false };
  try {
    const r = await runner.run([name, '-V'], { allowFailure: true });
    const first = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).find(Boolean);
    return first ? { name, found: true, version: first } : { name, found: true };
  } catch {
    return { name, found: false };
  }
}

async function busyboxFact(runner: Runner): Promise<BusyboxFact | undefined> {
  const candidates = [...new Set(['/bin/busybox', '/usr/bin/busybox', ...((await onPath('busybox')) ? [(await onPath('busybox')) as string] : [])])];
  let dynamic: BusyboxFact | undefined;
  for (const path of candidates) {
    if (!(await access(path, constants.X_OK).then(() => true, () => false))) continue;
    let elf;
    try {
      elf = readElf(path);
    } catch {
      continue;
    }
    const help = await runner.run([path, '--help'], { allowFailure: true }).catch(() => undefined);
    const version = help ? `${help.stdout}\n${help.stderr}`.split('\n').find((l) => l.startsWith('BusyBox'))?.trim() : undefined;
    const fact: BusyboxFact = version ? { path, static: elf.interpreter === undefined, version } : { path, static: elf.interpreter === undefined };
    if (fact.static) return fact;
    dynamic ??= fact;
  }
  return dynamic;
}

async function firewalldRunning(runner: Runner): Promise<boolean> {
  if (await onPath('systemctl')) {
    const r = await runner.run(['systemctl', 'is-active', 'firewalld'], { allowFailure: true }).catch(() => undefined);
    const state = r?.stdout.trim();
    // Without systemd as init, systemctl answers nothing useful: fall back to firewalld's run directory.
    if (state === 'active' || state === 'activating' || state === 'reloading') return true;
    if (state === 'inactive' || state === 'failed' || state === 'unknown') return false;
  }
  return pathExists('/run/firewalld');
}

async function networks(store: Store): Promise<DoctorFacts['networks']> {
  try {
    return (await store.listNetworks()).map((n) => ({ name: n.name, bridge: n.bridge, subnet: n.subnet }));
  } catch {
    return [];
  }
}

/**
 * One family's iptables-save of the backend its program uses, and of the other backend (empty
 * when the legacy tables were never loaded: reading them would load the legacy modules).
 */
async function saves(runner: Runner, program: 'iptables' | 'ip6tables', version: string | undefined): Promise<[string | undefined, string | undefined]> {
  const backend = iptablesBackend(version?.replace(/^ip6tables/, 'iptables'));
  const legacyLoaded = ((await text(program === 'iptables' ? '/proc/net/ip_tables_names' : '/proc/net/ip6_tables_names')) ?? '').trim() !== '';
  return Promise.all([
    output(runner, [`${program}-save`]),
    backend === 'nf_tables'
      ? legacyLoaded
        ? output(runner, [`${program}-legacy-save`])
        : Promise.resolve('')
      : backend === 'legacy'
        ? output(runner, [`${program}-nft-save`])
        : Promise.resolve(undefined),
  ]);
}

export async function collectDoctorFacts(runner: Runner, store: Store): Promise<DoctorFacts> {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const iptablesVersion = (await toolFact(runner, 'iptables')).version;
  const [activeSave, otherSave] = root ? await saves(runner, 'iptables', iptablesVersion) : [undefined, undefined];
  const [tools, busybox, ipForward, brNetfilter, bridgeNf, firewalld, ufwConf, nets, routes, resolvConf, filesystems] = await Promise.all([
    Promise.all([...REQUIRED_TOOLS, ...OPTIONAL_TOOLS].map((t) => toolFact(runner, t))),
    busyboxFact(runner),
    text('/proc/sys/net/ipv4/ip_forward'),
    pathExists('/proc/sys/net/bridge'),
    text('/proc/sys/net/bridge/bridge-nf-call-iptables'),
    firewalldRunning(runner),
    text('/etc/ufw/ufw.conf'),
    networks(store),
    output(runner, ['ip', '-j', 'route', 'show']),
    text('/etc/resolv.conf'),
    text('/proc/filesystems'),
  ]);
  const facts: DoctorFacts = {
    root,
    brNetfilter,
    firewalld,
    ufw: /^\s*ENABLED\s*=\s*yes\s*$/m.test(ufwConf ?? ''),
    networks: nets,
    routes: routes ? parseRoutes(routes) : [],
    resolvConf: resolvConf ?? '',
    tools,
    filesystems: filesystems ?? '',
  };
  if (iptablesVersion !== undefined) facts.iptablesVersion = iptablesVersion;
  if (activeSave !== undefined) facts.activeSave = activeSave;
  if (otherSave !== undefined) facts.otherSave = otherSave;
  if (ipForward !== undefined) facts.ipForward = ipForward.trim();
  if (bridgeNf !== undefined) facts.bridgeNfCallIptables = bridgeNf.trim();
  if (busybox) facts.busybox = busybox;
  facts.firewall = firewallSource(store);
  facts.networkFirewalls = (await listNetworks(store).catch(() => [])).map((n) => ({ name: n.name, firewall: n.firewall ?? DEFAULT_FIREWALL, ...(n.subnet6 ? { ipv6: true } : {}) }));
  facts.ipv6Kernel = await pathExists('/proc/sys/net/ipv6');
  const [ipv6Disabled, ipv6Forward] = await Promise.all([text('/proc/sys/net/ipv6/conf/all/disable_ipv6'), text('/proc/sys/net/ipv6/conf/all/forwarding')]);
  if (ipv6Disabled !== undefined) facts.ipv6Disabled = ipv6Disabled.trim();
  if (ipv6Forward !== undefined) facts.ipv6Forward = ipv6Forward.trim();
  if (root && facts.networkFirewalls.some((n) => n.ipv6 === true)) {
    const [activeSave6, otherSave6] = await saves(runner, 'ip6tables', tools.find((t) => t.name === 'ip6tables')?.version);
    if (activeSave6 !== undefined) facts.activeSave6 = activeSave6;
    if (otherSave6 !== undefined) facts.otherSave6 = otherSave6;
  }
  if (root && (await onPath('nft'))) {
    const r = await runner.run(['nft', '-j', 'list', 'ruleset'], { allowFailure: true }).catch((e: unknown) => ({ exitCode: 1, stdout: '', stderr: e instanceof Error ? e.message : String(e) }));
    if (r.exitCode === 0) {
      facts.nftRuleset = r.stdout;
      facts.nftJson = { works: true };
    } else {
      facts.nftJson = { works: false, said: r.stderr.split('\n').map((l) => l.trim()).find(Boolean) ?? `exit status ${r.exitCode}` };
    }
  }
  return facts;
}
