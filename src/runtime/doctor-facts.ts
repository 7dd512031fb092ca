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

export async function collectDoctorFacts(runner: Runner, store: Store): Promise<DoctorFacts> {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const iptablesVersion = (await toolFact(runner, 'iptables')).version;
  const backend = iptablesBackend(iptablesVersion);
  // Reading legacy tables that were never loaded would load the legacy modules: look first.
  const legacyLoaded = ((await text('/proc/net/ip_tables_names')) ?? '').trim() !== '';
  const [activeSave, otherSave] = root
    ? await Promise.all([
        output(runner, ['iptables-save']),
        backend === 'nf_tables'
          ? legacyLoaded
            ? output(runner, ['iptables-legacy-save'])
            : Promise.resolve('')
          : backend === 'legacy'
            ? output(runner, ['iptables-nft-save'])
            : Promise.resolve(undefined),
      ])
    : [undefined, undefined];
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
  facts.networkFirewalls = (await listNetworks(store).catch(() => [])).map((n) => ({ name: n.name, firewall: n.firewall ?? DEFAULT_FIREWALL }));
  const nftRuleset = root ? await output(runner, ['nft', '-j', 'list', 'ruleset']) : undefined;
  if (nftRuleset !== undefined) facts.nftRuleset = nftRuleset;
  return facts;
}
