// Bridge networking with real traffic, inside the sandbox: a "host" namespace where minictr
// runs and an "outside world" namespace (10.99.0.2) behind it. One sandbox and a few
// containers are shared by the tests below, which run in order (later ones build on earlier).
// The same matrix runs once per firewall driver (network.test.ts, network-nft.test.ts); what
// differs between them (how the ruleset reads, how a firewall reload wipes it) is in
// ./firewall-probe.ts. Nothing here touches the real host's network: every command goes through Sandbox.
import { describe, test, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readlink, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firewallProbe } from './firewall-probe.js';
import { HOST_IP, WAN_IP, Sandbox, eventually, isRoot, type FirewallName, type Result } from './sandbox.js';

const GATEWAY = '172.18.0.1';
const WAN_URL = `http://${WAN_IP}:8080/cgi-bin/ip`;
const CGI = '#!/bin/sh\necho Content-Type: text/plain\necho\necho $REMOTE_ADDR\n';

/**
 * web's command: read eth0's address at the first instruction and bind the server to it, so the
 * server only starts if eth0 is configured before the process runs. Serves /hostname and a CGI
 * that prints the client address.
 */
const WEB_SCRIPT = [
  `A=$(ip -o -4 addr show eth0 | awk '{print $4}' | cut -d/ -f1)`,
  `[ -n "$A" ] || { echo "eth0 has no address at start" >&2; exit 3; }`,
  'mkdir -p /www/cgi-bin',
  `printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/ip`,
  'chmod +x /www/cgi-bin/ip',
  'hostname > /www/hostname',
  'exec httpd -f -p "$A:5000" -h /www',
].join('\n');

/** The sandbox host's own firewall rules: minictr must leave them as it found them, and a reload puts them back. */
const HOST_RULES = [
  ['iptables', '-w', '-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT'],
  ['iptables', '-w', '-A', 'FORWARD', '-s', '192.0.2.0/24', '-j', 'ACCEPT'],
  ['iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-s', '192.0.2.0/24', '-j', 'RETURN'],
  ['iptables', '-w', '-t', 'raw', '-A', 'PREROUTING', '-s', '192.0.2.0/24', '-j', 'ACCEPT'],
];

/** The whole matrix, with `firewall` as the sandbox's default firewall driver. */
export function networkMatrix(firewall: FirewallName): void {
  const sb = new Sandbox({ firewall });
  const fw = firewallProbe(sb, firewall);
  /** Helpers this file starts itself (servers in a container's netns); killed by pid in after(). */
  const children: ChildProcess[] = [];

  // ---------- small helpers ----------

  function describeResult(r: Result): string {
    return `exit ${r.code}; stdout: ${JSON.stringify(r.stdout.slice(0, 500))}; stderr: ${JSON.stringify(r.stderr.slice(0, 500))}`;
  }

  async function must(p: Promise<Result>, what: string): Promise<string> {
    const r = await p;
    assert.equal(r.code, 0, `${what} failed: ${describeResult(r)}`);
    return r.stdout;
  }

  const mc = (args: string[]): Promise<Result> => sb.minictr(args);
  const mcOk = (args: string[]): Promise<string> => must(sb.minictr(args), `minictr ${args.join(' ')}`);

  /** busybox wget with a bounded wait (Debian's busybox `wget -T` crashes). */
  const wget = (url: string, secs = 3): string[] => ['timeout', String(secs), 'busybox', 'wget', '-qO-', url];
  /** Inside a container (busybox applets on its PATH). */
  const wgetIn = (url: string, secs = 5): string[] => ['timeout', String(secs), 'wget', '-qO-', url];
  /** A TCP connection that sends nothing and prints what the server says. */
  const ncArgv = (ip: string, port: number, secs = 3): string[] => [
    'sh',
    '-c',
    `timeout ${secs} busybox nc ${ip} ${port} </dev/null`,
  ];

  function ipIn(text: string): string | undefined {
    return /(\d+\.\d+\.\d+\.\d+)/.exec(text)?.[1];
  }

  /** The same rules, possibly in another order within a chain; on failure, name the lines that differ. */
  function assertSameRuleSet(actual: string, expected: string, message: string): void {
    const count = (text: string): Map<string, number> => {
      const m = new Map<string, number>();
      for (const l of text.split('\n')) m.set(l, (m.get(l) ?? 0) + 1);
      return m;
    };
    const a = count(actual);
    const e = count(expected);
    const extra: string[] = [];
    const missing: string[] = [];
    for (const [l, n] of a) for (let i = e.get(l) ?? 0; i < n; i++) extra.push(l);
    for (const [l, n] of e) for (let i = a.get(l) ?? 0; i < n; i++) missing.push(l);
    assert.ok(
      extra.length === 0 && missing.length === 0,
      `${message}\nextra (or duplicated) lines:\n  ${extra.join('\n  ') || '(none)'}\nmissing lines:\n  ${missing.join('\n  ') || '(none)'}`,
    );
  }

  async function links(): Promise<string> {
    return must(sb.host(['ip', '-o', 'link', 'show']), 'ip link');
  }

  async function linkNames(): Promise<string[]> {
    return (await links())
      .split('\n')
      .filter(Boolean)
      .map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '');
  }

  async function inspect(name: string, template: string): Promise<string> {
    return (await mcOk(['inspect', '-f', template, name])).trim();
  }

  /** The `minictr ps -a` row of one container (what the user reads), or undefined. */
  async function psRow(name: string): Promise<string | undefined> {
    const out = await mcOk(['ps', '-a']);
    return out.split('\n').find((l) => l.trimEnd().endsWith(` ${name}`));
  }

  /** Run -d and return the full id. */
  async function runDetached(args: string[]): Promise<string> {
    const out = await mcOk(['run', '-d', ...args]);
    const id = out.trim().split('\n').pop() ?? '';
    assert.match(id, /^[0-9a-f]{64}$/, `run -d printed no id: ${out}`);
    return id;
  }

  /** Poll an HTTP GET (first contact with a server that is still starting). */
  async function eventuallyGet(where: 'host' | 'wan', url: string, timeoutMs = 10_000): Promise<string> {
    let last: Result | undefined;
    try {
      return await eventually(
        async () => {
          last = await sb[where](wget(url, 2));
          return last.code === 0 && last.stdout.trim() !== '' ? last.stdout.trim() : false;
        },
        timeoutMs,
        `${where} GET ${url}`,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last attempt: ${last ? describeResult(last) : 'none'}`);
    }
  }

  /** A long-running helper inside a container's network namespace (busybox has no UDP server). */
  function backgroundInNetns(netnsPath: string, argv: string[]): ChildProcess {
    const child = spawn('nsenter', [`--net=${netnsPath}`, '--', ...argv], { stdio: 'ignore' });
    children.push(child);
    return child;
  }

  function killChild(child: ChildProcess): void {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  // ---------- shared state, filled in as the tests go ----------

  let wanDir = '';
  /** iptables-save and ip link of the sandbox host before minictr ever ran. */
  let pristineRules = '';
  let pristineLinks = '';
  /** iptables-save after the first container (a --rm one) was removed: the network's standing rules only. */
  let standingOnly = '';
  const ids: Record<string, string> = {};
  const ips: Record<string, string> = {};

  describe(`minictr networking, with real traffic in a sandbox (${firewall} firewall)`, { skip: !isRoot && 'needs root' }, () => {
    before(async () => {
      await sb.setup();
      // The sandbox host has a firewall of its own: minictr must leave it as it found it.
      for (const r of HOST_RULES) await must(sb.host(r), r.join(' '));
      pristineRules = await fw.save();
      pristineLinks = await links();

      // The outside world's web server: a CGI that prints the client's address.
      wanDir = await mkdtemp(join(tmpdir(), `${sb.prefix}-wanwww-`));
      await mkdir(join(wanDir, 'cgi-bin'));
      await writeFile(join(wanDir, 'cgi-bin', 'ip'), CGI);
      await chmod(join(wanDir, 'cgi-bin', 'ip'), 0o755);
      sb.background('wan', ['busybox', 'httpd', '-f', '-p', `${WAN_IP}:8080`, '-h', wanDir]);
      assert.equal(ipIn(await eventuallyGet('wan', WAN_URL)), WAN_IP);
    });

    after(async () => {
      for (const child of children) killChild(child);
      await sb.cleanup();
      if (wanDir) await rm(wanDir, { recursive: true, force: true });
    });

    test('the process finds eth0 configured at its first instruction (run --rm)', async () => {
      const r = await mc(['run', '--rm', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
      assert.equal(r.code, 0, describeResult(r));
      assert.match(r.stdout, /\beth0\s+inet 172\.18\.0\.\d+\/16 /, 'eth0 had no 172.18.0.x address when the process started');
      // --rm took its network pieces with it; what is left are the network's standing rules.
      assert.deepEqual((await linkNames()).filter((n) => n.startsWith('veth')), [], 'a veth survived run --rm');
      standingOnly = await fw.save();
      for (const pattern of fw.standing) assert.match(standingOnly, pattern);
      assert.doesNotMatch(standingOnly, fw.perContainer, 'per-container rules survived run --rm');
    });

    test('a server that binds eth0\'s address at start runs, published on 5005', async () => {
      ids.web = await runDetached(['--name', 'web', '-p', '5005:5000', 'busybox', 'sh', '-c', WEB_SCRIPT]);
      ips.web = await inspect('web', '{{.NetworkSettings.IPAddress}}');
      assert.match(ips.web, /^172\.18\.0\.\d+$/);
      // Straight to the container's address from the host (T08): the server bound it at start.
      const hostname = await eventuallyGet('host', `http://${ips.web}:5000/hostname`);
      assert.equal(hostname, ids.web.slice(0, 12));
      assert.match((await psRow('web')) ?? '', /\bUp\b/, 'web is not running');
      ids.c2 = await runDetached(['--name', 'c2', 'busybox', 'nc', '-ll', '-p', '6000', '-e', 'echo', 'c2-unpublished']);
      ips.c2 = await inspect('c2', '{{.NetworkSettings.IPAddress}}');
      assert.match(ips.c2, /^172\.18\.0\.\d+$/);
      assert.notEqual(ips.c2, ips.web);
    });

    test('inspect shows IPAddress, Gateway and the MAC derived from the IP; eth0 inside agrees', async () => {
      const [ip, gw, mac] = (await inspect('web', '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.MacAddress}}')).split(' ');
      assert.equal(ip, ips.web);
      assert.equal(gw, GATEWAY);
      const [, , c, d] = (ip ?? '').split('.').map(Number);
      const expectedMac = `02:42:ac:12:${(c ?? 0).toString(16).padStart(2, '0')}:${(d ?? 0).toString(16).padStart(2, '0')}`;
      assert.equal(mac, expectedMac);
      // The --rm container released 172.18.0.2, so web, the next one, has it again.
      assert.equal(ip, '172.18.0.2');
      assert.equal(mac, '02:42:ac:12:00:02');
      assert.equal(await inspect('web', '{{.NetworkSettings.Networks.bridge.IPAddress}}'), ips.web);
      const inside = await must(sb.minictr(['exec', 'web', 'ip', '-o', 'link', 'show', 'eth0']), 'exec ip link');
      assert.match(inside, new RegExp(`link/ether ${expectedMac} `));
      const route = await must(sb.minictr(['exec', 'web', 'ip', 'route']), 'exec ip route');
      assert.match(route, new RegExp(`default via ${GATEWAY.replace(/\./g, '\\.')} dev eth0`));
    });

    test('an IPv4-only network leaves IPv6 off on eth0 (as Docker 26.0.2+), and no link-local address on the bridge port', async () => {
      const inside = await must(sb.minictr(['exec', 'web', 'sh', '-c', 'cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6; ip -o -6 addr show dev eth0']), 'exec');
      assert.equal(inside.trim(), '1', `eth0 has IPv6: ${inside}`);
      const veth = `veth${(ids.web ?? '').slice(0, 7)}`;
      const port = await must(sb.host(['ip', '-o', '-6', 'addr', 'show', 'dev', veth]), `ip -6 addr show dev ${veth}`);
      assert.equal(port.trim(), '', `the bridge port has an IPv6 address: ${port}`);
      const lo = await must(sb.minictr(['exec', 'web', 'ip', '-o', '-6', 'addr', 'show', 'dev', 'lo']), 'exec ip -6 addr show dev lo');
      assert.match(lo, /inet6 ::1\/128 /, 'lo keeps ::1, as in Docker');
    });

    test('--dry-run shows the firewall step a run would add, with a why for each statement, and changes nothing', async () => {
      const before = await fw.save();
      const out = await mcOk(['run', '--dry-run', '-p', '5099:5000', 'busybox', 'true']);
      if (firewall === 'nftables') {
        // One transaction: a heredoc of `add element` statements, each under its own `#` reason.
        assert.match(out, /nft -f - <<'EOF'\n# forward tcp to 172\.18\.0\.\d+:5000 in from outside minictr0\nadd element inet minictr published4 \{ 172\.18\.0\.\d+ \. tcp \. 5000 comment "minictr:[0-9a-f]{12}" \}\n/);
        assert.match(out, /# publish 0\.0\.0\.0:5099 → 172\.18\.0\.\d+:5000\/tcp\nadd element inet minictr ports-any4 \{ tcp \. 5099 comment "minictr:[0-9a-f]{12}" : 172\.18\.0\.\d+ \. 5000 \}/);
      } else {
        assert.match(out, /iptables -w -t nat -A MINICTR -p tcp -m tcp --dport 5099 -m comment --comment minictr:[0-9a-f]{12} -j DNAT --to-destination 172\.18\.0\.\d+:5000/);
      }
      assert.equal(await fw.save(), before, '--dry-run changed the firewall');
    });

    test('ps shows 0.0.0.0:5005->5000/tcp and port shows the binding', async () => {
      assert.match((await psRow('web')) ?? '', / 0\.0\.0\.0:5005->5000\/tcp +web$/);
      assert.equal((await mcOk(['port', 'web'])).trim(), '5000/tcp -> 0.0.0.0:5005');
    });

    test('container -> its gateway (ping)', async () => {
      const r = await mc(['exec', 'web', 'ping', '-c1', '-W2', GATEWAY]);
      assert.equal(r.code, 0, describeResult(r));
      assert.match(r.stdout, /1 packets received/);
    });

    test('eth0 carries 64 KiB frames on the host, while the route to the outside world keeps MTU 1500', async () => {
      assert.equal((await must(mc(['exec', 'web', 'cat', '/sys/class/net/eth0/mtu']), 'eth0 mtu')).trim(), '65535');
      // busybox's ip does not print route metrics; the host's ip reads the container's netns.
      const routes = await must(sb.host(['ip', '-n', `minictr-${ids.web?.slice(0, 12)}`, 'route']), 'ip route');
      assert.match(routes, /^default via 172\.18\.0\.1 dev eth0 .*mtu 1500/m);
      // 4000 bytes: one frame to the gateway, fragments towards the outside world; both answer.
      for (const to of [GATEWAY, WAN_IP]) {
        const r = await mc(['exec', 'web', 'ping', '-c1', '-W2', '-s', '4000', to]);
        assert.match(r.stdout, /1 packets received/, `ping -s 4000 ${to}: ${describeResult(r)}`);
      }
    });

    test('container -> outside world: the server sees the host address (MASQUERADE)', async () => {
      const out = await must(mc(['exec', 'web', ...wgetIn(WAN_URL)]), 'web -> wan');
      assert.equal(ipIn(out), HOST_IP);
    });

    test('outside -> published port reaches the container, which sees the client\'s real address', async () => {
      const out = await must(sb.wan(wget(`http://${HOST_IP}:5005/cgi-bin/ip`)), 'wan -> 10.99.0.1:5005');
      assert.equal(ipIn(out), WAN_IP);
      assert.equal((await must(sb.wan(wget(`http://${HOST_IP}:5005/hostname`)), 'wan hostname')).trim(), ids.web?.slice(0, 12));
    });

    test('host -> its own address:5005', async () => {
      const out = await must(sb.host(wget(`http://${HOST_IP}:5005/hostname`)), 'host -> 10.99.0.1:5005');
      assert.equal(out.trim(), ids.web?.slice(0, 12));
    });

    test('host -> 127.0.0.1:5005', async () => {
      const out = await must(sb.host(wget('http://127.0.0.1:5005/hostname')), 'host -> 127.0.0.1:5005');
      assert.equal(out.trim(), ids.web?.slice(0, 12));
    });

    test('container -> container by IP (same bridge), the server sees the client container\'s address', async () => {
      const out = await must(mc(['exec', 'c2', ...wgetIn(`http://${ips.web}:5000/cgi-bin/ip`)]), 'c2 -> web');
      assert.equal(ipIn(out), ips.c2);
      const back = await must(mc(['exec', 'web', 'sh', '-c', `timeout 3 nc ${ips.c2} 6000 </dev/null`]), 'web -> c2:6000');
      assert.match(back, /c2-unpublished/);
    });

    test('hairpin: a container reaches its own published port through the host address', async () => {
      const self = await must(mc(['exec', 'web', ...wgetIn(`http://${HOST_IP}:5005/hostname`)]), 'web -> 10.99.0.1:5005');
      assert.equal(self.trim(), ids.web?.slice(0, 12));
      const src = await must(mc(['exec', 'web', ...wgetIn(`http://${HOST_IP}:5005/cgi-bin/ip`)]), 'web -> 10.99.0.1:5005 cgi');
      assert.equal(ipIn(src), GATEWAY, 'hairpin traffic should be masqueraded to the gateway');
      // Another container through the host address, or the gateway (Docker's host-gateway), too (T10):
      // DNAT only, so web sees c2's own address; br_netfilter un-NATs web's reply on the bridge.
      for (const via of [HOST_IP, GATEWAY]) {
        const other = await must(mc(['exec', 'c2', ...wgetIn(`http://${via}:5005/hostname`)]), `c2 -> ${via}:5005`);
        assert.equal(other.trim(), ids.web?.slice(0, 12));
        const seen = await must(mc(['exec', 'c2', ...wgetIn(`http://${via}:5005/cgi-bin/ip`)]), `c2 -> ${via}:5005 cgi`);
        assert.equal(ipIn(seen), ips.c2, `web sees c2's own address through ${via}`);
      }
      // The container's own loopback is not the host's (T11).
      const lo = await mc(['exec', 'c2', ...wgetIn('http://127.0.0.1:5005/hostname', 2)]);
      assert.notEqual(lo.code, 0, `c2 -> its own 127.0.0.1:5005 should fail: ${describeResult(lo)}`);
    });

    test('an unpublished port is not reachable from outside, not even when outside routes to the container', async () => {
      // Control: c2 does listen on 6000 (reachable from the host itself).
      assert.match(await must(sb.host(ncArgv(ips.c2 ?? '', 6000)), 'host -> c2:6000'), /c2-unpublished/);
      await must(sb.wan(['ip', 'route', 'add', '172.18.0.0/16', 'via', HOST_IP]), 'wan route add');
      try {
        // Control: the route works (the host answers for its gateway address through it).
        await must(sb.wan(['busybox', 'ping', '-c1', '-W2', GATEWAY]), 'wan ping gateway via the route');
        const r = await sb.wan(ncArgv(ips.c2 ?? '', 6000, 2));
        assert.notEqual(r.code, 0, `wan reached unpublished ${ips.c2}:6000: ${describeResult(r)}`);
        assert.doesNotMatch(r.stdout, /c2-unpublished/);
      } finally {
        await sb.wan(['ip', 'route', 'del', '172.18.0.0/16', 'via', HOST_IP]);
      }
    });

    test('UDP publish -p 5353:5353/udp: wan and host reach the server, which sees the real client', async () => {
      ids.udp = await runDetached(['--name', 'udp', '-p', '5353:5353/udp', 'busybox', 'sleep', '1000']);
      const netns = await inspect('udp', '{{.NetworkSettings.SandboxKey}}');
      assert.match(netns, /^\/run\/netns\//);
      // busybox nc has no -u here: a socat UDP server runs in the container's network namespace.
      backgroundInNetns(netns, ['socat', 'UDP4-RECVFROM:5353,fork', 'SYSTEM:echo from $SOCAT_PEERADDR']);
      const send = (target: string): string[] => ['sh', '-c', `echo hi | socat -T2 - UDP4:${target}:5353`];
      const fromWan = await eventually(
        async () => {
          const r = await sb.wan(send(HOST_IP));
          return /from /.test(r.stdout) ? r.stdout : false;
        },
        10_000,
        'a UDP answer from the published port',
      );
      assert.equal(ipIn(fromWan), WAN_IP);
      // UDP has no retry of its own: a datagram lost while the machine is busy is sent again.
      const fromHost = await eventually(
        async () => {
          const r = await sb.host(send('127.0.0.1'));
          return /from /.test(r.stdout) ? r.stdout : false;
        },
        10_000,
        'host -> 127.0.0.1:5353/udp',
      );
      assert.match(fromHost, /from \d/);
      assert.match((await psRow('udp')) ?? '', /0\.0\.0\.0:5353->5353\/udp/);
    });

    test('rm forgets the UDP flows of its published port: the same client flow reaches the next container', async () => {
      // One client flow (fixed source port), answered by udp; conntrack remembers its DNAT.
      const send = ['sh', '-c', `echo hi | socat -T2 - UDP4:${HOST_IP}:5353,sourceport=40053,reuseaddr`];
      const answer = async (what: string): Promise<string> =>
        eventually(
          async () => {
            const r = await sb.wan(send);
            return /from /.test(r.stdout) ? r.stdout : false;
          },
          10_000,
          what,
        );
      assert.equal(ipIn(await answer('an answer on the client flow')), WAN_IP);
      const oldIp = await inspect('udp', '{{.NetworkSettings.IPAddress}}');
      await mcOk(['rm', '-f', 'udp']);
      // The old address goes to a container that does not serve UDP, so a remembered DNAT would lead nowhere.
      ids.filler = await runDetached(['--name', 'filler', 'busybox', 'sleep', '1000']);
      assert.equal(await inspect('filler', '{{.NetworkSettings.IPAddress}}'), oldIp);
      ids.udp = await runDetached(['--name', 'udp', '-p', '5353:5353/udp', 'busybox', 'sleep', '1000']);
      assert.notEqual(await inspect('udp', '{{.NetworkSettings.IPAddress}}'), oldIp);
      backgroundInNetns(await inspect('udp', '{{.NetworkSettings.SandboxKey}}'), ['socat', 'UDP4-RECVFROM:5353,fork', 'SYSTEM:echo from $SOCAT_PEERADDR']);
      assert.equal(ipIn(await answer('the same client flow answered by the new container')), WAN_IP);
      await mcOk(['rm', '-f', 'filler']);
    });

    test('-p IP:host:container is honoured (127.0.0.1:8080 and 10.99.0.1:8081)', async () => {
      ids.lo = await runDetached(['--name', 'lo', '-p', '127.0.0.1:8080:5000', '-p', `${HOST_IP}:8081:5000`, 'busybox', 'httpd', '-f', '-p', '5000', '-h', '/etc']);
      const me = ids.lo.slice(0, 12);
      assert.equal(await eventuallyGet('host', 'http://127.0.0.1:8080/hostname'), me);
      const hostOther = await sb.host(wget(`http://${HOST_IP}:8080/hostname`, 2));
      assert.notEqual(hostOther.code, 0, `host -> 10.99.0.1:8080 should be refused: ${describeResult(hostOther)}`);
      const wanOther = await sb.wan(wget(`http://${HOST_IP}:8080/hostname`, 2));
      assert.notEqual(wanOther.code, 0, `wan -> 10.99.0.1:8080 should be refused: ${describeResult(wanOther)}`);
      assert.equal((await must(sb.wan(wget(`http://${HOST_IP}:8081/hostname`)), 'wan -> 10.99.0.1:8081')).trim(), me);
      assert.equal((await must(sb.host(wget(`http://${HOST_IP}:8081/hostname`)), 'host -> 10.99.0.1:8081')).trim(), me);
      const loOther = await sb.host(wget('http://127.0.0.1:8081/hostname', 2));
      assert.notEqual(loOther.code, 0, `host -> 127.0.0.1:8081 should be refused: ${describeResult(loOther)}`);
      const row = (await psRow('lo')) ?? '';
      assert.match(row, /127\.0\.0\.1:8080->5000\/tcp/);
      assert.match(row, /10\.99\.0\.1:8081->5000\/tcp/);
    });

    test('a port published on 127.0.0.1 is not reachable from outside, even routed to 127.0.0.1 (CVE-2020-8558)', async () => {
      const wv = `${sb.prefix}w`;
      const hv = `${sb.prefix}h`;
      // The outside world sends packets for 127.0.0.1 to the host, as a hostile neighbour would.
      const setup = [
        ['ip', 'rule', 'add', 'pref', '1000', 'lookup', 'local'],
        ['ip', 'rule', 'del', 'pref', '0', 'lookup', 'local'],
        ['ip', 'rule', 'add', 'pref', '10', 'to', '127.0.0.1/32', 'iif', 'lo', 'lookup', '100'],
        ['ip', 'route', 'add', '127.0.0.1/32', 'via', HOST_IP, 'dev', wv, 'src', WAN_IP, 'table', '100'],
        ['sh', '-c', `echo 1 > /proc/sys/net/ipv4/conf/${wv}/route_localnet`],
      ];
      try {
        for (const s of setup) await must(sb.wan(s), s.join(' '));
        const r = await sb.wan(wget('http://127.0.0.1:8080/hostname', 2));
        assert.notEqual(r.code, 0, `wan reached the 127.0.0.1-published port: ${describeResult(r)}`);
        // Control: without minictr's guard (an ACCEPT ahead of it) the same packets do get in,
        // so the failure above is the guard's doing, not the probe's.
        const undo = await fw.bypassLoopbackGuard(hv, 8080);
        try {
          const through = await sb.wan(wget('http://127.0.0.1:8080/hostname', 3));
          assert.equal(through.stdout.trim(), ids.lo?.slice(0, 12), `control probe did not get through: ${describeResult(through)}`);
        } finally {
          await undo();
        }
      } finally {
        await sb.wan(['sh', '-c', `echo 0 > /proc/sys/net/ipv4/conf/${wv}/route_localnet`]);
        await sb.wan(['ip', 'route', 'flush', 'table', '100']);
        await sb.wan(['ip', 'rule', 'del', 'pref', '10']);
        await sb.wan(['ip', 'rule', 'add', 'pref', '0', 'lookup', 'local']);
        await sb.wan(['ip', 'rule', 'del', 'pref', '1000']);
      }
    });

    test('-p 5000 (no host port) picks a free ephemeral host port, shown by port and reachable', async () => {
      ids.eph = await runDetached(['--name', 'eph', '-p', '5000', 'busybox', 'httpd', '-f', '-p', '5000', '-h', '/etc']);
      const out = (await mcOk(['port', 'eph'])).trim();
      const m = /^5000\/tcp -> 0\.0\.0\.0:(\d+)$/.exec(out);
      assert.ok(m, `unexpected port output: ${out}`);
      const port = Number(m[1]);
      const [lo, hi] = (await must(sb.host(['cat', '/proc/sys/net/ipv4/ip_local_port_range']), 'port range')).trim().split(/\s+/).map(Number);
      assert.ok(port >= (lo ?? 0) && port <= (hi ?? 0), `port ${port} outside ${lo}-${hi}`);
      assert.equal((await mcOk(['port', 'eph', '5000'])).trim(), `0.0.0.0:${port}`);
      assert.equal(await eventuallyGet('wan', `http://${HOST_IP}:${port}/hostname`), ids.eph.slice(0, 12));
    });

    test('--network none has only lo and cannot reach the outside world', async () => {
      const r = await mc(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link']);
      assert.equal(r.code, 0, describeResult(r));
      const names = r.stdout.split('\n').filter(Boolean).map((l) => (l.split(': ')[1] ?? '').split('@')[0]);
      assert.deepEqual(names, ['lo']);
      const ping = await mc(['run', '--rm', '--network', 'none', 'busybox', 'ping', '-c1', '-W2', WAN_IP]);
      assert.notEqual(ping.code, 0, `--network none reached ${WAN_IP}: ${describeResult(ping)}`);
      const get = await mc(['run', '--rm', '--network', 'none', 'busybox', ...wgetIn(WAN_URL, 2)]);
      assert.notEqual(get.code, 0);
      assert.equal(ipIn(get.stdout), undefined);
    });

    test('--network host shares the host stack: its links, a server reachable without NAT, no minictr objects', async () => {
      const rulesBefore = await fw.save();
      const linksBefore = await linkNames();
      const r = await mc(['run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link']);
      assert.equal(r.code, 0, describeResult(r));
      assert.match(r.stdout, new RegExp(`: ${sb.prefix}h[@:]`), 'the sandbox host\'s veth is not visible');
      assert.match(r.stdout, /: minictr0[@:]/);
      const script = `mkdir -p /www/cgi-bin && printf '${CGI.replace(/\n/g, '\\n')}' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && exec httpd -f -p 5007 -h /www`;
      ids.hostnet = await runDetached(['--name', 'hostnet', '--network', 'host', 'busybox', 'sh', '-c', script]);
      const seen = await eventuallyGet('wan', `http://${HOST_IP}:5007/cgi-bin/ip`);
      assert.equal(ipIn(seen), WAN_IP, 'a host-network server should see the client without NAT');
      assert.deepEqual(await linkNames(), linksBefore, '--network host created or removed links');
      const rulesNow = await fw.save();
      assert.equal(rulesNow, rulesBefore, '--network host changed the firewall');
      assert.ok(!rulesNow.includes(ids.hostnet.slice(0, 12)));
      assert.equal(await inspect('hostnet', '{{.NetworkSettings.IPAddress}}'), '');
      const netns = await readdir('/run/netns');
      assert.ok(!netns.includes(`minictr-${ids.hostnet.slice(0, 12)}`), 'a netns was made for --network host');
      // Removing it stops the server that held the host's port.
      await mcOk(['rm', '-f', 'hostnet']);
      await eventually(async () => (await sb.wan(wget(`http://${HOST_IP}:5007/cgi-bin/ip`, 2))).code !== 0, 10_000, 'port 5007 closed after rm');
    });

    test('a second -p 5005 is refused (125), leaving no record, rule or veth; web keeps working', async () => {
      const rulesBefore = await fw.save();
      const linksBefore = await links();
      const r = await mc(['run', '-d', '--name', 'steal', '-p', '5005:5000', 'busybox', 'sleep', '60']);
      assert.equal(r.code, 125, describeResult(r));
      assert.match(r.stderr, /5005/);
      assert.equal(await psRow('steal'), undefined, 'the refused container was recorded');
      assert.notEqual((await mc(['inspect', 'steal'])).code, 0);
      assert.equal(await fw.save(), rulesBefore, 'the refused run changed the firewall');
      assert.equal(await links(), linksBefore, 'the refused run left links behind');
      assert.equal((await must(sb.wan(wget(`http://${HOST_IP}:5005/hostname`)), 'wan -> web after refusal')).trim(), ids.web?.slice(0, 12));
      assert.equal((await must(sb.host(wget('http://127.0.0.1:5005/hostname')), 'host -> web after refusal')).trim(), ids.web?.slice(0, 12));
    });

    test('a port a host process listens on is refused (125); the host process keeps its traffic', async () => {
      sb.background('host', ['busybox', 'nc', '-ll', '-p', '5006', '-e', 'echo', 'host-process']);
      await eventually(async () => (await sb.host(['ss', '-Hltn', 'sport = :5006'])).stdout.trim() !== '', 10_000, 'host process on 5006');
      const rulesBefore = await fw.save();
      const linksBefore = await links();
      const r = await mc(['run', '-d', '--name', 'steal2', '-p', '5006:5000', 'busybox', 'httpd', '-f', '-p', '5000', '-h', '/etc']);
      assert.equal(r.code, 125, describeResult(r));
      assert.match(r.stderr, /5006/);
      assert.equal(await psRow('steal2'), undefined, 'the refused container was recorded');
      assert.equal(await fw.save(), rulesBefore, 'the refused run changed the firewall');
      assert.doesNotMatch(await fw.save(), fw.hostPort(5006));
      assert.equal(await links(), linksBefore, 'the refused run left links behind');
      assert.match(await must(sb.wan(ncArgv(HOST_IP, 5006)), 'wan -> host process'), /host-process/);
    });

    // nftables: an accept ends only minictr's own base chain, so iptables' DROP policy still
    // drops (as with Docker 29 and netavark); doctor names it and the two rules that fix it.
    const forwardFix = [['-i', 'minictr+', '-j', 'ACCEPT'], ['-o', 'minictr+', '-j', 'ACCEPT']];
    test(`a host FORWARD policy of DROP breaks neither outside -> published port nor container -> outside${firewall === 'nftables' ? ', once doctor\'s fix is applied' : ''}`, async () => {
      await must(sb.host(['iptables', '-w', '-P', 'FORWARD', 'DROP']), 'policy DROP');
      if (firewall === 'nftables') {
        const doctor = await mc(['doctor']);
        assert.match(doctor.stdout, /WARN\s+forward drop vs nftables\s+iptables FORWARD policy DROP; networks on nftables: bridge/);
        assert.match(doctor.stdout, /iptables -I FORWARD -i minictr\+ -j ACCEPT; iptables -I FORWARD -o minictr\+ -j ACCEPT/);
        const dropped = await sb.wan(wget(`http://${HOST_IP}:5005/cgi-bin/ip`, 2));
        assert.notEqual(dropped.code, 0, 'without the fix the DROP policy should drop the published port\'s traffic');
        for (const rule of forwardFix) await must(sb.host(['iptables', '-w', '-I', 'FORWARD', ...rule]), `iptables -I FORWARD ${rule.join(' ')}`);
        // The fix opens nothing minictr closes: an unpublished port stays unreachable from outside.
        await must(sb.wan(['ip', 'route', 'add', '172.18.0.0/16', 'via', HOST_IP]), 'wan route add');
        const unpublished = await sb.wan(ncArgv(ips.c2 ?? '', 6000, 2));
        await sb.wan(['ip', 'route', 'del', '172.18.0.0/16', 'via', HOST_IP]);
        assert.doesNotMatch(unpublished.stdout, /c2-unpublished/, 'the fix let the outside reach an unpublished port');
      }
      try {
        const inbound = await must(sb.wan(wget(`http://${HOST_IP}:5005/cgi-bin/ip`)), 'wan -> 5005 under DROP');
        assert.equal(ipIn(inbound), WAN_IP);
        const outbound = await must(mc(['exec', 'web', ...wgetIn(WAN_URL)]), 'web -> wan under DROP');
        assert.equal(ipIn(outbound), HOST_IP);
        const udp = await eventually(
          async () => {
            const r = await sb.wan(['sh', '-c', `echo hi | socat -T2 - UDP4:${HOST_IP}:5353`]);
            return /from /.test(r.stdout) ? r.stdout : false;
          },
          10_000,
          'a UDP answer under FORWARD DROP',
        );
        assert.equal(ipIn(udp), WAN_IP);
      } finally {
        await sb.host(['iptables', '-w', '-P', 'FORWARD', 'ACCEPT']);
        if (firewall === 'nftables') for (const rule of forwardFix) await sb.host(['iptables', '-w', '-D', 'FORWARD', ...rule]);
      }
    });

    test('rm -f of a container whose namespace another process still holds removes its veth as well', async () => {
      // Removing the namespace normally takes the veth with it; while a process holds it, minictr
      // must remove the veth itself (after a bounded wait), or the old address would stay on the bridge.
      const id = await runDetached(['--name', 'held', 'busybox', 'sleep', '1000']);
      const nsPath = `/run/netns/minictr-${id.slice(0, 12)}`;
      const holder = backgroundInNetns(nsPath, ['sleep', '60']);
      try {
        const nsInode = (await stat(nsPath)).ino;
        await eventually(
          async () => holder.pid !== undefined && (await readlink(`/proc/${holder.pid}/ns/net`).catch(() => '')) === `net:[${nsInode}]`,
          5_000,
          'the holder to enter the container\'s namespace',
        );
        await mcOk(['rm', '-f', 'held']);
        assert.ok(!(await linkNames()).includes(`veth${id.slice(0, 7)}`), 'the veth of a held namespace was left on the bridge');
        assert.ok(!(await readdir('/run/netns')).includes(`minictr-${id.slice(0, 12)}`), 'the netns name was left');
        assert.equal(await psRow('held'), undefined, 'the record was left');
      } finally {
        killChild(holder);
      }
    });

    test('after all containers are removed: no veth, no netns, only the network\'s standing rules', async () => {
      for (const child of children) killChild(child);
      for (const name of ['web', 'c2', 'udp', 'lo', 'eph']) await mcOk(['rm', '-f', name]);
      assert.equal((await mcOk(['ps', '-aq'])).trim(), '');
      assert.deepEqual((await linkNames()).filter((n) => n.startsWith('veth')), [], 'veths left after rm -f');
      const netns = await readdir('/run/netns');
      for (const [name, id] of Object.entries(ids)) assert.ok(!netns.includes(`minictr-${id.slice(0, 12)}`), `netns of ${name} left`);
      assert.equal(await fw.save(), standingOnly);
      assert.equal(await sb.wan(wget(`http://${HOST_IP}:5005/hostname`, 2)).then((r) => r.code !== 0), true, 'port 5005 still answers');
    });

    test('network rm bridge puts the host back as it was before minictr ran', async () => {
      await mcOk(['network', 'rm', 'bridge']);
      assert.equal(await fw.save(), pristineRules);
      assert.equal(await links(), pristineLinks);
    });

    let reloaded = '';
    let beforeFlush = '';

    test('network reload restores a published port after a firewall flush', async () => {
      ids.rl = await runDetached(['--name', 'rl', '-p', '5005:5000', 'busybox', 'httpd', '-f', '-p', '5000', '-h', '/etc']);
      const me = ids.rl.slice(0, 12);
      assert.equal(await eventuallyGet('wan', `http://${HOST_IP}:5005/hostname`), me);
      beforeFlush = await fw.save();
      // A firewall reload: minictr's rules are wiped, then the host's own rules come back.
      await fw.wipe(HOST_RULES);
      const broken = await sb.wan(wget(`http://${HOST_IP}:5005/hostname`, 2));
      assert.notEqual(broken.code, 0, 'the flush did not break the published port');
      assert.equal((await sb.minictr(['ps'])).stderr, '', 'plain ps probes no rules: it costs what --version does');
      assert.match((await sb.minictr(['ps', '--check'])).stderr, /firewall rules for network bridge are missing.*network reload/, 'ps --check notices the wiped rules');

      await mcOk(['network', 'reload']);
      reloaded = await fw.save();
      assert.equal((await must(sb.wan(wget(`http://${HOST_IP}:5005/hostname`)), 'wan -> 5005 after reload')).trim(), me);
      const back = await must(mc(['exec', 'rl', ...wgetIn(WAN_URL)]), 'rl -> wan after reload');
      assert.equal(ipIn(back), HOST_IP);
    });

    test('network reload restores exactly the rules that were there before the flush, none twice', () => {
      assert.ok(beforeFlush !== '' && reloaded !== '', 'the reload test did not get this far');
      assertSameRuleSet(reloaded, beforeFlush, 'reload did not restore exactly the rules that were there before the flush');
    });

    test('a second network reload changes nothing', async () => {
      assert.ok(reloaded !== '', 'the reload test did not get this far');
      await mcOk(['network', 'reload']);
      assert.equal(await fw.save(), reloaded, 'a second reload changed the rules');
    });

    test(`network reload after ${fw.partialWipes[0]?.what} restores it, duplicating nothing`, async () => {
      assert.ok(reloaded !== '', 'the reload test did not get this far');
      const before = await fw.save();
      await fw.partialWipes[0]?.run(HOST_RULES);
      await mcOk(['network', 'reload']);
      assertSameRuleSet(await fw.save(), before, `reload after ${fw.partialWipes[0]?.what} did not restore exactly the rules that were there`);
      assert.equal((await must(sb.wan(wget(`http://${HOST_IP}:5005/hostname`)), 'wan -> 5005 after reload')).trim(), ids.rl?.slice(0, 12));
    });

    test(`network reload after ${fw.partialWipes[1]?.what} restores the published port, duplicating nothing`, async () => {
      assert.ok(reloaded !== '', 'the reload test did not get this far');
      const before = await fw.save();
      await fw.partialWipes[1]?.run(HOST_RULES);
      const broken = await sb.wan(wget(`http://${HOST_IP}:5005/hostname`, 2));
      assert.notEqual(broken.code, 0, `${fw.partialWipes[1]?.what} did not break the published port`);
      await mcOk(['network', 'reload']);
      const r = await sb.wan(wget(`http://${HOST_IP}:5005/hostname`));
      assert.equal(r.stdout.trim(), ids.rl?.slice(0, 12), `wan -> 5005 after reload: ${describeResult(r)}`);
      assertSameRuleSet(await fw.save(), before, `reload after ${fw.partialWipes[1]?.what} did not restore exactly the rules that were there`);
    });

    test('a run after a firewall flush notices it and puts back every minictr rule, its own and the others\'', async () => {
      assert.ok(reloaded !== '', 'the reload test did not get this far');
      const before = await fw.save();
      await fw.wipe(HOST_RULES);
      ids.rl2 = await runDetached(['--name', 'rl2', '-p', '5007:5000', 'busybox', 'httpd', '-f', '-p', '5000', '-h', '/etc']);
      assert.equal(await eventuallyGet('wan', `http://${HOST_IP}:5007/hostname`), ids.rl2.slice(0, 12));
      const old = await sb.wan(wget(`http://${HOST_IP}:5005/hostname`));
      assert.equal(old.stdout.trim(), ids.rl?.slice(0, 12), `wan -> 5005 (the older container) after the run: ${describeResult(old)}`);
      await mcOk(['rm', '-f', 'rl2']);
      assertSameRuleSet(await fw.save(), before, 'run + rm after a flush did not leave exactly the rules that were there');
    });

    test('after reload, removing the container and the network still puts the host back as it was', async () => {
      await mcOk(['rm', '-f', 'rl']);
      await mcOk(['network', 'rm', 'bridge']);
      assert.equal(await fw.save(), pristineRules);
      assert.equal(await links(), pristineLinks);
    });
  });
}
