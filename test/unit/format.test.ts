import { describe, expect, it } from 'vitest';
import { escapeKeepingLinks, escapeMrkdwn } from '../../src/slack/blocks/format.js';

describe('escaping text for mrkdwn', () => {
  it('escapes the three control characters', () => {
    expect(escapeMrkdwn('a <b> & c')).toBe('a &lt;b&gt; &amp; c');
  });

  it('keeps our own mentions, channels and links, and escapes the rest', () => {
    expect(escapeKeepingLinks('Ask <@U1> in <#C2> & see <https://x.test/a|run 5> <now>')).toBe(
      'Ask <@U1> in <#C2> &amp; see <https://x.test/a|run 5> &lt;now&gt;',
    );
  });

  it('leaves text escaped already as it is, so nothing shows as &amp;lt;', () => {
    expect(escapeKeepingLinks(`job ${escapeMrkdwn('<b> & co')} changed`)).toBe(
      'job &lt;b&gt; &amp; co changed',
    );
  });

  it('keeps a link someone typed inert once it was escaped', () => {
    const typed = escapeMrkdwn('<https://evil.test|click me>');
    expect(escapeKeepingLinks(`reason: ${typed}`)).toBe('reason: &lt;https://evil.test|click me&gt;');
  });
});
