// -p [::1]:PORT:CPORT, served by minictr's port relay in the host's namespace (Docker's
// docker-proxy: IPv6 has no route_localnet, so kernel NAT cannot take ::1 to a container).
// Per firewall driver, inside the sandbox: the host's [::1] reaches the container, which sees the
// bridge's gateway; the relay (found by the pid its container's record holds) goes with every
// exit and comes back with every start; a taken port is refused; a crash leaves no relay.
import { describe, test, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WEB } from './network-v6-matrix.js';
import { HOST_IP6, MINICTR_BIN, Sandbox, eventually, isRoot, type FirewallName, type Result } from './sandbox.js';

for (const firewall of ['iptables', 'nftables'] as FirewallName[]) {
  describe(`-p [::1]:… through the port relay (${firewall} firewall)`, { skip: !isRoot && 'needs root' }, () => {
    const sb = new Sandbox({ firewall });
    let gateway6 = '';

    const show = (r: Result): string => `exit ${r.code}; stdout: ${JSON.stringify(r.stdout.slice(0, 400))}; stderr: ${JSON.stringify(r.stderr.slice(0, 400))}`;
    async function mcOk(args: string[]): Promise<string> {
      const r = await sb.minictr(args);
      assert.equal(r.code, 0, `minictr ${args.join(' ')} failed: ${show(r)}`);
      return r.stdout;
    }
    const inspect = async (name: string, template: string): Promise<string> => (await mcOk(['inspect', '-f', template, name])).trim();
    /** busybox httpd writes an IPv6 REMOTE_ADDR in brackets. */
    const bare = (text: string): string => text.trim().replace(/^\[(.*)\]$/, '$1');
    const hostGet = (target: string): Promise<Result> => sb.host(['timeout', '3', 'busybox', 'wget', '-qO-', target]);
    async function eventuallyGet(target: string): Promise<string> {
      let last: Result | undefined;
      try {
        return await eventually(async () => {
          last = await hostGet(target);
          return last.code === 0 && last.stdout.trim() !== '' ? last.stdout.trim() : false;
        }, 10_000, `GET ${target}`);
      } catch (err) {
        throw new Error(`${(err as Error).message}; last attempt: ${last ? show(last) : 'none'}`);
      }
    }
    /** The relay's pid, as the container's record holds it (0: none recorded). */
    async function relayPid(name: string): Promise<number> {
      const id = await inspect(name, '{{.Id}}');
      const rec = JSON.parse(await readFile(join(sb.root, 'containers', id, 'config.json'), 'utf8')) as { network?: { relay?: { pid: number } } };
      return rec.network?.relay?.pid ?? 0;
    }
    const alive = (pid: number): Promise<boolean> => access(`/proc/${pid}`).then(() => true, () => false);
    const gone = (pid: number, what: string): Promise<boolean> => eventually(async () => !(await alive(pid)), 10_000, what);
    /** Something listens on [::1]:port in the sandbox host. */
    async function listening(port: number): Promise<boolean> {
      const r = await sb.host(['ss', '-Hltn', `sport = :${port}`]);
      return r.stdout.includes(`[::1]:${port}`);
    }
    async function rulesText(): Promise<string> {
      if (firewall === 'nftables') return (await sb.host(['nft', 'list', 'ruleset', 'inet'])).stdout;
      const text = `${(await sb.host(['iptables-save'])).stdout}\n${(await sb.host(['ip6tables-save'])).stdout}`;
      return text.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]')).join('\n');
    }

    before(async () => {
      await sb.setup();
      await mcOk(['network', 'create', '--ipv6', 'v6relay']);
      gateway6 = (await mcOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 1).Gateway}}', 'v6relay'])).trim();
    });
    after(() => sb.cleanup());

    test('the host\'s [::1] reaches the container, which sees the bridge\'s IPv6 gateway; port, ps and inspect show ::1', async () => {
      await mcOk(['run', '-d', '--name', 'lo6', '--network', 'v6relay', '-p', '[::1]:8080:5000', 'busybox', 'sh', '-c', WEB]);
      assert.equal(await eventuallyGet('http://[::1]:8080/hostname'), await inspect('lo6', '{{.Config.Hostname}}'));
      assert.equal(bare(await eventuallyGet('http://[::1]:8080/cgi-bin/ip')), gateway6);
      assert.deepEqual((await mcOk(['port', 'lo6'])).trim().split('\n'), ['5000/tcp -> [::1]:8080']);
      assert.match(await mcOk(['ps']), /\[::1\]:8080->5000\/tcp/);
      assert.equal(await inspect('lo6', '{{json .HostConfig.PortBindings}}'), '{"5000/tcp":[{"HostIp":"::1","HostPort":"8080"}]}');
      assert.equal(await inspect('lo6', '{{json .NetworkSettings.Ports}}'), '{"5000/tcp":[{"HostIp":"::1","HostPort":"8080"}]}');
      const pid = await relayPid('lo6');
      assert.ok(pid > 0 && (await alive(pid)), 'the record holds a live relay');
      assert.equal(await inspect('lo6', '{{.Minictr.RelayPid}}'), String(pid));
      // Published on [::1] only: the host's other addresses have no such port, and no rule names it.
      assert.notEqual((await hostGet(`http://[${HOST_IP6}]:8080/hostname`)).code, 0, `[${HOST_IP6}]:8080 answered`);
      assert.doesNotMatch(await rulesText(), /\b8080\b/, 'a firewall rule or element names the relay\'s port');
    });

    test('stop and kill end the relay; start brings a new one', async () => {
      for (const end of [['stop', '-t', '1'], ['kill']]) {
        const first = await relayPid('lo6');
        await mcOk([...end, 'lo6']);
        await gone(first, `relay ${first} to end with ${end[0] ?? ''}`);
        assert.equal(await listening(8080), false, `something still listens on [::1]:8080 after ${end[0] ?? ''}`);
        await mcOk(['start', 'lo6']);
        const second = await relayPid('lo6');
        assert.ok(second > 0 && second !== first && (await alive(second)), `a new relay after start (was ${first}, now ${second})`);
        assert.equal(bare(await eventuallyGet('http://[::1]:8080/cgi-bin/ip')), gateway6);
      }
    });

    test('a port taken on [::1] (by a container, by another listener) is already allocated: exit 125, nothing made', async () => {
      const rules = await rulesText();
      const clash = await sb.minictr(['run', '-d', '--name', 'clash', '--network', 'v6relay', '-p', '[::1]:8080:5000', 'busybox', 'true']);
      assert.equal(clash.code, 125, show(clash));
      assert.equal(clash.stderr.trim(), 'minictr: Bind for [::1]:8080 failed: port is already allocated');
      // Someone else's listener, on [::1]:8090.
      const foreign = sb.background('host', ['socat', 'TCP6-LISTEN:8090,bind=[::1],reuseaddr,fork', 'SYSTEM:echo foreign']);
      await eventually(() => listening(8090), 10_000, 'the foreign listener');
      const taken = await sb.minictr(['run', '-d', '--name', 'clash2', '--network', 'v6relay', '-p', '[::1]:8090:5000', 'busybox', 'true']);
      assert.equal(taken.code, 125, show(taken));
      assert.equal(taken.stderr.trim(), 'minictr: Bind for [::1]:8090 failed: port is already allocated');
      if (foreign.pid) process.kill(foreign.pid, 'SIGKILL');
      assert.equal(await rulesText(), rules, 'a refused run changed the firewall');
      // As minictr's run -d does with any refused start: the container is not kept either.
      assert.doesNotMatch(await mcOk(['ps', '-a', '--format', '{{.Names}}']), /clash/);
      assert.equal(bare(await eventuallyGet('http://[::1]:8080/cgi-bin/ip')), gateway6, 'the first container lost its port');
    });

    test('the container\'s process killed: the relay goes with it; a restart policy brings it back', async () => {
      await mcOk(['run', '-d', '--name', 'again', '--restart', 'always', '--network', 'v6relay', '-p', '[::1]:8081:5000', 'busybox', 'sh', '-c', WEB]);
      assert.match(await eventuallyGet('http://[::1]:8081/hostname'), /\w/);
      const first = await relayPid('again');
      process.kill(Number(await inspect('again', '{{.State.Pid}}')), 'SIGKILL');
      await gone(first, `relay ${first} to end with its container's process`);
      const second = await eventually(async () => {
        const pid = await relayPid('again');
        return pid > 0 && pid !== first ? pid : false;
      }, 15_000, 'the restarted container\'s relay');
      assert.ok(await alive(second));
      assert.equal(bare(await eventuallyGet('http://[::1]:8081/cgi-bin/ip')), gateway6);
      const last = await relayPid('again');
      await mcOk(['rm', '-f', 'again']);
      await gone(last, `relay ${last} to end with rm -f`);
    });

    test('[::1] on a network without IPv6: the relay connects to the container\'s IPv4 address (as docker-proxy)', async () => {
      await mcOk(['run', '-d', '--name', 'v4only', '-p', '[::1]:8082:5000', 'busybox', 'sh', '-c', WEB]);
      try {
        const gateway = await inspect('v4only', '{{.NetworkSettings.Gateway}}');
        // A dual-stack server sees an IPv4 client as ::ffff:a.b.c.d.
        assert.equal(bare(await eventuallyGet('http://[::1]:8082/cgi-bin/ip')).replace(/^::ffff:/, ''), gateway);
      } finally {
        const pid = await relayPid('v4only');
        await mcOk(['rm', '-f', 'v4only']);
        await gone(pid, 'the v4only relay');
      }
    });

    test('--dry-run shows the relay with its why, and starts nothing', async () => {
      const out = await mcOk(['run', '--dry-run', '--network', 'v6relay', '-p', '[::1]:7070:80', 'busybox', 'true']);
      assert.match(out, /^# publish \[::1\]:7070 → \[fd[0-9a-f:]+\]:80\/tcp: ports published on \[::1\]: IPv6 has no route_localnet/m, out);
      assert.match(out, /^#   \S+ \S+\/dist\/minictr-relay\.cjs$/m, out);
      assert.equal(await listening(7070), false);
    });

    test('minictr killed with -9 after handing the relay its sockets: the relay ends, rm -f leaves nothing', async () => {
      const marker = join(sb.root, 'paused-at-relay-handed');
      const child = spawn('nsenter', [`--net=/run/netns/${sb.hostNs}`, '--', process.execPath, '--', MINICTR_BIN, '--root', sb.root,
        'run', '-d', '--name', 'crash', '--network', 'v6relay', '-p', '[::1]:8083:5000', 'busybox', 'httpd', '-f', '-p', '5000'], {
        stdio: 'ignore', env: { ...process.env, MINICTR_PAUSE_AT: 'relay-handed' },
      });
      let exited = false;
      child.once('exit', () => { exited = true; });
      await eventually(async () => exited || (await access(marker).then(() => true, () => false)), 20_000, 'the relay-handed step');
      assert.ok(!exited, 'minictr ended before the relay took its sockets');
      assert.ok(await listening(8083), 'the relay holds [::1]:8083 while minictr pauses');
      if (child.pid) process.kill(child.pid, 'SIGKILL');
      await eventually(async () => exited, 5_000, 'minictr to die');
      await eventually(async () => !(await listening(8083)), 10_000, 'the uncommitted relay to end with minictr');
      assert.equal(await relayPid('crash'), 0, 'a relay was recorded');
      await mcOk(['rm', '-f', 'crash']);
    });

    test('rm -f ends the relay and frees the port', async () => {
      const pid = await relayPid('lo6');
      await mcOk(['rm', '-f', 'lo6']);
      await gone(pid, `relay ${pid} to end with rm -f`);
      assert.equal(await listening(8080), false);
      assert.equal((await mcOk(['ps', '-aq'])).trim(), '');
    });
  });
}
