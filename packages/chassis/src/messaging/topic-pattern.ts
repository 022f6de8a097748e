/**
 * Whether a binding pattern matches a topic, with RabbitMQ topic-exchange semantics: words are
 * separated by `.`, `*` matches exactly one word and `#` zero or more (`orders.#` matches `orders`).
 */
export function topicMatches(pattern: string, topic: string): boolean {
  const words = topic.split('.');
  // The topic positions reachable after the pattern words read so far: linear in the pattern, so a
  // pattern with many `#` cannot make matching blow up the way naive backtracking would.
  let reachable = new Set<number>([0]);
  for (const part of pattern.split('.')) {
    const next = new Set<number>();
    for (const at of reachable) {
      if (part === '#') for (let end = at; end <= words.length; end++) next.add(end);
      else if (at < words.length && (part === '*' || part === words[at])) next.add(at + 1);
    }
    if (next.size === 0) return false;
    reachable = next;
  }
  return reachable.has(words.length);
}
