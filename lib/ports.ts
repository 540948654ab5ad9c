import net from 'node:net';
import { PrerequisiteError } from './prerequisite-error';

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Fails with a clear line when something else already listens on the port we were told to use. */
export function assertPortFree(port: number, what: string, envVar: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new PrerequisiteError(`port ${port} on 127.0.0.1, wanted for ${what}, is already in use`, `stop whatever listens there (ss -ltnp 'sport = :${port}') or choose another port with ${envVar}=<port>`));
      } else {
        reject(new PrerequisiteError(`cannot listen on 127.0.0.1:${port} for ${what}: ${error.message}`, `choose another port with ${envVar}=<port>`));
      }
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/** True once something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
