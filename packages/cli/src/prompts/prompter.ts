import { checkbox, select } from '@inquirer/prompts';

export interface Choice {
  value: string;
  name: string;
  description?: string;
}

/** The questions `keelson new` asks on a terminal; tests script the answers. */
export interface Prompter {
  select(message: string, choices: readonly Choice[], initial?: string): Promise<string>;
  checkbox(
    message: string,
    choices: readonly (Choice & { checked: boolean; disabled?: boolean })[],
  ): Promise<string[]>;
}

/** Prompts on the terminal, through @inquirer/prompts. */
export const terminalPrompter: Prompter = {
  select: (message, choices, initial) =>
    select({ message, choices: [...choices], ...(initial ? { default: initial } : {}) }),
  checkbox: (message, choices) =>
    checkbox({
      message,
      choices: choices.map((c) => ({
        value: c.value,
        name: c.name,
        checked: c.checked,
        ...(c.description ? { description: c.description } : {}),
        ...(c.disabled ? { disabled: '(always on)' } : {}),
      })),
    }),
};
