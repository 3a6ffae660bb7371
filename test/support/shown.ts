/** Everything a person could read in a message: its fallback text and its blocks, as one string to match. */
export const shown = (m: { text?: string; blocks?: unknown }): string =>
  `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}`;
