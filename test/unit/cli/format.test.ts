import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate } from '../../../src/cli/template.js';
import { formatPsTable } from '../../../src/cli/ps.js';
import { statusText } from '../../../src/runtime/inspect.js';
import { renderShell, shellQuote } from '../../../src/explain/render.js';
import { inspectContainer } from '../../../src/runtime/inspect.js';
import type { ContainerRecord } from '../../../src/base/records.js';
import { command, write } from '../../../src/base/plan.js';

const record: ContainerRecord = {
  schemaVersion: 1,
  id: 'abcdef0123456789'.repeat(4),
  name: 'web',
  created: '2026-11-27T10:00:00.000Z',
  config: { image: 'busybox', imageId: 'f'.repeat(64), cmd: ['httpd', '-f', '-p', '5000', '-h', '/etc'], entrypoint: [], env: ['PATH=/bin'], workdir: '/', hostname: 'abcdef012345', tty: false, interactive: false },
  hostConfig: { networkMode: 'bridge', autoRemove: false, portSpecs: ['5005:5000'] },
  state: { status: 'running', pid: 10, pidStartTime: 1, monitorPid: 9, exitCode: 0, startedAt: '2026-11-27T10:00:01.000Z', finishedAt: '0001-01-01T00:00:00Z', error: '' },
  network: { network: 'bridge', bridge: 'minictr0', netns: 'minictr-abcdef012345', hostVeth: 'vethabcdef0', ip: '172.18.0.2', prefixLength: 16, gateway: '172.18.0.1', mac: '02:42:ac:12:00:02', ports: [{ hostIp: '', hostPort: 5005, containerPort: 5000, proto: 'tcp' }] },
  rootfsMode: 'overlay',
};

describe('inspect and --format', () => {
  it('is shaped like Docker\'s', () => {
    const doc = inspectContainer(record);
    assert.equal(renderTemplate('{{.NetworkSettings.Networks.bridge.IPAddress}}', doc), '172.18.0.2');
    assert.equal(renderTemplate('{{.HostConfig.PortBindings}}', doc), 'map[5000/tcp:[map[HostIp: HostPort:5005]]]');
    assert.equal(renderTemplate('{{json .State.Running}} {{.Name}}', doc), 'true /web');
    assert.equal(renderTemplate('{{.NetworkSettings.MacAddress}}', doc), '02:42:ac:12:00:02');
    assert.equal(renderTemplate('{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', doc), '172.18.0.2');
    assert.throws(() => renderTemplate('{{range .X}}', doc), /template parsing error: template: :1: unexpected EOF/);
  });
});

describe('ps', () => {
  const now = new Date('2026-11-27T10:00:31.000Z');
  it('prints Docker\'s columns, truncating the command at 20 characters', () => {
    const lines = formatPsTable([record], {}, now).split('\n');
    assert.match(lines[0] ?? '', /^CONTAINER ID {3}IMAGE {5}COMMAND {18}CREATED {10}STATUS {10}PORTS {20}NAMES$/);
    assert.match(lines[1] ?? '', /^abcdef012345 {3}busybox {3}"httpd -f -p 5000 -h…" {3}31 seconds ago {3}Up 30 seconds {3}0\.0\.0\.0:5005->5000\/tcp {3}web$/);
  });
  it('describes exited and created containers as Docker does', () => {
    const exited: ContainerRecord = { ...record, state: { ...record.state, status: 'exited', exitCode: 137, finishedAt: '2026-11-27T10:00:21.000Z' } };
    assert.equal(statusText(exited, now), 'Exited (137) 10 seconds ago');
    assert.equal(statusText({ ...record, state: { ...record.state, status: 'created' } }, now), 'Created');
    assert.equal(formatPsTable([record], { quiet: true }, now), 'abcdef012345');
  });
  it('--format takes a template per row, and `table` puts Docker\'s titles over aligned columns', () => {
    assert.equal(formatPsTable([record], { format: '{{.Names}} {{.State}}' }, now), 'web running');
    assert.deepEqual(formatPsTable([record], { format: 'table {{.ID}}\t{{.Names | upper}}' }, now).split('\n'), [
      'CONTAINER ID   NAMES',
      'abcdef012345   WEB',
    ]);
  });
});

describe('--dry-run rendering', () => {
  it('prints each step under its reason, batches in their one-command form', () => {
    const text = renderShell({
      title: 'demo',
      ops: [
        write('/proc/sys/net/ipv4/ip_forward', '1', 'make the host a router'),
        command(['ip', '-batch', '-'], 'make a bridge', { stdin: 'link add b type bridge\n', shown: [['ip', 'link', 'add', 'b', 'type', 'bridge']] }),
        command(['ip', 'link', 'del', 'x'], 'remove x', { tolerate: /Cannot find/ }),
      ],
    });
    assert.equal(text, [
      '# demo', '# make the host a router', 'echo 1 > /proc/sys/net/ipv4/ip_forward',
      '# make a bridge', 'ip link add b type bridge', '# remove x', 'ip link del x || true', '',
    ].join('\n'));
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
  });
});
