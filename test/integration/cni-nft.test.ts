// The CNI plugin with firewallBackend "nftables": a pod's published port is map elements in
// minictr's inet table, and ADD, CHECK, DEL and GC work on them as on iptables rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, isRoot, killStarted, HOST_IP, WAN_IP } from './sandbox.js';
import { cniSuite, type Pod } from './cni-harness.js';

describe('minictr-cni with the nftables firewall driver', { skip: !isRoot && 'needs root' }, () => {
  const { box, cni } = cniSuite();
  const nft = (patch: Record<string, unknown> = {}): Record<string, unknown> => cni.config({ firewallBackend: 'nftables', ...patch });

  const nothingLeft = (): Promise<void> => cni.assertNothingLeft('nftables');
  const ruleset = async (): Promise<string> => (await box.host(['nft', 'list', 'ruleset'])).stdout;

  it('ADD publishes the portMapping as map elements, reached from the outside world, with no iptables rule; CHECK passes; DEL twice leaves nothing', async () => {
    const pod = await cni.newPod('web');
    const conf = nft({ runtimeConfig: { portMappings: [{ hostPort: 8095, containerPort: 80, protocol: 'tcp' }] } });
    const add = await cni.run('ADD', conf, pod);
    assert.equal(add.code, 0, add.stdout);
    assert.equal((add.json?.['ips'] as { address: string }[])[0]?.address, '10.77.0.2/24');
    assert.match(await ruleset(), /tcp \. 8095 comment "minictr:cni-[0-9a-f]{12}" : 10\.77\.0\.2 \. 80/);
    assert.deepEqual(await cni.attachmentRules('iptables'), [], 'nothing in iptables');
    assert.equal((await cni.inPod(pod, ['busybox', 'ping', '-c1', '-W2', WAN_IP])).code, 0, 'the pod reaches the outside world (masqueraded by nftables)');
    cni.background(pod, ['socat', 'TCP-LISTEN:80,fork,reuseaddr', 'SYSTEM:echo hello-from-pod']);
    const reply = await eventually(async () => {
      const r = await box.wan(['timeout', '3', 'socat', '-T2', '-', `TCP:${HOST_IP}:8095`], { input: '' });
      return r.stdout.includes('hello-from-pod') && r.stdout;
    }, 10_000, 'the published port to answer from the outside world');
    assert.match(reply, /hello-from-pod/);
    const check = await cni.run('CHECK', conf, pod);
    assert.equal(check.code, 0, check.stdout);
    assert.equal((await cni.run('DEL', conf, pod)).code, 0);
    assert.equal((await cni.run('DEL', conf, pod)).code, 0, 'a second DEL succeeds');
    await nothingLeft();
    await cni.removePodNetns(pod);
  });

  it('CHECK reports an element deleted by hand; DEL tolerates it', async () => {
    const pod = await cni.newPod('chk');
    const conf = nft({ runtimeConfig: { portMappings: [{ hostPort: 8096, containerPort: 80, protocol: 'tcp' }] } });
    assert.equal((await cni.run('ADD', conf, pod)).code, 0);
    assert.equal((await box.host(['nft', 'delete element inet minictr ports-any4 { tcp . 8096 }'])).code, 0);
    const check = await cni.run('CHECK', conf, pod);
    assert.equal(check.json?.['code'], 100, check.stdout);
    assert.match(String(check.json?.['msg']), /missing 1 thing\(s\): the element "tcp \. 8096 comment "minictr:cni-[0-9a-f]{12}" : 10\.77\.0\.\d+ \. 80" of @ports-any4/);
    assert.equal((await cni.run('DEL', conf, pod)).code, 0);
    await nothingLeft();
    await cni.removePodNetns(pod);
  });

  it('GC with a partial valid-attachments list frees the rest, recorded or not (state lost), and keeps the listed one working', async () => {
    const pods = [await cni.newPod('gc1'), await cni.newPod('gc2'), await cni.newPod('gc3')];
    const [keep, drop, lost] = pods as [Pod, Pod, Pod];
    for (const [i, pod] of pods.entries()) {
      const r = await cni.run('ADD', nft({ runtimeConfig: { portMappings: [{ hostPort: 8100 + i, containerPort: 80, protocol: 'tcp' }] } }), pod);
      assert.equal(r.code, 0, r.stdout);
    }
    // lost's record and lease go, as if the plugin's state were wiped: only the kernel still has it.
    const dir = join(cni.dataDir, 'networks', 'mynet', 'attachments');
    const records = (await cni.state()).attachments;
    assert.equal(records.length, 3);
    const texts = await Promise.all(records.map(async (f) => ({ f, text: await readFile(join(dir, f), 'utf8') })));
    const lostRecord = texts.find((r) => r.text.includes(lost.containerId));
    assert.ok(lostRecord);
    await rm(join(dir, lostRecord.f));
    const gc = await cni.run('GC', { ...nft(), 'cni.dev/valid-attachments': [{ containerID: keep.containerId, ifname: keep.ifname }] });
    assert.equal(gc.code, 0, gc.stdout);
    const left = await cni.attachmentRules('nftables');
    assert.ok(left.some((l) => l.includes('tcp . 8100')), 'the listed pod keeps its elements');
    assert.ok(!left.some((l) => /tcp \. 810[12]/.test(l)), `the others' elements are gone: ${left.join(' | ')}`);
    assert.deepEqual(Object.values((await cni.state()).leases).map((l) => l.containerId), [keep.containerId], 'leases of both are freed');
    for (const pod of [drop, lost]) assert.doesNotMatch((await cni.inPod(pod, ['ip', 'link'])).stdout, /eth0/, 'GC removed the veth');
    assert.equal((await cni.run('CHECK', nft(), keep)).code, 0, 'the listed attachment is untouched');
    assert.equal((await cni.inPod(keep, ['busybox', 'ping', '-c1', '-W2', WAN_IP])).code, 0);
    assert.equal((await cni.run('DEL', nft(), keep)).code, 0);
    await nothingLeft();
    for (const pod of pods) await cni.removePodNetns(pod);
  });

  it('30 concurrent ADDs with nftables get distinct addresses; 30 concurrent DELs leave nothing', async () => {
    const conf = nft();
    const pods = await Promise.all(Array.from({ length: 30 }, (_, i) => cni.newPod(`c${i}`)));
    const adds = await Promise.all(pods.map((pod) => cni.run('ADD', conf, pod)));
    for (const r of adds) assert.equal(r.code, 0, r.stdout);
    assert.equal(new Set(adds.map((r) => (r.json?.['ips'] as { address: string }[])[0]?.address)).size, 30);
    assert.equal((await cni.attachmentRules('nftables')).length, 30, 'one guard element each');
    const dels = await Promise.all(pods.map((pod) => cni.run('DEL', conf, pod)));
    for (const r of dels) assert.equal(r.code, 0, r.stdout);
    await nothingLeft();
    for (const pod of pods) await cni.removePodNetns(pod);
  });
  it('clusterCIDR with nftables: another node (the outside world, routed to the pod subnet) reaches a pod directly, and the pod it, with real addresses; CHECK agrees', async () => {
    const route = ['ip', 'route', 'add', '10.77.1.0/24', 'via', HOST_IP];
    assert.equal((await box.wan(route)).code, 0);
    const peer = (r: { stdout: string }): string => /peer=(\S+)/.exec(r.stdout)?.[1] ?? '';
    const wanServer = box.background('wan', ['socat', 'TCP-LISTEN:9000,fork,reuseaddr', 'SYSTEM:echo peer=$SOCAT_PEERADDR']);
    const pod = await cni.newPod('k8s');
    const conf = nft({ name: 'cluster', bridge: `${box.prefix}k`, ipam: { type: 'minictr', subnet: '10.77.1.0/24', dataDir: join(cni.dataDir, 'ipam') }, clusterCIDR: '10.64.0.0/10' });
    try {
      const add = await cni.run('ADD', conf, pod);
      assert.equal(add.code, 0, add.stdout);
      const ip = ((add.json?.['ips'] as { address: string }[])[0]?.address ?? '').split('/')[0] ?? '';
      cni.background(pod, ['socat', 'TCP-LISTEN:80,fork,reuseaddr', 'SYSTEM:echo peer=$SOCAT_PEERADDR']);
      await eventually(async () => (await cni.inPod(pod, ['sh', '-c', 'grep -q ":0050 " /proc/net/tcp'])).code === 0, 5_000, 'the pod server to listen');
      const direct = await box.wan(['timeout', '3', 'socat', '-T2', '-', `TCP:${ip}:80`], { input: '' });
      assert.equal(peer(direct), WAN_IP, `the other node reaches the pod directly, not NATed: ${direct.stdout}${direct.stderr}`);
      const out = await cni.inPod(pod, ['timeout', '3', 'socat', '-T2', '-', `TCP:${WAN_IP}:9000`], { timeoutMs: 10_000 });
      assert.equal(peer(out), ip, 'the pod reaches the other node with its own address');
      const check = await cni.run('CHECK', conf, pod);
      assert.equal(check.code, 0, check.stdout);
      assert.equal((await cni.run('DEL', conf, pod)).code, 0);
    } finally {
      killStarted([wanServer]);
      await box.wan(['ip', 'route', 'del', '10.77.1.0/24']);
    }
    await nothingLeft();
    await cni.removePodNetns(pod);
  });
  it("minictr net inspect shows and labels the pods' elements, though no minictr network uses nftables", async () => {
    const pod = await cni.newPod('inspect');
    const conf = nft({ runtimeConfig: { portMappings: [{ hostPort: 8097, containerPort: 80, protocol: 'tcp' }] } });
    assert.equal((await cni.run('ADD', conf, pod)).code, 0);
    const inspect = await box.minictr(['net', 'inspect']);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.match(inspect.stdout, /tcp \. 8097 comment "minictr:cni-[0-9a-f]{12}" : 10\.77\.0\.\d+ \. 80/);
    assert.match(inspect.stdout, /minictr:cni-[0-9a-f]{12}\s+= a pod attached by minictr-cni/);
    assert.doesNotMatch(inspect.stdout, /not in any plan/, "the plugin's elements are not reported as leftovers");
    assert.equal((await cni.run('DEL', conf, pod)).code, 0);
    await nothingLeft();
    await cni.removePodNetns(pod);
  });
  it('ipMasq false with nftables: the pod goes out with its own address and its replies come back (no masquerade, an empty guard chain); CHECK agrees', async () => {
    const subnet = '10.77.3.0/24';
    const conf = nft({ name: 'nomasq', bridge: `${box.prefix}m`, ipMasq: false, ipam: { type: 'minictr', subnet, dataDir: join(cni.dataDir, 'ipam') } });
    const pod = await cni.newPod('nomasq');
    const add = await cni.run('ADD', conf, pod);
    assert.equal(add.code, 0, add.stdout);
    const ip = ((add.json?.['ips'] as { address: string }[])[0]?.address ?? '').split('/')[0] ?? '';
    assert.doesNotMatch(await ruleset(), /ip saddr 10\.77\.3\.0\/24 masquerade/);
    assert.equal(await cni.seenFromOutside(pod, subnet, 9100), ip, "the outside world sees the pod's own address");
    const check = await cni.run('CHECK', conf, pod);
    assert.equal(check.code, 0, check.stdout);
    assert.equal((await cni.run('DEL', conf, pod)).code, 0);
    await nothingLeft();
    await cni.removePodNetns(pod);
  });
});
