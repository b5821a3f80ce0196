import { connect, createServer, type Server, type Socket } from 'node:net';

/** How the proxy treats connections: forward them, refuse them, or accept and never respond. */
export type ProxyMode = 'forward' | 'refuse' | 'silent';

export interface DatabaseProxy {
  /** The target's connection string with the proxy's loopback host and port in its place. */
  url: string;
  /**
   * Cuts the database off: `refuse` stops listening and resets every open connection, as a
   * crashed server does. `silent` keeps listening but forwards nothing, in either direction, as
   * a dropped network does.
   */
  cut(mode: Exclude<ProxyMode, 'forward'>): Promise<void>;
  /** Forwards new connections again. Connections cut earlier stay closed or silent. */
  restore(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a TCP proxy on a free loopback port in front of the PostgreSQL server of `targetUrl`, so
 * a test can take the database away from a running portal and give it back.
 */
export async function startDatabaseProxy(targetUrl: string): Promise<DatabaseProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || '5432');
  const sockets = new Set<Socket>();
  /** Open client connections that still forward. A cut empties it for good. */
  const forwarding = new Set<Socket>();
  let mode: ProxyMode = 'forward';

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      forwarding.delete(socket);
    });
    socket.on('error', () => socket.destroy());
  };

  const server: Server = createServer((client) => {
    track(client);
    if (mode !== 'forward') return;

    const upstream = connect(targetPort, target.hostname);
    track(upstream);
    forwarding.add(client);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.on('data', (chunk) => {
      if (forwarding.has(client)) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (forwarding.has(client)) client.write(chunk);
    });
  });

  await listen(server, 0);
  const port = (server.address() as { port: number }).port;
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  return {
    url: url.toString(),
    async cut(cutMode) {
      mode = cutMode;
      forwarding.clear();
      if (cutMode === 'silent') return;

      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.resetAndDestroy();
      await closed;
    },
    async restore() {
      mode = 'forward';
      if (!server.listening) await listen(server, port);
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
