/**
 * The receiver's lazy connection bounds the connecting too: a Temporal address that accepts TCP but
 * never answers (a black hole behind a load balancer, say) must not hold a call past its deadline.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { LazyNativeConnection, temporalSettings } from '../../src/temporal/connection';
import { TemporalUnreachableError } from '../../src/failures';

let blackHole: Server;
const sockets = new Set<Socket>();
let address: string;

beforeAll(async () => {
  blackHole = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  const { port } = blackHole.address() as { port: number };
  address = `127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => blackHole.close(resolve));
});

test.each([
  ['withDeadline', (c: LazyNativeConnection, fn: () => Promise<unknown>) => c.withDeadline(Date.now() + 500, fn)],
  [
    'withAbortSignal',
    (c: LazyNativeConnection, fn: () => Promise<unknown>) => c.withAbortSignal(AbortSignal.timeout(500), fn),
  ],
])('%s gives up on a connect that never completes', async (_name, bounded) => {
  const connection = new LazyNativeConnection(temporalSettings({ TEMPORAL_ADDRESS: address }));
  const started = Date.now();
  let called = false;
  await expect(
    bounded(connection, async () => {
      called = true;
    }),
  ).rejects.toBeInstanceOf(TemporalUnreachableError);
  expect(Date.now() - started).toBeLessThan(3_000);
  expect(called).toBe(false);
  await connection.close();
});
