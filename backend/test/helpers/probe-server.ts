import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProbeServer {
  readonly url: string;
  /** Highest number of requests in flight at once, per `key` query value. */
  readonly maxInFlight: Map<string, number>;
  /** How many requests arrived per `id` query value. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

/**
 * A local HTTP server that `http` tasks call: `GET /hold?key=K&id=I&ms=N` waits N ms. It measures
 * what tasks really did (concurrency per key, runs per id), seen from outside the workers.
 */
export async function startProbeServer(): Promise<ProbeServer> {
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = url.searchParams.get('key') ?? '';
    const id = url.searchParams.get('id') ?? '';
    const ms = Number(url.searchParams.get('ms') ?? 0);
    hits.set(id, (hits.get(id) ?? 0) + 1);
    const now = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, now);
    maxInFlight.set(key, Math.max(maxInFlight.get(key) ?? 0, now));
    setTimeout(() => {
      inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ key, id }));
    }, ms);
  });
  server.keepAliveTimeout = 1;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    maxInFlight,
    hits,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
