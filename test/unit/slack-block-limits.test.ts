import { describe, expect, it } from 'vitest';
import { BLOCK_LIMITS, checkBlocks, formatBlockProblem } from '../../src/slack/blocks/limits.js';

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (actionId?: string) => ({
  type: 'button',
  text: { type: 'plain_text', text: 'Approve' },
  value: 'req-1',
  ...(actionId ? { action_id: actionId } : {}),
});

describe('checkBlocks', () => {
  const cases: { name: string; blocks: unknown; want: string[] }[] = [
    { name: 'accepts an empty message body', blocks: [], want: [] },
    {
      name: 'accepts a typical approval message',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Promote churn-model to @prod' } },
        section('*Requested by* <@U0REQUEST>'),
        { type: 'divider' },
        {
          type: 'actions',
          block_id: 'approval:req-1',
          elements: [
            { ...button('approve-request'), style: 'primary' },
            { ...button('reject-request'), style: 'danger' },
          ],
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'expires in 24 h' }] },
        { type: 'image', image_url: 'https://quickchart.io/chart.png', alt_text: 'drift chart' },
      ],
      want: [],
    },
    { name: 'refuses blocks that are not an array', blocks: { type: 'divider' }, want: ['/blocks'] },
    {
      name: 'refuses more than 50 blocks',
      blocks: Array.from({ length: BLOCK_LIMITS.blocksPerMessage + 1 }, () => ({ type: 'divider' })),
      want: ['/blocks'],
    },
    { name: 'refuses an unknown block type', blocks: [{ type: 'carousel' }], want: ['/blocks/0/type'] },
    {
      name: 'refuses section text over 3000 characters',
      blocks: [section('x'.repeat(BLOCK_LIMITS.sectionText + 1))],
      want: ['/blocks/0/text/text'],
    },
    {
      name: 'accepts section text of exactly 3000 characters',
      blocks: [section('x'.repeat(BLOCK_LIMITS.sectionText))],
      want: [],
    },
    {
      name: 'refuses a button without action_id',
      blocks: [{ type: 'actions', elements: [button()] }],
      want: ['/blocks/0/elements/0/action_id'],
    },
    {
      name: 'refuses more than 25 elements in an actions block',
      blocks: [
        {
          type: 'actions',
          elements: Array.from({ length: BLOCK_LIMITS.actionsElements + 1 }, (_, i) => button(`b-${i}`)),
        },
      ],
      want: ['/blocks/0/elements'],
    },
    {
      name: 'refuses an image without alt_text',
      blocks: [{ type: 'image', image_url: 'https://example.com/a.png' }],
      want: ['/blocks/0/alt_text'],
    },
    {
      name: 'refuses a header longer than 150 characters',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
      want: ['/blocks/0/text/text'],
    },
    {
      name: 'refuses duplicate action_ids within one block',
      blocks: [{ type: 'actions', elements: [button('same'), button('same')] }],
      want: ['/blocks/0/elements/1/action_id'],
    },
    {
      name: 'refuses duplicate block_ids across blocks',
      blocks: [
        { type: 'divider', block_id: 'a' },
        { type: 'divider', block_id: 'a' },
      ],
      want: ['/blocks/1/block_id'],
    },
    {
      name: 'refuses a button label over 75 characters',
      blocks: [
        {
          type: 'actions',
          elements: [{ ...button('a'), text: { type: 'plain_text', text: 'x'.repeat(76) } }],
        },
      ],
      want: ['/blocks/0/elements/0/text/text'],
    },
    {
      name: 'refuses more than 10 section fields',
      blocks: [
        { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) },
      ],
      want: ['/blocks/0/fields'],
    },
    {
      name: 'refuses a confirm dialog whose title is too long',
      blocks: [
        {
          type: 'actions',
          elements: [
            {
              ...button('a'),
              confirm: {
                title: { type: 'plain_text', text: 't'.repeat(101) },
                text: { type: 'mrkdwn', text: 'Sure?' },
                confirm: { type: 'plain_text', text: 'Yes' },
                deny: { type: 'plain_text', text: 'No' },
              },
            },
          ],
        },
      ],
      want: ['/blocks/0/elements/0/confirm/title/text'],
    },
  ];

  it.each(cases)('$name', ({ blocks, want }) => {
    expect(checkBlocks(blocks).map((p) => p.pointer)).toEqual(want);
  });

  it('renders a problem the way Slack lists it in `errors`', () => {
    const [problem] = checkBlocks([{ type: 'image', image_url: 'https://example.com/a.png' }]);
    expect(problem && formatBlockProblem(problem)).toBe(
      'missing required field: alt_text [json-pointer:/blocks/0/alt_text]',
    );
  });
});
