import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SecretStore } from '../../activities/ports/secret-store';

// The SecretStore port's contract: the secrets directory, Secrets Manager and a Kubernetes Secret pass
// the same cases. `fresh` gives a store with nothing in it and `seed`, which puts a secret there the way an
// operator does, outside the store (a file, create-secret, kubectl create secret).

export interface SecretStoreUnderTest {
  store: SecretStore;
  seed(name: string, value: string): Promise<void>;
}

export function secretStoreContract(label: string, fresh: () => Promise<SecretStoreUnderTest>): void {
  test(`${label}: a secret nobody set is refused with a line naming it`, async () => {
    const { store } = await fresh();
    await assert.rejects(store.read('db-master-password'), /db-master-password/);
  });

  test(`${label}: a secret the operator put there reads as its value; it has no previous version`, async () => {
    const { store, seed } = await fresh();
    await seed('db-master-password', 's3cret-1');
    const current = await store.read('db-master-password');
    assert.equal(current.name, 'db-master-password');
    assert.equal(current.value, 's3cret-1');
    assert.equal(typeof current.version, 'string');
    assert.equal(await store.readPrevious('db-master-password'), undefined);
  });

  test(`${label}: a write makes a new current version; the one before is the previous`, async () => {
    const { store, seed } = await fresh();
    await seed('app-db', 'postgresql://app:one@db:5432/mita');
    const written = await store.write('app-db', 'postgresql://app:two@db:5432/mita');
    const current = await store.read('app-db');
    assert.equal(current.value, 'postgresql://app:two@db:5432/mita');
    assert.equal(current.version, written.version);
    const previous = await store.readPrevious('app-db');
    assert.equal(previous?.value, 'postgresql://app:one@db:5432/mita');
    assert.notEqual(previous?.version, written.version);
  });

  test(`${label}: writing the current value again writes nothing (a retried step)`, async () => {
    const { store, seed } = await fresh();
    await seed('app-db', 'one');
    const first = await store.write('app-db', 'two');
    const again = await store.write('app-db', 'two');
    assert.equal(again.version, first.version);
    assert.equal((await store.readPrevious('app-db'))?.value, 'one', 'the previous version is still the seeded one');
  });

  test(`${label}: making the previous version current again is a rollback; the rolled-back one becomes the previous`, async () => {
    const { store, seed } = await fresh();
    await seed('app-db', 'one');
    await store.write('app-db', 'two');
    const previous = (await store.readPrevious('app-db'))!;
    const made = await store.makeCurrent('app-db', previous.version);
    assert.equal(made.version, previous.version);
    assert.equal((await store.read('app-db')).value, 'one');
    assert.equal((await store.readPrevious('app-db'))?.value, 'two');
  });

  test(`${label}: a version is read by its id; a version the secret does not have is refused, naming it`, async () => {
    const { store, seed } = await fresh();
    await seed('app-db', 'one');
    const two = await store.write('app-db', 'two');
    await store.write('app-db', 'three');
    assert.equal((await store.read({ name: 'app-db', version: two.version })).value, 'two');
    await assert.rejects(store.makeCurrent('app-db', 'no-such-version'), /no-such-version/);
  });

  test(`${label}: a write to a name nobody set creates it`, async () => {
    const { store } = await fresh();
    await store.write('created-by-a-runbook', 'value-1');
    assert.equal((await store.read('created-by-a-runbook')).value, 'value-1');
  });

  test(`${label}: a name no adapter can store is refused`, async () => {
    const { store } = await fresh();
    await assert.rejects(store.read('../etc/passwd'), /secret name .* is not valid/);
    await assert.rejects(store.write('a b', 'x'), /secret name .* is not valid/);
  });
}
