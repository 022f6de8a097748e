const check = {
  type: 'object',
  required: ['componentId', 'status', 'time'],
  properties: {
    componentId: { type: 'string' },
    status: { type: 'string', enum: ['pass', 'warn', 'fail'] },
    critical: { type: 'boolean', description: 'Whether a fail of this check fails readiness.' },
    time: { type: 'string', format: 'date-time' },
    durationMs: { type: 'number' },
    output: { type: 'string', description: 'Why the check warns or fails.' },
    observedValue: {},
    observedUnit: { type: 'string' },
  },
  additionalProperties: true,
} as const;

/** The body of the health endpoints (the health+json draft): the document shows it, fastify serialises by it. */
const healthBody = {
  type: 'object',
  required: ['status', 'version', 'serviceId', 'description', 'checks'],
  properties: {
    status: { type: 'string', enum: ['pass', 'warn', 'fail'] },
    version: { type: 'string' },
    serviceId: { type: 'string', description: 'Id of this instance.' },
    description: { type: 'string', description: 'Service name.' },
    checks: {
      type: 'object',
      description: 'The checks, by component id.',
      additionalProperties: { type: 'array', items: check },
    },
  },
} as const;

const answer = (description: string) => ({
  description,
  content: { 'application/health+json': { schema: healthBody } },
});

/** The answers of every health endpoint: 200 (pass or warn) and 503 (fail). */
export const healthResponses = {
  200: answer('The check passes (status pass or warn).'),
  503: answer('The check fails (status fail).'),
} as const;
