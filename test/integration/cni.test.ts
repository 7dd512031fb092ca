// The CNI plugin against the spec, run as a runtime runs it: env, config on stdin, JSON out.
// Pods are network namespaces the test makes; the plugin runs in the sandbox host.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, isRoot, killStarted, HOST_IP, WAN_IP } from './sandbox.js';
import { cniSuite, type Pod } from './cni-harness.js';

describe('minictr-cni, the spec', { skip: !isRoot && 'needs root' }, () => {
  const { box, cni } = cniSuite();

  const nothingLeft = (): Promise<void> => cni.assertNothingLeft();

  it('VERSION lists the versions, with or without a config', async () => {
    for (const input of ['', '{"cniVersion":"0.4.0"}']) {
      const r = await cni.run('VERSION', input);
      assert.equal(r.code, 0, r.stdout);
      assert.deepEqual(r.json, { cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    }
  });

  it('ADD wires the pod: its address, the way out, and its portMapping reached from the outside world; CHECK passes; DEL twice leaves nothing', async () => {
    const pod = await cni.newPod('web');
    const conf = cni.config({ runtimeConfig: { portMappings: [{ hostPort: 8089, containerPort: 80, protocol: 'tcp' }] } });
    const add = await cni.run('ADD', conf, pod);
    assert.equal(add.code, 0, add.stdout);
    const ips = add.json?.['ips'] as { address: string; gateway: string; interface: number }[];
    assert.equal(ips[0]?.address, '10.77.0.2/24');
    assert.equal(ips[0]?.gateway, '10.77.0.1');
    const ifaces = add.json?.['interfaces'] as { name: string; sandbox?: string; mac?: string }[];
    assert.deepEqual(ifaces[ips[0]?.interface ?? -1], { name: 'eth0', mac: '02:42:0a:4d:00:02', sandbox: pod.netns });
    assert.match((await cni.inPod(pod, ['ip', '-4', 'addr', 'show', 'eth0'])).stdout, /inet 10\.77\.0\.2\/24/);
    assert.equal((await cni.inPod(pod, ['busybox', 'ping', '-c1', '-W2', WAN_IP])).code, 0, 'the pod reaches the outside world');

    cni.background(pod, ['socat', 'TCP-LISTEN:80,fork,reuseaddr', 'SYSTEM:echo hello-from-pod']);
    const reply = await eventually(async () => {
      const r = await box.wan(['timeout', '3', 'socat', '-T2', '-', `TCP:${HOST_IP}:8089`], { input: '' });
      return r.stdout.includes('hello-from-pod') && r.stdout;
    }, 10_000, 'the published port to answer from the outside world');
    assert.match(reply, /hello-from-pod/);

    assert.equal((await cni.run('CHECK', conf, pod)).code, 0);
    const del = await cni.run('DEL', conf, pod);
    assert.equal(del.code, 0, del.stdout);
    assert.equal(del.stdout, '');
    assert.equal((await cni.run('DEL', conf, pod)).code, 0, 'a second DEL succeeds');
    assert.doesNotMatch((await cni.inPod(pod, ['ip', 'link'])).stdout, /eth0/);
    await nothingLeft();
    await cni.removePodNetns(pod);
  });

  it('CHECK reports a rule deleted by hand, and an address removed by hand', async () => {
    const pod = await cni.newPod('chk');
    const conf = cni.config({ runtimeConfig: { portMappings: [{ hostPort: 8090, containerPort: 80, protocol: 'tcp' }] } });
    assert.equal((await cni.run('ADD', conf, pod)).code, 0);
    const dnat = (await cni.attachmentRules()).find((l) => l.includes('DNAT'));
    assert.ok(dnat, 'the DNAT rule is there');
    assert.equal((await box.host(['iptables', '-t', 'nat', ...dnat.replace(/^-A /, '-D ').replace(/"/g, '').split(' ')])).code, 0);
    const check = await cni.run('CHECK', conf, pod);
    assert.equal(check.code, 1);
    assert.equal(check.json?.['code'], 100);
    assert.match(String(check.json?.['msg']), /missing 1 thing\(s\): the rule "-t nat -A MINICTR .*DNAT --to-destination 10\.77\.0\.\d+:80"/);
    assert.equal((await cni.inPod(pod, ['ip', 'addr', 'flush', 'dev', 'eth0'])).code, 0);
    assert.match(String((await cni.run('CHECK', conf, pod)).json?.['msg']), /the address 10\.77\.0\.\d+\/24 on eth0; the default route via 10\.77\.0\.1/);
    assert.equal((await cni.run('DEL', conf, pod)).code, 0, 'DEL tolerates what was removed by hand');
    const unknown = await cni.run('CHECK', conf, pod);
    assert.equal(unknown.json?.['code'], 3, 'CHECK of an attachment the plugin does not have');
    await nothingLeft();
    await cni.removePodNetns(pod);
  });

  it('DEL after the namespace is gone frees the address and the rules', async () => {
    const pod = await cni.newPod('gone');
    const conf = cni.config({ runtimeConfig: { portMappings: [{ hostPort: 8091, containerPort: 80, protocol: 'udp' }] } });
    assert.equal((await cni.run('ADD', conf, pod)).code, 0);
    await cni.removePodNetns(pod);
    const { netns: _gone, ...withoutNetns } = pod;
    const del = await cni.run('DEL', conf, withoutNetns);
    assert.equal(del.code, 0, del.stdout);
    await nothingLeft();
  });

  it('bad env and config are answered with CNI error JSON and its code', async () => {
    const pod: Pod = { containerId: 'c-bad', ifname: 'eth0', netns: '/run/netns/does-not-exist' };
    const real = await cni.newPod('bad');
    const cases: [string, Record<string, unknown> | string, Pod | undefined, Record<string, string>, number, RegExp][] = [
      ['ADD', cni.config(), undefined, {}, 4, /CNI_CONTAINERID is not set/],
      ['FROB', cni.config(), pod, {}, 4, /CNI_COMMAND "FROB"/],
      ['ADD', cni.config(), { ...pod, ifname: 'a/b' }, {}, 4, /CNI_IFNAME "a\/b"/],
      ['ADD', cni.config(), pod, {}, 4, /CNI_NETNS \/run\/netns\/does-not-exist does not exist/],
      ['ADD', '{"cniVersion":', pod, {}, 6, /not valid JSON/],
      ['ADD', cni.config({ cniVersion: '2.0.0' }), pod, {}, 1, /cniVersion "2.0.0" is not supported/],
      ['ADD', cni.config({ firewallBackend: 'pf' }), pod, {}, 2, /firewallBackend/],
      ['ADD', cni.config({ ipam: { type: 'minictr' } }), pod, {}, 7, /ipam.subnet is missing/],
      ['ADD', cni.config({ ipam: { type: 'no-such-ipam' } }), real, {}, 102, /"no-such-ipam" is not in CNI_PATH/],
      ['ADD', cni.config({ ipam: { type: 'host-local' } }), real, { CNI_PATH: '' }, 4, /CNI_PATH is not set/],
    ];
    for (const [command, conf, who, env, code, msg] of cases) {
      const r = await cni.run(command, conf, who, env);
      assert.equal(r.code, 1, `${command} ${JSON.stringify(conf).slice(0, 60)}: ${r.stdout}`);
      assert.equal(r.json?.['code'], code, r.stdout);
      assert.match(String(r.json?.['msg']), msg);
      assert.ok(typeof r.json?.['cniVersion'] === 'string');
    }
    await nothingLeft();
    await cni.removePodNetns(real);
  });

  it('GC with a partial valid-attachments list frees the rest, rules and leases, and keeps the listed one working', async () => {
    const conf = cni.config({ runtimeConfig: { portMappings: [{ hostPort: 8092, containerPort: 80, protocol: 'tcp' }] } });
    const pods = [await cni.newPod('gc1'), await cni.newPod('gc2'), await cni.newPod('gc3')];
    for (const pod of pods) assert.equal((await cni.run('ADD', pods.indexOf(pod) === 0 ? conf : cni.config(), pod)).code, 0);
    const [keep, ...drop] = pods as [Pod, Pod, Pod];
    const gc = await cni.run('GC', { ...cni.config(), 'cni.dev/valid-attachments': [{ containerID: keep.containerId, ifname: keep.ifname }] });
    assert.equal(gc.code, 0, gc.stdout);
    const state = await cni.state();
    assert.equal(state.attachments.length, 1);
    assert.deepEqual(Object.values(state.leases).map((l) => l.containerId), [keep.containerId]);
    for (const pod of drop) assert.doesNotMatch((await cni.inPod(pod, ['ip', 'link'])).stdout, /eth0/, 'GC removed the veth');
    assert.equal((await cni.run('CHECK', conf, keep)).code, 0, 'the listed attachment is untouched');
    assert.equal((await cni.run('DEL', conf, keep)).code, 0);
    await nothingLeft();
    for (const pod of pods) await cni.removePodNetns(pod);
  });

  it('STATUS is ready, and says 50 when the range is full', async () => {
    assert.equal((await cni.run('STATUS', cni.config())).code, 0);
    const tiny = cni.config({ name: 'tiny', ipam: { type: 'minictr', subnet: '10.77.0.0/24', rangeStart: '10.77.0.9', rangeEnd: '10.77.0.9', dataDir: join(cni.dataDir, 'ipam') } });
    const pod = await cni.newPod('tiny');
    assert.equal((await cni.run('ADD', tiny, pod)).code, 0);
    const full = await cni.run('STATUS', tiny);
    assert.equal(full.json?.['code'], 50);
    assert.match(String(full.json?.['msg']), /no free address left in 10\.77\.0\.0\/24 between 10\.77\.0\.9 and 10\.77\.0\.9/);
    const second = await cni.newPod('tiny2');
    assert.equal((await cni.run('ADD', tiny, second)).json?.['code'], 101, 'ADD with no address left');
    assert.equal((await cni.run('DEL', tiny, pod)).code, 0);
    assert.equal((await cni.run('STATUS', tiny)).code, 0);
    await nothingLeft();
    await cni.removePodNetns(pod);
    await cni.removePodNetns(second);
  });

  it('clusterCIDR: another node (the outside world, routed to the pod subnet) reaches a pod directly and both see real addresses; without it, the raw guard drops it', async () => {
    const route = ['ip', 'route', 'add', '10.77.0.0/16', 'via', HOST_IP];
    assert.equal((await box.wan(route)).code, 0);
    const peer = (r: { stdout: string }): string => /peer=(\S+)/.exec(r.stdout)?.[1] ?? '';
    box.background('wan', ['socat', 'TCP-LISTEN:9000,fork,reuseaddr', 'SYSTEM:echo peer=$SOCAT_PEERADDR']);
    try {
      for (const clusterCIDR of [undefined, '10.64.0.0/10']) {
        const pod = await cni.newPod(clusterCIDR ? 'k8s' : 'single');
        // Two networks (a network's rules are made with its first pod): a single node's, and a cluster node's.
        const conf = clusterCIDR
          ? cni.config({ name: 'cluster', bridge: `${box.prefix}k`, ipam: { type: 'minictr', subnet: '10.77.1.0/24', dataDir: join(cni.dataDir, 'ipam') }, clusterCIDR })
          : cni.config({ name: 'single', bridge: `${box.prefix}s`, ipam: { type: 'minictr', subnet: '10.77.2.0/24', dataDir: join(cni.dataDir, 'ipam') } });
        const add = await cni.run('ADD', conf, pod);
        assert.equal(add.code, 0, add.stdout);
        const ip = ((add.json?.['ips'] as { address: string }[])[0]?.address ?? '').split('/')[0] ?? '';
        const server = cni.background(pod, ['socat', 'TCP-LISTEN:80,fork,reuseaddr', 'SYSTEM:echo peer=$SOCAT_PEERADDR']);
        await eventually(async () => (await cni.inPod(pod, ['sh', '-c', 'grep -q ":0050 " /proc/net/tcp'])).code === 0, 5_000, 'the pod server to listen');
        const direct = await box.wan(['timeout', '3', 'socat', '-T2', '-', `TCP:${ip}:80`], { input: '' });
        const out = await cni.inPod(pod, ['timeout', '3', 'socat', '-T2', '-', `TCP:${WAN_IP}:9000`], { timeoutMs: 10_000 });
        if (clusterCIDR) {
          assert.equal(peer(direct), WAN_IP, `the other node reaches the pod directly, not NATed: ${direct.stdout}${direct.stderr}`);
          assert.equal(peer(out), ip, 'the pod reaches the other node with its own address (no MASQUERADE inside the cluster)');
          assert.equal((await cni.run('CHECK', conf, pod)).code, 0);
        } else {
          assert.equal(peer(direct), '', 'a single node lets nobody route straight to a pod');
          assert.equal(peer(out), HOST_IP, 'a single node masquerades the pod going out');
        }
        killStarted([server]);
        assert.equal((await cni.run('DEL', conf, pod)).code, 0);
        await cni.removePodNetns(pod);
      }
    } finally {
      await box.wan(['ip', 'route', 'del', '10.77.0.0/16']);
    }
    assert.deepEqual(await cni.attachmentRules(), []);
  });

  it("minictr net inspect labels the plugin's links and rules", async () => {
    const pod = await cni.newPod('inspect');
    const conf = cni.config({ runtimeConfig: { portMappings: [{ hostPort: 8093, containerPort: 80, protocol: 'tcp' }] } });
    assert.equal((await cni.run('ADD', conf, pod)).code, 0);
    const inspect = await box.minictr(['net', 'inspect']);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.match(inspect.stdout, /vcni[0-9a-f]{11} .*host end of a pod's veth pair, made by minictr-cni/);
    assert.match(inspect.stdout, new RegExp(`${box.prefix}b .*bridge of a minictr-cni network`));
    assert.match(inspect.stdout, /  c -A MINICTR -d 127\.0\.0\.0|  c -A MINICTR .*--dport 8093 .*DNAT --to-destination 10\.77\.0\.\d+:80/);
    assert.match(inspect.stdout, /minictr:cni-[0-9a-f]{12}\s+= a pod attached by minictr-cni \(cni-[0-9a-f]{12}\)/);
    assert.match(inspect.stdout, /minictr:cni:mynet\s+= CNI network "mynet" \(minictr-cni\)/);
    assert.match(inspect.stdout, /\d+ rules made by minictr-cni/);
    assert.doesNotMatch(inspect.stdout, /not in any plan/, "the plugin's rules are not reported as leftovers");
    assert.equal((await cni.run('DEL', conf, pod)).code, 0);
    await nothingLeft();
    await cni.removePodNetns(pod);
  });

  it("removing minictr's last network leaves the shared chains the plugin's pods use", async () => {
    const pod = await cni.newPod('shared');
    const conf = cni.config();
    assert.equal((await cni.run('ADD', conf, pod)).code, 0);
    assert.equal((await box.minictr(['network', 'create', '--subnet', '10.76.0.0/24', 'solo'])).code, 0);
    assert.equal((await box.minictr(['run', '--rm', '--network', 'solo', 'busybox', 'true'])).code, 0, 'the network gets its bridge and rules');
    const rm = await box.minictr(['network', 'rm', 'solo']);
    assert.equal(rm.code, 0, rm.stderr);
    const check = await cni.run('CHECK', conf, pod);
    assert.equal(check.code, 0, `the pod's network is whole: ${check.stdout}`);
    assert.equal((await cni.inPod(pod, ['busybox', 'ping', '-c1', '-W2', WAN_IP])).code, 0);
    assert.equal((await cni.run('DEL', conf, pod)).code, 0);
    await nothingLeft();
    await cni.removePodNetns(pod);
  });

  it('MINICTR_CNI_EXPLAIN appends the plan applied, in --explain form', async () => {
    const pod = await cni.newPod('explain');
    const file = join(cni.dataDir, 'explain.log');
    const conf = cni.config();
    assert.equal((await cni.run('ADD', conf, pod, { MINICTR_CNI_EXPLAIN: file })).code, 0);
    assert.equal((await cni.run('DEL', conf, pod, { MINICTR_CNI_EXPLAIN: file })).code, 0);
    const text = await readFile(file, 'utf8');
    assert.match(text, new RegExp(`# minictr-cni ADD container ${pod.containerId} eth0 network mynet`));
    assert.match(text, /\[ +[\d.]+ ms\] # connect the network namespace \/run\/netns\/\S+ to the host with a veth pair/);
    assert.match(text, /nsenter --net=\/run\/netns\/\S+ sh -c 'echo 1 > \/proc\/sys\/net\/ipv6\/conf\/eth0\/disable_ipv6 && exec ip -batch -' <<'EOF'/);
    assert.match(text, /# minictr-cni DEL container/);
    assert.match(text, /ip link del vcni[0-9a-f]{11}/);
    await nothingLeft();
    await cni.removePodNetns(pod);
  });

  it('30 concurrent ADDs get 30 distinct addresses; 30 concurrent DELs leave nothing', async () => {
    const conf = cni.config();
    const pods = await Promise.all(Array.from({ length: 30 }, (_, i) => cni.newPod(`c${i}`)));
    const adds = await Promise.all(pods.map((pod) => cni.run('ADD', conf, pod)));
    for (const r of adds) assert.equal(r.code, 0, r.stdout);
    const addresses = adds.map((r) => (r.json?.['ips'] as { address: string }[])[0]?.address);
    assert.equal(new Set(addresses).size, 30, `distinct: ${addresses.join(' ')}`);
    assert.equal(Object.keys((await cni.state()).leases).length, 30);
    assert.equal((await cni.attachmentLinks()).length, 30);
    const dels = await Promise.all(pods.map((pod) => cni.run('DEL', conf, pod)));
    for (const r of dels) assert.equal(r.code, 0, r.stdout);
    await nothingLeft();
    for (const pod of pods) await cni.removePodNetns(pod);
  });

  it('delegated IPAM: host-local hands out the address, from its own store, and DEL frees it', async () => {
    const store = join(cni.dataDir, 'host-local');
    const conf = cni.config({ name: 'hl', bridge: `${box.prefix}l`, ipam: { type: 'host-local', ranges: [[{ subnet: '10.78.0.0/24' }]], dataDir: store } });
    const pod = await cni.newPod('hl');
    const add = await cni.run('ADD', conf, pod);
    assert.equal(add.code, 0, add.stdout + add.stderr);
    assert.equal((add.json?.['ips'] as { address: string }[])[0]?.address, '10.78.0.2/24');
    assert.equal((await cni.inPod(pod, ['busybox', 'ping', '-c1', '-W2', WAN_IP])).code, 0);
    assert.equal((await readFile(join(store, 'hl', '10.78.0.2'), 'utf8')).split(/\r?\n/)[0], pod.containerId);
    assert.equal((await cni.run('CHECK', conf, pod)).code, 0);
    assert.equal((await cni.run('DEL', conf, pod)).code, 0);
    await assert.rejects(readFile(join(store, 'hl', '10.78.0.2'), 'utf8'), 'host-local freed the address');
    assert.deepEqual(await cni.attachmentRules(), []);
    await cni.removePodNetns(pod);
  });
  it('ipMasq false: the pod goes out with its own address (no MASQUERADE of the subnet); CHECK agrees; DEL leaves nothing', async () => {
    const subnet = '10.77.3.0/24';
    const conf = cni.config({ name: 'nomasq', bridge: `${box.prefix}m`, ipMasq: false, ipam: { type: 'minictr', subnet, dataDir: join(cni.dataDir, 'ipam') } });
    const pod = await cni.newPod('nomasq');
    const add = await cni.run('ADD', conf, pod);
    assert.equal(add.code, 0, add.stdout);
    const ip = ((add.json?.['ips'] as { address: string }[])[0]?.address ?? '').split('/')[0] ?? '';
    const save = (await box.host(['iptables-save', '-t', 'nat'])).stdout;
    assert.doesNotMatch(save, /-s 10\.77\.3\.0\/24 .*MASQUERADE/, 'no MASQUERADE of the subnet');
    assert.match(save, new RegExp(`-o ${box.prefix}m -m addrtype --src-type LOCAL .*MASQUERADE`), 'the rest of the network rules are there');
    assert.equal(await cni.seenFromOutside(pod, subnet, 9100), ip, "the outside world sees the pod's own address");
    const check = await cni.run('CHECK', conf, pod);
    assert.equal(check.code, 0, `CHECK expects no MASQUERADE either: ${check.stdout}`);
    assert.equal((await cni.run('DEL', conf, pod)).code, 0);
    await nothingLeft();
    await cni.removePodNetns(pod);
  });

  it('isGateway false: the bridge holds no address and pods get no default route, yet reach each other; with a default route in ipam.routes they get it; hairpinMode false leaves hairpin off', async () => {
    const ipam = { type: 'minictr', subnet: '10.77.4.0/24', dataDir: join(cni.dataDir, 'ipam') };
    const bridge = `${box.prefix}g`;
    const conf = cni.config({ name: 'nogw', bridge, isGateway: false, hairpinMode: false, ipam });
    const [a, b, routed] = [await cni.newPod('gwa'), await cni.newPod('gwb'), await cni.newPod('gwr')];
    const addA = await cni.run('ADD', conf, a);
    assert.equal(addA.code, 0, addA.stdout);
    assert.deepEqual(addA.json?.['routes'], [], 'the result has no default route');
    assert.equal((await cni.run('ADD', conf, b)).code, 0);
    assert.doesNotMatch((await box.host(['ip', '-4', 'addr', 'show', 'dev', bridge])).stdout, /inet /, 'no gateway address on the bridge');
    assert.equal((await cni.inPod(a, ['ip', 'route', 'show', 'default'])).stdout.trim(), '', 'no default route in the pod');
    assert.equal((await cni.inPod(a, ['busybox', 'ping', '-c1', '-W2', '10.77.4.3'])).code, 0, 'pods on the bridge reach each other');
    const veth = (addA.json?.['interfaces'] as { name: string }[])[1]?.name ?? '';
    const link = JSON.parse((await box.host(['ip', '-d', '-j', 'link', 'show', 'dev', veth])).stdout) as { linkinfo?: { info_slave_data?: { hairpin?: boolean } } }[];
    assert.equal(link[0]?.linkinfo?.info_slave_data?.hairpin, false, 'hairpin off on the pod\'s bridge port');
    for (const pod of [a, b]) assert.equal((await cni.run('CHECK', conf, pod)).code, 0, 'CHECK does not ask for a default route');

    const withRoute = cni.config({ name: 'nogw', bridge, isGateway: false, ipam: { ...ipam, routes: [{ dst: '0.0.0.0/0' }] } });
    const addR = await cni.run('ADD', withRoute, routed);
    assert.equal(addR.code, 0, addR.stdout);
    assert.deepEqual(addR.json?.['routes'], [{ dst: '0.0.0.0/0', gw: '10.77.4.1' }]);
    assert.match((await cni.inPod(routed, ['ip', 'route', 'show', 'default'])).stdout, /default via 10\.77\.4\.1 dev eth0/);
    assert.equal((await cni.run('CHECK', withRoute, routed)).code, 0);
    assert.doesNotMatch((await box.host(['ip', '-4', 'addr', 'show', 'dev', bridge])).stdout, /inet /, 'still no address on the bridge');
    assert.equal((await cni.inPod(routed, ['ip', 'route', 'del', 'default'])).code, 0);
    assert.match(String((await cni.run('CHECK', withRoute, routed)).json?.['msg']), /the default route via 10\.77\.4\.1/);

    for (const [pod, c] of [[a, conf], [b, conf], [routed, withRoute]] as const) assert.equal((await cni.run('DEL', c, pod)).code, 0);
    await nothingLeft();
    for (const pod of [a, b, routed]) await cni.removePodNetns(pod);
  });

  it('GC and DEL remove the rules and veths of attachments whose record and lease are gone (state lost, an ADD cut short), and keep a listed one', async () => {
    const conf = cni.config({ runtimeConfig: { portMappings: [{ hostPort: 8094, containerPort: 80, protocol: 'tcp' }] } });
    const [kept, lost, again] = [await cni.newPod('sk'), await cni.newPod('sl'), await cni.newPod('sa')];
    for (const pod of [kept, lost, again]) assert.equal((await cni.run('ADD', pod === lost ? conf : cni.config(), pod)).code, 0);
    const before = await cni.attachmentRules();
    await cni.forgetState();
    assert.deepEqual(await cni.state(), { attachments: [], leases: {} });
    const gc = await cni.run('GC', { ...cni.config(), 'cni.dev/valid-attachments': [kept, again].map((p) => ({ containerID: p.containerId, ifname: p.ifname })) });
    assert.equal(gc.code, 0, gc.stdout);
    const after = await cni.attachmentRules();
    assert.ok(before.some((l) => l.includes('--dport 8094')) && !after.some((l) => l.includes('--dport 8094')), 'the lost pod\'s DNAT is gone');
    assert.equal(after.length, before.length - before.filter((l) => !after.includes(l)).length);
    assert.doesNotMatch((await cni.inPod(lost, ['ip', 'link'])).stdout, /eth0/, 'GC removed its veth');
    assert.equal((await cni.attachmentLinks()).length, 2, 'the listed pods keep theirs');
    assert.equal((await cni.inPod(kept, ['busybox', 'ping', '-c1', '-W2', WAN_IP])).code, 0, 'a listed pod still works');
    // DEL of a pod the plugin has no record of still removes what is left of it, and only that.
    assert.equal((await cni.run('DEL', cni.config(), again)).code, 0);
    assert.doesNotMatch((await cni.inPod(again, ['ip', 'link'])).stdout, /eth0/);
    assert.equal((await cni.attachmentLinks()).length, 1);
    assert.equal((await cni.run('DEL', cni.config(), kept)).code, 0);
    await nothingLeft();
    for (const pod of [kept, lost, again]) await cni.removePodNetns(pod);
  });
  it('an ADD killed after making its rules: GC (or DEL) removes its rules, veth, lease and record, through the record written before anything was made', async () => {
    const conf = cni.config({ runtimeConfig: { portMappings: [{ hostPort: 8095, containerPort: 80, protocol: 'tcp' }] } });
    const [crashed, again] = [await cni.newPod('crash1'), await cni.newPod('crash2')];
    await cni.crashAt('cni-rules-made', 'ADD', conf, crashed);
    await cni.crashAt('cni-rules-made', 'ADD', cni.config(), again);
    assert.ok((await cni.attachmentRules()).some((l) => l.includes('--dport 8095')), 'the killed ADD left its rules');
    assert.equal((await cni.state()).attachments.length, 2, 'and its record, still pending');
    const gc = await cni.run('GC', { ...cni.config(), 'cni.dev/valid-attachments': [{ containerID: again.containerId, ifname: again.ifname }] });
    assert.equal(gc.code, 0, gc.stdout);
    assert.doesNotMatch((await cni.inPod(crashed, ['ip', 'link'])).stdout, /eth0/, 'GC removed the unlisted one');
    assert.equal((await cni.state()).attachments.length, 1);
    assert.equal((await cni.run('DEL', cni.config(), again)).code, 0, "the runtime's DEL of the listed one");
    await nothingLeft();
    for (const pod of [crashed, again]) await cni.removePodNetns(pod);
  });
});
