/**
 * Entry point of `npm start`. Until the Slack app is wired in, it runs the sandbox's Databricks
 * twin with the demo data, so that `npm start` on a fresh clone shows something that works.
 */
await import('./sandbox/twin.js');
