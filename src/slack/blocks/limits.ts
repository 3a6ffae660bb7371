/**
 * Block Kit limits as Slack enforces them on messages (reference: slack.md §7). Pure: the twin uses it to answer
 * `invalid_blocks`, and the bot's builders are tested against the same numbers.
 */
export const BLOCK_LIMITS = {
  blocksPerMessage: 50,
  blockId: 255,
  actionId: 255,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  imageUrl: 3000,
  imageAltText: 2000,
  imageTitle: 2000,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  markdownText: 12000,
} as const;

/** One reason Slack would refuse the blocks; `pointer` is a JSON pointer like Slack's `[json-pointer:/blocks/0/text]`. */
export interface BlockProblem {
  pointer: string;
  message: string;
}

const BLOCK_TYPES = new Set([
  'actions',
  'context',
  'context_actions',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

const INTERACTIVE_ELEMENT_TYPES = new Set([
  'button',
  'checkboxes',
  'datepicker',
  'datetimepicker',
  'overflow',
  'radio_buttons',
  'static_select',
  'external_select',
  'users_select',
  'conversations_select',
  'channels_select',
  'multi_static_select',
  'multi_external_select',
  'multi_users_select',
  'multi_conversations_select',
  'multi_channels_select',
  'timepicker',
  'workflow_button',
]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Collector {
  readonly problems: BlockProblem[] = [];
  add(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }
  maxLength(value: unknown, max: number, pointer: string): void {
    if (typeof value === 'string' && value.length > max)
      this.add(pointer, `must be less than ${max + 1} characters`);
  }
}

function checkTextObject(
  value: unknown,
  pointer: string,
  c: Collector,
  opts: { max: number; plainOnly?: boolean },
): void {
  if (!isObject(value)) {
    c.add(pointer, 'must be a text object');
    return;
  }
  const allowed = opts.plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
  if (typeof value.type !== 'string' || !allowed.includes(value.type)) {
    c.add(`${pointer}/type`, `must be one of ${allowed.join(', ')}`);
  }
  if (typeof value.text !== 'string') {
    c.add(`${pointer}/text`, 'must be a string');
  } else if (value.text.length === 0) {
    c.add(`${pointer}/text`, 'must be more than 0 characters');
  } else {
    c.maxLength(value.text, opts.max, `${pointer}/text`);
  }
}

function checkConfirm(value: unknown, pointer: string, c: Collector): void {
  if (value === undefined) return;
  if (!isObject(value)) {
    c.add(pointer, 'must be a confirm object');
    return;
  }
  checkTextObject(value.title, `${pointer}/title`, c, { max: BLOCK_LIMITS.confirmTitle, plainOnly: true });
  checkTextObject(value.text, `${pointer}/text`, c, { max: BLOCK_LIMITS.confirmText });
  checkTextObject(value.confirm, `${pointer}/confirm`, c, {
    max: BLOCK_LIMITS.confirmButton,
    plainOnly: true,
  });
  checkTextObject(value.deny, `${pointer}/deny`, c, { max: BLOCK_LIMITS.confirmButton, plainOnly: true });
}

function checkImageElement(value: Json, pointer: string, c: Collector): void {
  if (typeof value.image_url !== 'string' && !isObject(value.slack_file)) {
    c.add(pointer, 'must provide image_url or slack_file');
  }
  c.maxLength(value.image_url, BLOCK_LIMITS.imageUrl, `${pointer}/image_url`);
  if (typeof value.alt_text !== 'string' || value.alt_text.length === 0) {
    c.add(`${pointer}/alt_text`, 'missing required field: alt_text');
  } else {
    c.maxLength(value.alt_text, BLOCK_LIMITS.imageAltText, `${pointer}/alt_text`);
  }
}

function checkInteractiveElement(value: unknown, pointer: string, c: Collector): string | undefined {
  if (!isObject(value)) {
    c.add(pointer, 'must be an element object');
    return undefined;
  }
  if (typeof value.type !== 'string' || !INTERACTIVE_ELEMENT_TYPES.has(value.type)) {
    c.add(`${pointer}/type`, `unsupported element type: ${String(value.type)}`);
    return undefined;
  }
  // Slack generates an action_id when it is missing; we refuse it because our listeners route on it.
  if (typeof value.action_id !== 'string' || value.action_id.length === 0) {
    c.add(`${pointer}/action_id`, 'missing required field: action_id');
  } else {
    c.maxLength(value.action_id, BLOCK_LIMITS.actionId, `${pointer}/action_id`);
  }
  if (value.type === 'button') {
    checkTextObject(value.text, `${pointer}/text`, c, { max: BLOCK_LIMITS.buttonText, plainOnly: true });
    c.maxLength(value.value, BLOCK_LIMITS.buttonValue, `${pointer}/value`);
    c.maxLength(value.url, BLOCK_LIMITS.buttonUrl, `${pointer}/url`);
    if (value.style !== undefined && value.style !== 'primary' && value.style !== 'danger') {
      c.add(`${pointer}/style`, 'must be one of primary, danger');
    }
  }
  checkConfirm(value.confirm, `${pointer}/confirm`, c);
  return typeof value.action_id === 'string' ? value.action_id : undefined;
}

function checkSection(block: Json, pointer: string, c: Collector): void {
  if (block.text === undefined && block.fields === undefined) {
    c.add(pointer, 'must provide text or fields');
  }
  if (block.text !== undefined) {
    checkTextObject(block.text, `${pointer}/text`, c, { max: BLOCK_LIMITS.sectionText });
  }
  if (block.fields !== undefined) {
    if (!Array.isArray(block.fields)) {
      c.add(`${pointer}/fields`, 'must be an array');
    } else {
      if (block.fields.length > BLOCK_LIMITS.sectionFields) {
        c.add(`${pointer}/fields`, `no more than ${BLOCK_LIMITS.sectionFields} items allowed`);
      }
      block.fields.forEach((field, i) => {
        checkTextObject(field, `${pointer}/fields/${i}`, c, { max: BLOCK_LIMITS.sectionFieldText });
      });
    }
  }
  if (isObject(block.accessory)) {
    if (block.accessory.type === 'image') checkImageElement(block.accessory, `${pointer}/accessory`, c);
    else checkInteractiveElement(block.accessory, `${pointer}/accessory`, c);
  }
}

function checkActions(block: Json, pointer: string, c: Collector): void {
  if (!Array.isArray(block.elements) || block.elements.length === 0) {
    c.add(`${pointer}/elements`, 'must be a non-empty array');
    return;
  }
  if (block.elements.length > BLOCK_LIMITS.actionsElements) {
    c.add(`${pointer}/elements`, `no more than ${BLOCK_LIMITS.actionsElements} items allowed`);
  }
  const seen = new Set<string>();
  block.elements.forEach((element, i) => {
    const actionId = checkInteractiveElement(element, `${pointer}/elements/${i}`, c);
    if (actionId === undefined) return;
    if (seen.has(actionId)) c.add(`${pointer}/elements/${i}/action_id`, `duplicate action_id: ${actionId}`);
    seen.add(actionId);
  });
}

function checkContext(block: Json, pointer: string, c: Collector): void {
  if (!Array.isArray(block.elements) || block.elements.length === 0) {
    c.add(`${pointer}/elements`, 'must be a non-empty array');
    return;
  }
  if (block.elements.length > BLOCK_LIMITS.contextElements) {
    c.add(`${pointer}/elements`, `no more than ${BLOCK_LIMITS.contextElements} items allowed`);
  }
  block.elements.forEach((element, i) => {
    const at = `${pointer}/elements/${i}`;
    if (isObject(element) && element.type === 'image') checkImageElement(element, at, c);
    else checkTextObject(element, at, c, { max: BLOCK_LIMITS.sectionText });
  });
}

function checkBlock(block: unknown, pointer: string, c: Collector): void {
  if (!isObject(block)) {
    c.add(pointer, 'must be a block object');
    return;
  }
  if (typeof block.type !== 'string' || !BLOCK_TYPES.has(block.type)) {
    c.add(`${pointer}/type`, `unsupported type: ${String(block.type)}`);
    return;
  }
  if (block.block_id !== undefined) {
    if (typeof block.block_id !== 'string') c.add(`${pointer}/block_id`, 'must be a string');
    else c.maxLength(block.block_id, BLOCK_LIMITS.blockId, `${pointer}/block_id`);
  }
  switch (block.type) {
    case 'section':
      checkSection(block, pointer, c);
      break;
    case 'header':
      checkTextObject(block.text, `${pointer}/text`, c, { max: BLOCK_LIMITS.headerText, plainOnly: true });
      break;
    case 'actions':
      checkActions(block, pointer, c);
      break;
    case 'context':
      checkContext(block, pointer, c);
      break;
    case 'image':
      checkImageElement(block, pointer, c);
      if (block.title !== undefined) {
        checkTextObject(block.title, `${pointer}/title`, c, {
          max: BLOCK_LIMITS.imageTitle,
          plainOnly: true,
        });
      }
      break;
    case 'markdown':
      if (typeof block.text !== 'string') c.add(`${pointer}/text`, 'must be a string');
      else c.maxLength(block.text, BLOCK_LIMITS.markdownText, `${pointer}/text`);
      break;
    default:
      break;
  }
}

/**
 * Every limit the blocks of one message break, in Slack's wording; an empty list means Slack would accept them.
 *
 * @example
 * checkBlocks([{ type: 'divider' }]); // []
 * checkBlocks([{ type: 'image', image_url: 'https://x/y.png' }]);
 * // [{ pointer: '/blocks/0/alt_text', message: 'missing required field: alt_text' }]
 */
export function checkBlocks(blocks: unknown): BlockProblem[] {
  const c = new Collector();
  if (!Array.isArray(blocks)) {
    c.add('/blocks', 'must be an array');
    return c.problems;
  }
  if (blocks.length > BLOCK_LIMITS.blocksPerMessage) {
    c.add('/blocks', `no more than ${BLOCK_LIMITS.blocksPerMessage} items allowed`);
  }
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    checkBlock(block, `/blocks/${i}`, c);
    if (isObject(block) && typeof block.block_id === 'string') {
      if (blockIds.has(block.block_id))
        c.add(`/blocks/${i}/block_id`, `duplicate block_id: ${block.block_id}`);
      blockIds.add(block.block_id);
    }
  });
  return c.problems;
}

/** Slack's rendering of a problem, as found in `errors` of an `invalid_blocks` answer. */
export function formatBlockProblem(problem: BlockProblem): string {
  return `${problem.message} [json-pointer:${problem.pointer}]`;
}
