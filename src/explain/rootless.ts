// The rootless steps of `run --dry-run`, as a runnable script with a why per step: the user
// namespace and its id maps, the network helper with its exact arguments, each port forward,
// and the limits of each mode. Pure: given the plan's data, returns script lines.
import type { PortMapping } from '../base/records.js';
import { HELPER_NOTES, SLIRP, idMapperArgv, pastaArgv, slirpArgv, slirpForward, type RootlessHelper } from '../network/rootless-helpers.js';
import { shellLine, shellQuote } from './render.js';

interface Range {
  start: number;
  count: number;
}

export interface RootlessRunView {
  uid: number;
  gid: number;
  uids?: Range;
  gids?: Range;
  helper?: RootlessHelper;
  ports: PortMapping[];
  /** Files of the container's directory the steps use. */
  pidFile: string;
  netReady: string;
  helperPidFile: string;
  apiSocket: string;
}

/** The script's own $PID, expanded: shellQuote's single quotes become double ones around words that hold it. */
function withPid(line: string): string {
  return line.replace(/'([^' ]*\$PID[^' ]*)'/g, '"$1"');
}

/** Said before the container's init: what its user namespace maps, and who writes the maps. */
export function userNamespaceLines(v: RootlessRunView): string[] {
  const lines = [
    '# rootless: the container runs in a user namespace of its own, made by unshare --user with the init below;',
    '# root inside is you, so it may mount, pivot_root and hold Docker\'s capabilities there, and nothing outside it.',
  ];
  if (v.uids && v.gids) {
    lines.push(
      '# unshare runs the setuid helpers of "uidmap" for it (a normal user may write only a one-id map itself):',
      `#   ${withPid(shellLine(idMapperArgv('newuidmap', '$PID', v.uid, v.uids)))}   # uid_map: 0 ${v.uid} 1, 1 ${v.uids.start} ${v.uids.count}`,
      `#   ${withPid(shellLine(idMapperArgv('newgidmap', '$PID', v.gid, v.gids)))}   # gid_map: 0 ${v.gid} 1, 1 ${v.gids.start} ${v.gids.count}`,
      '# so files of other owners in the image keep them, as ids of your subordinate range.',
    );
  } else {
    lines.push(`# no subordinate range: unshare writes "0 ${v.uid} 1" to uid_map and "0 ${v.gid} 1" to gid_map itself: only root exists inside.`);
  }
  lines.push('# no cgroup is delegated to a normal user: the container gets none, and limits are refused.');
  if (v.helper) {
    lines.push(
      '# the FIFO the init waits on until pasta or slirp4netns has connected its network namespace',
      `rm -f ${shellQuote(v.netReady)}; mkfifo -m 600 ${shellQuote(v.netReady)}`,
    );
  }
  return lines;
}

/** After the init is started in the background: its pid, the helper, the ports, then "up". */
export function helperLines(v: RootlessRunView): string[] {
  if (!v.helper) return [];
  const lines = [
    '# the init writes its host pid, then waits on the FIFO until its network is connected',
    `until [ -s ${shellQuote(v.pidFile)} ]; do sleep 0.01; done; PID=$(cat ${shellQuote(v.pidFile)})`,
    ...HELPER_NOTES[v.helper].map((n) => `# ${n}`),
  ];
  if (v.helper === 'pasta') {
    lines.push(
      `# pasta joins /proc/$PID/ns/user and /proc/$PID/ns/net${v.ports.length ? `, listens on ${v.ports.map((p) => `${p.hostIp || '*'}:${p.hostPort}/${p.proto}`).join(', ')} for the container` : ', forwards no port'}, and daemonizes once configured`,
      withPid(shellLine(pastaArgv('$PID', v.ports, v.helperPidFile))),
    );
  } else {
    lines.push(
      `# tap0 at ${SLIRP.ip}/24, gateway ${SLIRP.gateway}, DNS ${SLIRP.dns}, MTU ${SLIRP.mtu}; the host's loopback not reachable through the gateway; it says "1" on fd 3 when ready`,
      `${withPid(shellLine(slirpArgv('$PID', v.apiSocket)))} 3>/dev/null &`,
      `until [ -S ${shellQuote(v.apiSocket)} ]; do sleep 0.01; done`,
      ...v.ports.flatMap((p) => [
        `# publish ${p.hostIp || '0.0.0.0'}:${p.hostPort} → ${SLIRP.ip}:${p.containerPort}/${p.proto} (one request per connection on the API socket)`,
        `printf '%s' ${shellQuote(slirpForward(p))} | socat - UNIX-CONNECT:${shellQuote(v.apiSocket)}`,
      ]),
    );
  }
  lines.push('# the network is up: the init goes on', `echo up > ${shellQuote(v.netReady)}`);
  return lines;
}

/** What `network diagram` shows of a rootless user's containers (runtime/rootless-bridge.ts gathers it). */
export interface RootlessTopology {
  user: string;
  uid: number;
  containers: { name: string; mode: string; pid: number; helperPid?: number; ip?: string; ports: PortMapping[] }[];
  networks: { name: string; bridge: string; subnet: string; gateway: string }[];
  /** The rootless namespace, while it exists. */
  holder?: { pid: number; pastaPid: number };
}

function portsText(ports: PortMapping[]): string {
  return ports.length === 0 ? '' : `; ${ports.map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.proto}`).join(', ')}`;
}

/** The rootless topology as a box-drawing tree: what the user's own processes connect, nothing of the host's. */
export function renderRootlessTopology(t: RootlessTopology, only?: string): string {
  const lines = [`rootless minictr of ${t.user} (uid ${t.uid}): nothing on the host's network is changed; helpers connect each namespace`];
  const helpers = t.containers.filter((c) => c.mode === 'pasta' || c.mode === 'slirp4netns');
  const items: string[][] = [];
  if (only === undefined) {
    for (const c of helpers) {
      const what = c.mode === 'pasta'
        ? "a copy of the host's address and routes"
        : `tap0 ${SLIRP.ip}/24 via ${SLIRP.gateway}, DNS ${SLIRP.dns} (no address of its own outside)`;
      items.push([`${c.name}  --network ${c.mode}  (${c.mode} pid ${c.helperPid ?? '?'}: ${what}${portsText(c.ports)})`]);
    }
  }
  const nets = t.networks.filter((n) => only === undefined || n.name === only);
  if (nets.length > 0) {
    const sub = [t.holder
      ? `rootless namespace (holder pid ${t.holder.pid}, its pasta pid ${t.holder.pastaPid}: a copy of the host's address; NAT for each bridge)`
      : 'rootless namespace (not running: made when a container joins a network)'];
    nets.forEach((n, i) => {
      const last = i === nets.length - 1;
      sub.push(`${last ? '└──' : '├──'} ${n.name}  bridge ${n.bridge} ${n.gateway} (${n.subnet})`);
      const members = t.containers.filter((c) => c.mode === n.name);
      members.forEach((c, j) => sub.push(`${last ? '    ' : '│   '}${j === members.length - 1 ? '└──' : '├──'} ${c.name}  ${c.ip ?? '(starting)'}  eth0 ↔ veth on ${n.bridge}`));
    });
    items.push(sub);
  }
  if (items.length === 0) lines.push('└── (no running container with a network of its own, and no network)');
  items.forEach((item, i) => {
    const last = i === items.length - 1;
    item.forEach((l, j) => lines.push(j === 0 ? `${last ? '└──' : '├──'} ${l}` : `${last ? '    ' : '│   '}${l}`));
  });
  return `${lines.join('\n')}\n`;
}
