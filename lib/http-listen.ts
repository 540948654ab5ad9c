import type { Server } from 'node:http';

/**
 * Starts `server` on a config's host:port ("127.0.0.1:9464", "0.0.0.0:9095", "[::1]:9095"); a port in
 * use or an address that cannot be bound fails naming the config key. Resolves with the base URL.
 */
export async function listenOn(server: Server, address: string, configKey: string): Promise<{ baseUrl: string; port: number; close(): Promise<void> }> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new Error(`${configKey}: cannot listen on ${address}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`)));
    server.listen(Number(address.slice(at + 1)), host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
