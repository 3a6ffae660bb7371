import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAckGate } from '../../src/slack/ack-gate.js';
import { createSlowLane } from '../../src/slack/slow-lane.js';

let server: Server | undefined;
afterEach(() => server?.close());

/** A server that answers each request only when told to, like an ack still on its way. */
async function holdingServer() {
  const held: Array<() => void> = [];
  server = createServer((_req, res) => held.push(() => res.end('ok')));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const send = () =>
    new Promise<void>((resolve) => {
      request({ port, host: '127.0.0.1', method: 'POST' }, (res) => res.resume().on('end', resolve)).end();
    });
  return { server, held, send };
}

describe('acks first', () => {
  it('holds post-ack work while a received request waits for its answer, and starts it once answered', async () => {
    const { server, held, send } = await holdingServer();
    const gate = createAckGate();
    gate.watch(server);
    const answered = send();
    while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(gate.pending).toBe(1);
    const lane = createSlowLane(2, { gate, maxWaitMs: 5_000 });
    let started = false;
    const work = lane.run(async () => {
      started = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toBe(false);
    held[0]!();
    await answered;
    await work;
    expect(started).toBe(true);
    expect(gate.pending).toBe(0);
  });

  it('never holds work longer than its cap, so sustained load cannot starve it', async () => {
    const { server, held, send } = await holdingServer();
    const gate = createAckGate();
    gate.watch(server);
    void send();
    while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
    const lane = createSlowLane(1, { gate, maxWaitMs: 30 });
    const began = Date.now();
    await lane.run(async () => {});
    expect(Date.now() - began).toBeGreaterThanOrEqual(25);
    expect(Date.now() - began).toBeLessThan(1_000);
    held[0]!();
  });
});
