import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from '../../test/cluster/postgres.ts';
import {
  ConnectionPool,
  type ConnectionPoolOptions,
  DatabaseUnavailableError,
  PoolTimeoutError,
} from './connection-pool.ts';

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

function pool(options: Partial<ConnectionPoolOptions> = {}): ConnectionPool {
  return new ConnectionPool({
    connectionString: postgres.url,
    size: 2,
    maxOverflow: 1,
    timeoutMs: 2000,
    recycleMs: 3_600_000,
    prePing: true,
    ...options,
  });
}

/** hold checks out a connection until the returned function is called. */
function hold(p: ConnectionPool): { acquired: Promise<void>; release: () => void; done: Promise<unknown> } {
  let release: () => void = () => {};
  let acquired: () => void = () => {};
  let failed: (err: unknown) => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const acquiredPromise = new Promise<void>((resolve, reject) => {
    acquired = resolve;
    failed = reject;
  });
  const done = p.withConnection(async (client) => {
    acquired();
    await gate;
    return (await client.query('SELECT 1 AS one')).rows[0];
  });
  // A checkout that fails (the database refused or was slow to connect) fails `acquired` with its
  // error, instead of leaving the test to wait for a connection that never comes.
  done.catch(failed);
  return { acquired: acquiredPromise, release, done };
}

describe('ConnectionPool on a real PostgreSQL', () => {
  it('opens at most size + overflow, keeps size, closes overflow connections when returned', async () => {
    const p = pool();
    const held = [hold(p), hold(p), hold(p)];
    await Promise.all(held.map((h) => h.acquired));
    expect(p.stats()).toMatchObject({ active: 3, idle: 0 });
    const fourth = p.query('SELECT 4 AS n');
    await new Promise((r) => setTimeout(r, 50));
    expect(p.stats().waiting).toBe(1);
    for (const h of held) h.release();
    expect((await fourth).rows[0]).toEqual({ n: 4 });
    await Promise.all(held.map((h) => h.done));
    expect(p.stats()).toMatchObject({ active: 0, idle: 2, waiting: 0 });
    await p.close();
  });

  it('fails a checkout with PoolTimeoutError after the pool timeout when every connection is busy', async () => {
    // The checkout timeout is under test, not the connect timeout (which defaults to it): opening
    // the one connection may take longer than 200 ms on a busy machine.
    const p = pool({ size: 1, maxOverflow: 0, timeoutMs: 200, connectTimeoutMs: 10_000 });
    const h = hold(p);
    await h.acquired;
    await expect(p.query('SELECT 1')).rejects.toBeInstanceOf(PoolTimeoutError);
    expect(p.stats().timeouts).toBe(1);
    h.release();
    await h.done;
    await p.close();
  });

  it('shrinks without failing what is checked out, and reports the new size once within it', async () => {
    const p = pool({ size: 2, maxOverflow: 1 });
    const held = [hold(p), hold(p), hold(p)];
    await Promise.all(held.map((h) => h.acquired));
    let resized = false;
    const resize = p.resize({ size: 1, maxOverflow: 0 }).then(() => {
      resized = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(resized).toBe(false);
    expect(p.stats()).toMatchObject({ size: 2, maxOverflow: 1, active: 3 });
    const queued = p.query('SELECT 5 AS n'); // waits: the new capacity is 1
    held[0]?.release();
    await new Promise((r) => setTimeout(r, 50));
    expect(resized).toBe(false); // two still checked out, one more than the new capacity
    held[1]?.release();
    await resize;
    expect(p.stats()).toMatchObject({ size: 1, maxOverflow: 0, active: 1 });
    await new Promise((r) => setTimeout(r, 50));
    expect(p.stats().waiting).toBe(1); // the queued query waits for the one connection allowed
    held[2]?.release();
    expect((await queued).rows[0]).toEqual({ n: 5 });
    expect(await Promise.all(held.map((h) => h.done))).toEqual([{ one: 1 }, { one: 1 }, { one: 1 }]);
    expect(p.stats().active + p.stats().idle).toBeLessThanOrEqual(1);
    await p.close();
  });

  it('grows at once and serves the queue with the new room', async () => {
    const p = pool({ size: 1, maxOverflow: 0, timeoutMs: 5000 });
    const h = hold(p);
    await h.acquired;
    const queued = p.query('SELECT 6 AS n');
    await p.resize({ size: 3, maxOverflow: 2 });
    expect(p.stats()).toMatchObject({ size: 3, maxOverflow: 2 });
    expect((await queued).rows[0]).toEqual({ n: 6 }); // served while the first is still held
    h.release();
    await h.done;
    await p.close();
  });

  it('prepares a named statement once per connection and runs it again with other values', async () => {
    const p = pool({ size: 1, maxOverflow: 0 });
    const sql = 'SELECT $1::int * 2 AS n';
    expect((await p.query(sql, [2], 'double')).rows[0]).toEqual({ n: 4 });
    expect((await p.query(sql, [5], 'double')).rows[0]).toEqual({ n: 10 });
    const prepared = await p.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name');
    expect(prepared.rows.map((r) => r.name)).toEqual(['double']);
    await p.close();
  });

  it('fails fast with DatabaseUnavailableError while the server is down, and reconnects after', async () => {
    const p = pool({ timeoutMs: 30_000 });
    await p.query('SELECT 1');
    await postgres.stopServer();
    try {
      const started = Date.now();
      await expect(p.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);
      // Well inside the 30 s pool timeout: nobody waits for a database that is not there.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(p.lastConnectError).toBeDefined();
    } finally {
      await postgres.startServer();
    }
    expect((await p.query('SELECT 7 AS n')).rows[0]).toEqual({ n: 7 });
    expect(p.lastConnectError).toBeUndefined();
    await p.close();
  });
});
