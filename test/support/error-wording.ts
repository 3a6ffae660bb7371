/**
 * Loads the Slack edge's error wording before every test file, as every entry point of the bot
 * does, so code that still reads `err.message` / `err.hint` of a coded UserError (see
 * installErrorWording in src/domain/errors.ts) gets the same words in tests as in production.
 */
import '../../src/slack/blocks/errors.js';
