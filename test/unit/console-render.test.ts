import { describe, expect, it } from 'vitest';
import { interpretAck } from '../../src/sandbox/console/deliver.js';
import { renderBlock, renderMessage } from '../../src/sandbox/console/static/blocks.js';
import { renderMrkdwn } from '../../src/sandbox/console/static/mrkdwn.js';
import { findStoredButton, visibleTo } from '../../src/sandbox/console/workspace-view.js';

const names = {
  userName: (id: string) => ({ U0REQUEST: 'riley' })[id],
  channelName: (id: string) => ({ C0MLOPS: 'mlops' })[id],
  groupHandle: (id: string) => ({ S0APPROVERS: 'ml-approvers' })[id],
};

describe('mrkdwn in the console', () => {
  const cases: Array<{ name: string; text: string; want: string }> = [
    { name: 'bold and italics at word edges', text: '*Plan* _now_', want: '<b>Plan</b> <i>now</i>' },
    { name: 'underscores inside names stay', text: 'churn_model_v2', want: 'churn_model_v2' },
    { name: 'strike', text: '~old~', want: '<s>old</s>' },
    { name: 'inline code is not formatted', text: '`*x*`', want: '<code>*x*</code>' },
    {
      name: 'a code block keeps its lines and escapes',
      text: '```a <b>\nc```',
      want: '<pre class="code-block">a &lt;b&gt;\nc</pre>',
    },
    {
      name: 'a link with a label',
      text: '<https://example.test/x?a=1&amp;b=2|the page>',
      want: '<a href="https://example.test/x?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">the page</a>',
    },
    { name: 'a javascript: link is only text', text: '<javascript:alert(1)|click>', want: 'click' },
    {
      name: 'a user mention by name',
      text: 'by <@U0REQUEST>',
      want: 'by <span class="mention" data-user="U0REQUEST">@riley</span>',
    },
    {
      name: 'a channel mention by name',
      text: 'in <#C0MLOPS>',
      want: 'in <span class="mention mention-channel">#mlops</span>',
    },
    {
      name: 'a user group mention',
      text: '<!subteam^S0APPROVERS>',
      want: '<span class="mention">@ml-approvers</span>',
    },
    {
      name: 'bold around a link',
      text: '*<https://x.test|x>*',
      want: '<b><a href="https://x.test" target="_blank" rel="noopener noreferrer">x</a></b>',
    },
    {
      name: "Slack's entities become characters, then HTML",
      text: 'a &lt;b&gt; &amp; "c"',
      want: 'a &lt;b&gt; &amp; &quot;c&quot;',
    },
    {
      name: 'raw HTML never passes',
      text: '<img src=x onerror=alert(1)>',
      want: 'img src=x onerror=alert(1)',
    },
    { name: 'emoji shortcodes', text: ':white_check_mark: done :nope:', want: '✅ done :nope:' },
    { name: 'line breaks and quotes', text: 'a\n&gt; quoted\nb', want: 'a<blockquote>quoted</blockquote>b' },
  ];
  for (const c of cases) {
    it(`renders ${c.name}`, () => {
      expect(renderMrkdwn(c.text, names)).toBe(c.want);
    });
  }
});

describe('Block Kit in the console', () => {
  it('renders a section with fields and a button accessory', () => {
    const html = renderBlock(
      {
        type: 'section',
        block_id: 'b1',
        fields: [{ type: 'mrkdwn', text: '*State*\nReady' }],
        accessory: {
          type: 'button',
          action_id: 'open',
          text: { type: 'plain_text', text: 'Open' },
          url: 'https://x.test',
        },
      },
      names,
    );
    expect(html).toContain('<div class="blk-field"><b>State</b><br>Ready</div>');
    expect(html).toContain('data-action-id="open"');
    expect(html).toContain('data-block-id="b1"');
    expect(html).toContain('data-url="https://x.test"');
  });

  it('gives buttons their style and keeps the confirm dialog for the page', () => {
    const html = renderBlock({
      type: 'actions',
      block_id: 'approval',
      elements: [
        {
          type: 'button',
          action_id: 'approve',
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          confirm: {
            title: { type: 'plain_text', text: 'Sure?' },
            text: { type: 'plain_text', text: 'It "ships"' },
          },
        },
        {
          type: 'button',
          action_id: 'reject',
          style: 'danger',
          text: { type: 'plain_text', text: 'Reject' },
        },
      ],
    });
    expect(html).toContain('class="btn btn-primary"');
    expect(html).toContain('class="btn btn-danger"');
    expect(html).toMatch(/data-confirm="\{&quot;title&quot;.*It \\&quot;ships\\&quot;/);
  });

  it('shows images from a URL and from an uploaded slack_file', () => {
    expect(renderBlock({ type: 'image', image_url: 'https://c.test/a.png', alt_text: 'chart' })).toContain(
      '<img src="https://c.test/a.png" alt="chart">',
    );
    expect(renderBlock({ type: 'image', slack_file: { id: 'F0SANDBOX0001' }, alt_text: 'chart' })).toContain(
      '<img src="/files/F0SANDBOX0001" alt="chart">',
    );
    expect(renderBlock({ type: 'image', image_url: 'javascript:x', alt_text: 'a' })).not.toContain('<img');
  });

  it('renders an input block whose text a button of the same message sends along', () => {
    const html = renderBlock({
      type: 'input',
      block_id: 'reason',
      optional: true,
      label: { type: 'plain_text', text: 'Reason' },
      element: { type: 'plain_text_input', action_id: 'reason-input', multiline: true, max_length: 500 },
    });
    expect(html).toContain('<label class="blk-input-label">Reason</label>');
    expect(html).toMatch(
      /<textarea rows="3" class="el-input" data-input-block="reason" data-input-action="reason-input"/,
    );
    expect(html).toContain('maxlength="500"');
  });

  it('says which blocks it does not render instead of dropping them', () => {
    expect(renderBlock({ type: 'video' })).toContain('does not render video blocks');
  });

  it('marks an ephemeral message as visible only to its user and shows uploaded images', () => {
    const html = renderMessage(
      {
        channel: 'C0MLOPS',
        ts: '1732650000.000100',
        user: 'U0BOT',
        bot_id: 'B0BOT',
        text: 'drift chart',
        ephemeral_to: 'U0REQUEST',
        files: [
          {
            id: 'F1',
            name: 'drift.png',
            title: 'drift.png',
            mimetype: 'image/png',
            url_private: 'http://127.0.0.1:1/files/F1/drift.png',
          },
        ],
      },
      [],
      { user: () => ({ name: 'modelgate', isBot: true }) },
    );
    expect(html).toContain('Only visible to you');
    expect(html).toContain('<img src="http://127.0.0.1:1/files/F1/drift.png"');
    expect(html).toContain('APP');
  });

  it('folds thread replies under their parent until opened', () => {
    const parent = { channel: 'C0MLOPS', ts: '1.000100', user: 'U0BOT', text: 'alert' };
    const reply = {
      channel: 'C0MLOPS',
      ts: '1.000200',
      thread_ts: '1.000100',
      user: 'U0BOT',
      text: 'the chart',
    };
    expect(renderMessage(parent, [reply], { isExpanded: () => false })).not.toContain('the chart');
    const open = renderMessage(parent, [reply], { isExpanded: () => true });
    expect(open).toContain('1 reply');
    expect(open).toContain('the chart');
  });
});

describe('what the console lets through', () => {
  it('shows an ephemeral message only to its recipient', () => {
    expect(visibleTo({ ephemeral_to: 'U0REQUEST' }, 'U0REQUEST')).toBe(true);
    expect(visibleTo({ ephemeral_to: 'U0REQUEST' }, 'U0APPROVE')).toBe(false);
    expect(visibleTo({}, 'U0APPROVE')).toBe(true);
  });

  it('takes a clicked button from the stored message, by block and action id', () => {
    const blocks = [
      { type: 'actions', block_id: 'a', elements: [{ type: 'button', action_id: 'go', value: 'one' }] },
      { type: 'actions', block_id: 'b', elements: [{ type: 'button', action_id: 'go', value: 'two' }] },
    ];
    expect(findStoredButton(blocks, 'go', 'b')).toEqual({ blockId: 'b', actionId: 'go', value: 'two' });
    expect(findStoredButton(blocks, 'go')?.value).toBe('one');
    expect(findStoredButton(blocks, 'gone')).toBeUndefined();
  });

  const acks: Array<{ name: string; status: number; body: string; want: ReturnType<typeof interpretAck> }> = [
    { name: 'an empty ack', status: 200, body: '', want: { kind: 'ok' } },
    {
      name: 'an ack with text',
      status: 200,
      body: '{"text":"Working"}',
      want: { kind: 'reply', text: 'Working', inChannel: false },
    },
    {
      name: 'an in_channel ack',
      status: 200,
      body: '{"text":"Hi","response_type":"in_channel"}',
      want: { kind: 'reply', text: 'Hi', inChannel: true },
    },
    {
      name: 'a plain text ack',
      status: 200,
      body: 'ok then',
      want: { kind: 'reply', text: 'ok then', inChannel: false },
    },
    {
      name: 'no ack in time (Bolt answers 404)',
      status: 404,
      body: '',
      want: { kind: 'failed', error: 'http_client_error', status: 404 },
    },
    {
      name: 'a listener that threw',
      status: 500,
      body: '',
      want: { kind: 'failed', error: 'http_service_error', status: 500 },
    },
  ];
  for (const c of acks) {
    it(`reads ${c.name} as Slack does`, () => {
      expect(interpretAck(c.status, c.body)).toEqual(c.want);
    });
  }
});
