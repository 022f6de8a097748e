import { checkbox, input, select } from '@inquirer/prompts';

export interface Choice {
  value: string;
  name: string;
  description?: string;
}

/** The questions `keelson new` asks on a terminal; tests script the answers. */
export interface Prompter {
  /** A line of text; `validate` returns the problem with an answer, or undefined when it is fine. */
  input(message: string, validate: (answer: string) => string | undefined): Promise<string>;
  select(message: string, choices: readonly Choice[], initial?: string): Promise<string>;
  checkbox(
    message: string,
    choices: readonly (Choice & { checked: boolean; disabled?: boolean })[],
  ): Promise<string[]>;
}

/** Prompts on the terminal, through @inquirer/prompts. */
export const terminalPrompter: Prompter = {
  input: (message, validate) => input({ message, validate: (answer) => validate(answer.trim()) ?? true }),
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
