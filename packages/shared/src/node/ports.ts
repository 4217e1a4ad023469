import { once } from 'node:events';
import net from 'node:net';

/**
 * A port that is free on `host` right now (the OS picks it). Another process can take it
 * before the caller binds it, so callers retry with a fresh port when the bind fails.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  server.unref();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Whether something accepts connections on host:port. */
export async function isListening(
  port: number,
  host = '127.0.0.1',
  timeoutMs = 500,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (listening: boolean) => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Whether this process could listen on host:port right now (nothing else has bound it). */
export async function canListen(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = net.createServer();
  server.unref();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
