// inspect's two views of published ports, as Docker has them: HostConfig.PortBindings is what was
// asked, NetworkSettings.Ports what it became (both families, the host port picked).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectContainer, requestedPortBindings } from '../../../src/runtime/inspect.js';
import type { ContainerRecord, PortMapping } from '../../../src/base/records.js';

const m = (hostIp: string, hostPort: number, containerPort: number, proto: 'tcp' | 'udp' = 'tcp'): PortMapping => ({ hostIp, hostPort, containerPort, proto });

function recordWith(portSpecs: string[], ports: PortMapping[]): ContainerRecord {
  return {
    schemaVersion: 1,
    id: 'a'.repeat(64),
    name: 'web',
    created: '2026-12-02T10:00:00.000Z',
    config: { image: 'busybox', imageId: 'f'.repeat(64), cmd: ['true'], entrypoint: [], env: [], workdir: '/', hostname: 'aaaaaaaaaaaa', tty: false, interactive: false },
    hostConfig: { networkMode: 'v6net', autoRemove: false, portSpecs },
    state: { status: 'running', pid: 10, pidStartTime: 1, monitorPid: 9, exitCode: 0, startedAt: '2026-12-02T10:00:01.000Z', finishedAt: '0001-01-01T00:00:00Z', error: '' },
    network: {
      network: 'v6net', bridge: 'minictr1', netns: 'minictr-aaaaaaaaaaaa', hostVeth: 'vethaaaaaaa', ip: '172.19.0.2', prefixLength: 16, gateway: '172.19.0.1',
      ip6: 'fd00:1::2', prefixLength6: 64, gateway6: 'fd00:1::1', mac: '02:42:ac:13:00:02', ports,
    },
    rootfsMode: 'overlay',
  };
}

describe('inspect: published ports', () => {
  it('HostConfig.PortBindings is what was asked; NetworkSettings.Ports shows 0.0.0.0 and [::]', () => {
    const doc = inspectContainer(recordWith(['8080:80'], [m('', 8080, 80), m('::', 8080, 80)])) as {
      HostConfig: { PortBindings: unknown };
      NetworkSettings: { Ports: unknown };
    };
    assert.deepEqual(doc.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
    assert.deepEqual(doc.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }] });
  });

  it('[::1] is shown as ::1 in both', () => {
    const doc = inspectContainer(recordWith(['[::1]:8080:80'], [m('::1', 8080, 80)])) as {
      HostConfig: { PortBindings: unknown };
      NetworkSettings: { Ports: unknown };
    };
    assert.deepEqual(doc.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '::1', HostPort: '8080' }] });
    assert.deepEqual(doc.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '::1', HostPort: '8080' }] });
  });

  it('-P: the exposed ports it added are not in PortBindings (the daemon picks them), PublishAllPorts says it', () => {
    const record = recordWith(['8080:80', '443/tcp'], [m('', 8080, 80), m('', 40001, 443)]);
    record.hostConfig.publishAllSpecs = ['443/tcp'];
    const doc = inspectContainer(record) as { HostConfig: { PortBindings: unknown; PublishAllPorts: boolean }; NetworkSettings: { Ports: Record<string, unknown> } };
    assert.deepEqual(doc.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
    assert.equal(doc.HostConfig.PublishAllPorts, true);
    assert.deepEqual(Object.keys(doc.NetworkSettings.Ports), ['80/tcp', '443/tcp']);
    assert.equal((inspectContainer(recordWith([], [])) as { HostConfig: { PublishAllPorts: boolean } }).HostConfig.PublishAllPorts, false);
  });

  it('keeps an unpicked host port empty, a typed 0.0.0.0, ranges one port each, and every spec of a port', () => {
    assert.deepEqual(requestedPortBindings(['80', '0.0.0.0:5005:5000/udp', '127.0.0.1:8000-8001:90-91', '[::]:7000:80', '[::1]::80']), {
      '80/tcp': [{ HostIp: '', HostPort: '' }, { HostIp: '::', HostPort: '7000' }, { HostIp: '::1', HostPort: '' }],
      '5000/udp': [{ HostIp: '0.0.0.0', HostPort: '5005' }],
      '90/tcp': [{ HostIp: '127.0.0.1', HostPort: '8000' }],
      '91/tcp': [{ HostIp: '127.0.0.1', HostPort: '8001' }],
    });
    assert.deepEqual(requestedPortBindings([]), {});
  });
});
