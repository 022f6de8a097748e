import type { OpenAPIV3_1 } from 'openapi-types';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';
export const PROBLEM_SCHEMA_REF = '#/components/schemas/Problem';

/** The schemas of every error answer: RFC 9457 problem details with Keelson's extension members. */
export const problemSchemas: Record<string, OpenAPIV3_1.SchemaObject> = {
  Problem: {
    type: 'object',
    description: 'An error, as RFC 9457 problem details. Members other than these may be added (extensions).',
    required: ['type', 'title', 'status'],
    properties: {
      type: {
        type: 'string',
        format: 'uri-reference',
        description: 'A URI naming the problem type; about:blank when the status says it all.',
      },
      title: { type: 'string', description: 'Short summary of the problem type.' },
      status: { type: 'integer', minimum: 400, maximum: 599, description: 'The HTTP status code.' },
      detail: { type: 'string', description: 'What went wrong with this request.' },
      instance: { type: 'string', description: 'The path and query of the request.' },
      requestId: {
        type: 'string',
        description: 'Id of the request, also in the x-request-id header: quote it when reporting.',
      },
      errors: {
        type: 'array',
        description: 'One entry per failing field of a request that does not match its schema.',
        items: { $ref: '#/components/schemas/FieldError' },
      },
    },
    additionalProperties: true,
  },
  FieldError: {
    type: 'object',
    required: ['in', 'pointer', 'message'],
    properties: {
      in: { type: 'string', enum: ['body', 'querystring', 'params', 'headers'] },
      pointer: { type: 'string', description: 'JSON pointer to the field inside that part.' },
      message: { type: 'string' },
    },
  },
};
