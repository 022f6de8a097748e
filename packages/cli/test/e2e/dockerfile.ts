/**
 * Just enough of the Dockerfile format to replay a generated service's image build without a
 * Docker engine: stages with their WORKDIR, ENV, COPY (with --from) and RUN steps, CMD and
 * HEALTHCHECK in exec form. Anything else in a generated Dockerfile is an error, so that a template
 * cannot grow an instruction this replay would silently skip.
 */
export type DockerStep =
  | { kind: 'copy'; from?: string; sources: string[]; destination: string }
  | { kind: 'run'; command: string };

export interface DockerStage {
  name?: string;
  env: Record<string, string>;
  steps: DockerStep[];
  cmd?: string[];
  healthcheck?: string[];
}

export function parseDockerfile(text: string): DockerStage[] {
  const stages: DockerStage[] = [];
  let workdir = '/';
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [, instruction = '', rest = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const stage = stages.at(-1);
    if (instruction === 'FROM') {
      const name = /\sAS\s+(\S+)$/i.exec(rest)?.[1];
      stages.push({ ...(name ? { name } : {}), env: {}, steps: [] });
      workdir = '/';
      continue;
    }
    if (!stage) throw new Error(`${instruction} before FROM`);
    // Paths inside the image are relative to WORKDIR: the replay gives each stage its own folder.
    const local = (path: string) => (path.startsWith(workdir) ? path.slice(workdir.length) || '.' : path);
    switch (instruction) {
      case 'WORKDIR':
        workdir = rest.endsWith('/') ? rest : `${rest}/`;
        break;
      case 'ENV':
        for (const [, key, value] of rest.matchAll(/(\w+)=(\S+)/g))
          stage.env[key as string] = value as string;
        break;
      case 'COPY': {
        const parts = rest.split(/\s+/);
        const from = parts[0]?.startsWith('--from=') ? parts.shift()?.slice('--from='.length) : undefined;
        const destination = parts.pop() as string;
        stage.steps.push({ kind: 'copy', ...(from ? { from } : {}), sources: parts.map(local), destination });
        break;
      }
      case 'RUN':
        stage.steps.push({ kind: 'run', command: rest });
        break;
      case 'CMD':
        stage.cmd = JSON.parse(rest) as string[];
        break;
      case 'HEALTHCHECK':
        stage.healthcheck = JSON.parse(rest.slice(rest.indexOf('CMD') + 3).trim()) as string[];
        break;
      case 'USER':
      case 'EXPOSE':
        break;
      default:
        throw new Error(`the replay does not know ${instruction}`);
    }
  }
  return stages;
}

/**
 * Whether a path (relative to the context) is left out by .dockerignore. Generated services list
 * plain names and paths, which exclude themselves and everything under them; patterns with wildcards
 * or `!` are refused rather than half understood.
 */
export function dockerIgnored(text: string): (path: string) => boolean {
  const entries = text
    .split('\n')
    .map((l) => l.trim().replace(/^\.?\/|\/$/g, ''))
    .filter((l) => l && !l.startsWith('#'));
  const unknown = entries.find((e) => /[*?![\]]/.test(e));
  if (unknown) throw new Error(`.dockerignore pattern "${unknown}" is beyond this replay`);
  return (path) => entries.some((e) => path === e || path.startsWith(`${e}/`));
}
