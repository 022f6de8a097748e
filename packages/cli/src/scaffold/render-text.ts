import { holds } from './template-manifest.js';

/**
 * Applies `@@if <condition>` / `@@else` / `@@endif` line markers (in any comment style; the marker
 * lines are removed, and the lines of false blocks with them) and replaces placeholders.
 */
export function renderText(
  text: string,
  features: Record<string, boolean>,
  placeholders: Record<string, string>,
  where: string,
): string {
  const out: string[] = [];
  const stack: { active: boolean; parentActive: boolean; line: number }[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const marker = /@@(if|else|endif)\b\s*([^*]*?)\s*(?:-->|\*\/)?\s*$/.exec(line.trim());
    const active = stack.length === 0 || (stack.at(-1)?.active ?? true);
    if (marker?.[1] === 'if') {
      stack.push({
        active: active && holds(marker[2] ?? '', features),
        parentActive: active,
        line: index + 1,
      });
    } else if (marker?.[1] === 'else') {
      const top = stack.at(-1);
      if (!top) throw new Error(`${where}:${index + 1}: @@else without @@if`);
      top.active = top.parentActive && !top.active;
    } else if (marker?.[1] === 'endif') {
      if (!stack.pop()) throw new Error(`${where}:${index + 1}: @@endif without @@if`);
    } else if (active) {
      out.push(line);
    }
  });
  const open = stack.at(-1);
  if (open) throw new Error(`${where}:${open.line}: @@if without @@endif`);
  return replacePlaceholders(out.join('\n'), placeholders);
}

export function replacePlaceholders(text: string, placeholders: Record<string, string>): string {
  return text.replace(/__[A-Za-z][A-Za-z_]*?__/g, (match) => placeholders[match] ?? match);
}
