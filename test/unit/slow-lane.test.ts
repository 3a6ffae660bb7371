import { describe, expect, it } from 'vitest';
import { buildBusyReply } from '../../src/slack/blocks/busy.js';
import { createSlowLane } from '../../src/slack/slow-lane.js';

/** Work that runs until released, recording that it started. */
function heldWork(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => {
    release = r;
  });
  return {
    release: () => release(),
    work: async () => {
      log.push(`start ${name}`);
      await done;
      return name;
    },
  };
}

describe('the post-ack lane', () => {
  it('sheds work past its bound at once, without running it, and takes work again once there is room', async () => {
    const lane = createSlowLane(1, { queueLimit: 2 });
    const log: string[] = [];
    const shed = (name: string) => async () => {
      log.push(`shed ${name}`);
    };
    const a = heldWork(log, 'a');
    const b = heldWork(log, 'b');
    const c = heldWork(log, 'c');
    const d = heldWork(log, 'd');
    const runs = [lane.run(a.work, shed('a')), lane.run(b.work, shed('b')), lane.run(c.work, shed('c'))];
    // One slot busy and two waiting: the bound is reached, so d is answered and dropped.
    expect(await lane.run(d.work, shed('d'))).toBeUndefined();
    expect(log).toEqual(['shed d']);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['shed d', 'start a']);
    expect(lane.waiting).toBe(2);
    a.release();
    b.release();
    c.release();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['shed d', 'start a', 'start b', 'start c']);
    const e = heldWork(log, 'e');
    e.release();
    expect(await lane.run(e.work, shed('e'))).toBe('e');
    expect(lane.waiting).toBe(0);
  });

  it('never sheds work a free slot can take, even with a bound of 0', async () => {
    const lane = createSlowLane(2, { queueLimit: 0 });
    const log: string[] = [];
    const a = heldWork(log, 'a');
    const b = heldWork(log, 'b');
    const shed = async () => {
      log.push('shed');
    };
    const runs = [lane.run(a.work, shed), lane.run(b.work, shed)];
    expect(await lane.run(async () => 'c', shed)).toBeUndefined();
    a.release();
    b.release();
    expect(await Promise.all(runs)).toEqual(['a', 'b']);
    expect(log).toEqual(['shed', 'start a', 'start b']);
  });

  it('words the busy reply for the person, privately', () => {
    expect(buildBusyReply('command')).toMatchObject({
      text: 'modelgate is busy, try again in a moment: your command was not run.',
      visibility: 'ephemeral',
    });
    expect(buildBusyReply('click').text).toContain('your click was not acted on');
  });
});
