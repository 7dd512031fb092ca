// The container index (state/container-index.ts) against the records it is derived from: kept in
// line by every record write, built from the records when missing, and never ahead of a name
// or an address the records do not hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { allMembersOf, membersOn } from '../../../src/base/members.js';
import type { ContainerRecord } from '../../../src/base/records.js';
import { Store } from '../../../src/state/store.js';
import { attachmentOf, saved, world } from '../fakes/containers.js';

/** What the index holds, in a stable order, beside what the records say it should hold. */
async function indexAndRecords(store: Store): Promise<{ index: unknown; records: unknown }> {
  const order = (ms: ReturnType<typeof allMembersOf>): unknown => [...ms].sort((a, b) => (a.id + a.network).localeCompare(b.id + b.network));
  return { index: order(await store.index.allMembers()), records: order(allMembersOf(await store.listContainers())) };
}

test('the index follows every record write: attach, pending, extra networks, rename, forget', async (t) => {
  const w = await world(t);
  const { store } = w;
  const a = await saved(w, 'a', { attached: true, ip: '172.18.0.2' });
  const b = await saved(w, 'b', { attached: true, ip: '172.18.0.3' });
  await saved(w, 'c', { networkMode: 'none' });
  assert.deepEqual((await store.index.members('bridge')).map((m) => m.ip).sort(), ['172.18.0.2', '172.18.0.3']);

  // A pending attachment's address is taken as well; its end changes nothing the index holds.
  const moved: ContainerRecord = { ...b, network: { ...attachmentOf(b.id, '172.18.0.9'), pending: true } };
  await store.saveContainer(moved);
  assert.equal((await store.index.members('bridge')).find((m) => m.id === b.id)?.ip, '172.18.0.9');
  const before = readFileSync(store.paths.indexNetwork('bridge'), 'utf8');
  await store.saveContainer({ ...moved, network: { ...attachmentOf(b.id, '172.18.0.9') } });
  assert.equal(readFileSync(store.paths.indexNetwork('bridge'), 'utf8'), before);

  // A second network (network connect), with an alias of its own.
  const extra = { ...attachmentOf(a.id, '10.5.0.2'), network: 'other', aliases: ['db'] };
  await store.saveContainer({ ...a, extraNetworks: [extra] });
  assert.deepEqual((await store.index.members('other')).map((m) => [m.name, m.aliases]), [['a', ['db']]]);

  // A rename moves the name: the old one is free, the new one is found.
  const current = await store.loadContainer(a.id);
  assert.ok(current);
  await store.saveContainer({ ...current, name: 'renamed' });
  assert.equal(await store.containerNamed('a'), undefined);
  assert.equal((await store.containerNamed('/renamed'))?.id, a.id);
  assert.equal((await store.index.members('other'))[0]?.name, 'renamed');

  // A detach, then a forget: its address and name go with it.
  const detached = await store.loadContainer(b.id);
  assert.ok(detached);
  delete detached.network;
  await store.saveContainer(detached);
  assert.deepEqual((await store.index.members('bridge')).map((m) => m.id), [a.id]);
  await store.forgetContainer(a.id);
  assert.deepEqual(await store.index.members('bridge'), []);
  assert.deepEqual(await store.index.members('other'), []);
  assert.equal(await store.containerNamed('renamed'), undefined);

  const { index, records } = await indexAndRecords(store);
  assert.deepEqual(index, records);
});

test('a root without an index (or with it removed by hand) is indexed from its records on first use', async (t) => {
  const w = await world(t);
  const { store } = w;
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await saved(w, `n${i}`, { attached: true, ip: `172.18.0.${i + 2}` }));
  rmSync(store.paths.index, { recursive: true, force: true });
  assert.equal((await store.containerNamed('n3'))?.id, made[3]?.id);
  const { index, records } = await indexAndRecords(store);
  assert.equal(membersOn(index as ReturnType<typeof allMembersOf>, 'bridge').length, 5);
  assert.deepEqual(index, records);
  // A version this code does not know is built again, not trusted.
  writeFileSync(store.paths.indexVersion, '0\n');
  rmSync(store.paths.indexNetwork('bridge'));
  assert.equal((await store.index.members('bridge')).length, 5);
  assert.notEqual(readFileSync(store.paths.indexVersion, 'utf8').trim(), '0');
});

test('a name the index gives a record that no longer holds it (a crash between the two writes) is free', async (t) => {
  const w = await world(t);
  const { store } = w;
  const r = await saved(w, 'web', { attached: true });
  // The record goes without the index hearing of it (removed by hand, or a crash mid-rm).
  rmSync(store.paths.containerRecord(r.id));
  assert.equal(await store.containerNamed('web'), undefined);
  await assert.rejects(store.findContainer('web'), { code: 'E_NO_SUCH_CONTAINER' });
  // Its forget (rm -f of what is left) takes it out of every network, with no record to say which.
  await store.forgetContainer(r.id);
  assert.deepEqual(await store.index.members('bridge'), []);
});

test('findContainer: full id, then name (from the index), then a unique prefix', async (t) => {
  const w = await world(t);
  const { store } = w;
  const one = await saved(w, 'one');
  const two = await saved(w, 'two');
  assert.equal((await store.findContainer(one.id)).id, one.id);
  assert.equal((await store.findContainer('two')).id, two.id);
  assert.equal((await store.findContainer(two.id.slice(0, 10))).id, two.id);
  // A name that looks like another's id prefix: the name wins, as in Docker.
  const tricky = await saved(w, one.id.slice(0, 6));
  assert.equal((await store.findContainer(one.id.slice(0, 6))).id, tricky.id);
});

test('members parsed once in a process stay right: after its own write, and after another process\'s', async (t) => {
  const w = await world(t);
  const a = await saved(w, 'a', { attached: true, ip: '172.18.0.2' });
  assert.deepEqual((await w.store.index.members('bridge')).map((m) => m.ip), ['172.18.0.2']);
  // Its own write: what it parsed is carried over to the text it wrote.
  await saved(w, 'b', { attached: true, ip: '172.18.0.3' });
  const fresh = new Store(w.store.paths.root);
  assert.deepEqual(await w.store.index.members('bridge'), await fresh.index.members('bridge'));
  // Another process's write (another Store on the same root): the text differs, so it is read again.
  const moved = await fresh.loadContainer(a.id);
  assert.ok(moved);
  await fresh.saveContainer({ ...moved, network: attachmentOf(a.id, '172.18.0.7') });
  assert.deepEqual((await w.store.index.members('bridge')).map((m) => m.ip).sort(), ['172.18.0.3', '172.18.0.7']);
  // What a caller does to the list it got changes nothing the index hands out next.
  (await w.store.index.members('bridge')).pop();
  assert.equal((await w.store.index.members('bridge')).length, 2);
});
