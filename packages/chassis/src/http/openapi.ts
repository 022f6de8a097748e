import swagger, { type SwaggerTransform } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import { documentDeclaredProblems, serveDeclaredProblems } from './declared-problems.js';
import { httpProblems } from './http-problems.js';
import {
  describeOperation,
  type OpenApi,
  type OperationDescriber,
  type ProblemResponse,
} from './openapi-operations.js';
import { assignOperationIds } from './operation-ids.js';
import type { PackageMetadata } from './package-metadata.js';
import { PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA_REF, problemSchemas } from './problem-schema.js';

export interface OpenApiSettings {
  title: string;
  version: string;
  package: PackageMetadata;
  servers: readonly string[];
  operationalRoutes: 'hide' | 'describe';
  /** Serve the document at `/openapi.json` and the UI at `/docs`. */
  serve: boolean;
  bodyLimit: number;
  handlerTimeoutMs: number;
}

const isErrorKey = (key: string) => /^[45]/.test(key);

/** A problem response as @fastify/swagger reads a raw response schema with a content map. */
function problemResponse(problem: ProblemResponse): Record<string, unknown> {
  const headers = Object.entries(problem.headers ?? {}).map(([name, header]) => [
    name,
    { ...header.schema, description: header.description },
  ]);
  return {
    description: problem.description,
    ...(headers.length > 0 ? { headers: Object.fromEntries(headers) } : {}),
    content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: PROBLEM_SCHEMA_REF } } },
  };
}

/** A route's own operationId must be unique: a duplicate fails where the route is added. */
function checkOwnOperationIds(app: FastifyInstance): void {
  const owners = new Map<string, string>();
  app.addHook('onRoute', (route) => {
    const id = route.schema?.operationId;
    if (typeof id !== 'string' || route.method === 'HEAD') return;
    const where = `${[route.method].flat().join(',')} ${route.url}`;
    const owner = owners.get(id);
    if (owner !== undefined && owner !== where)
      throw new TypeError(`Route ${where}: operationId "${id}" is already the id of ${owner}`);
    owners.set(id, where);
  });
}

/**
 * The OpenAPI 3.1 document, built by @fastify/swagger from the route schemas, with what each
 * capability adds through `ctx.openapi` (errors as problem+json, security), stable operationIds,
 * and the operational routes hidden or described. Served at `/openapi.json`, with
 * @fastify/swagger-ui at `/docs`, when `serve` is on. Registered before any route so every route
 * is seen.
 */
export async function registerOpenApi(app: FastifyInstance, settings: OpenApiSettings): Promise<OpenApi> {
  const describers: OperationDescriber[] = [httpProblems(settings)];
  const securitySchemes: Record<string, OpenAPIV3_1.SecuritySchemeObject> = {};
  checkOwnOperationIds(app);
  serveDeclaredProblems(app);

  const transform: SwaggerTransform = (input) => {
    const { schema, route } = input;
    // fastify serves a prefixed `/` route at `/prefix` and `/prefix/`, and hands the second over.
    const { prefix, routePath } = route as { prefix?: string; routePath?: string };
    const url = prefix && routePath === '/' && route.prefixTrailingSlash !== 'slash' ? prefix : input.url;
    const own = (schema ?? {}) as FastifySchema & { hide?: boolean; response?: Record<string, unknown> };
    if (route.config?.operational && settings.operationalRoutes === 'hide')
      return { url, schema: { ...own, hide: true } };
    if (own.hide) return { url, schema: own };
    // Looked up by @fastify/swagger while it builds each operation, so in place before the first.
    if (Object.keys(securitySchemes).length > 0 && 'openapiObject' in input)
      (input.openapiObject as { components: OpenAPIV3_1.ComponentsObject }).components.securitySchemes =
        securitySchemes;
    const methods = [route.method].flat().map((method) => method.toUpperCase());
    const { problems, security } = describeOperation(describers, { methods, url, route });
    const response = documentDeclaredProblems(own.response ?? {});
    // Without a success status of its own, the operation keeps @fastify/swagger's default one.
    if (Object.keys(response).every(isErrorKey))
      response[200] = { type: 'null', description: 'Default Response' };
    for (const [status, problem] of problems) {
      // A declared range (`4xx`) is what the server serializes those statuses with: keep it.
      if (response[status] !== undefined || response[`${String(status)[0]}xx`] !== undefined) continue;
      response[status] = problemResponse(problem);
    }
    return { url, schema: { ...own, response, ...(security ? { security } : {}) } as FastifySchema };
  };

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: settings.title,
        version: settings.version,
        ...(settings.package.description ? { description: settings.package.description } : {}),
        ...(settings.package.license
          ? { license: { name: settings.package.license, identifier: settings.package.license } }
          : {}),
      },
      servers: settings.servers.map((url) => ({ url })),
    },
    // Paths are the routes as the service serves them; a server URL's path is a base put before them.
    stripBasePath: false,
    transform,
    transformObject: (input) => {
      const document = ('openapiObject' in input ? input.openapiObject : {}) as OpenAPIV3_1.Document;
      const paths = document.paths ?? {};
      assignOperationIds(paths);
      // Nothing is required of callers unless a capability says so per operation.
      if (Object.keys(securitySchemes).length === 0) document.security = [];
      if (JSON.stringify(paths).includes(PROBLEM_SCHEMA_REF))
        document.components = {
          ...document.components,
          schemas: { ...problemSchemas, ...document.components?.schemas },
        };
      return document;
    },
  });

  if (settings.serve) {
    app.get(
      '/openapi.json',
      {
        config: { operational: true },
        schema: {
          summary: 'This OpenAPI document',
          tags: ['docs'],
          response: {
            200: { description: 'The OpenAPI 3.1 document', type: 'object', additionalProperties: true },
          },
        },
      },
      async () => app.swagger(),
    );
    await app.register(async (docs) => {
      // The UI's page (`/docs`) is the operational route; its assets stay out of the document.
      docs.addHook('onRoute', (route) => {
        route.config = { ...route.config, operational: true };
        if (route.url === '/docs' && route.method === 'GET')
          route.schema = {
            summary: 'The API documentation, browsable (Swagger UI)',
            tags: ['docs'],
            response: {
              200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
            },
          };
      });
      await docs.register(swaggerUi, { routePrefix: '/docs' });
    });
  }

  return {
    describeOperations: (describer) => {
      describers.push(describer);
    },
    addSecurityScheme: (name, scheme) => {
      securitySchemes[name] = scheme;
    },
    document: async () => {
      await app.ready();
      return app.swagger() as OpenAPIV3_1.Document;
    },
  };
}
