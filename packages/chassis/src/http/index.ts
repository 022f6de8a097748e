export { httpConfigSchema } from './config-schema.js';
export { httpPlugin } from './http-plugin.js';
export { RETRY_AFTER } from './http-problems.js';
export type {
  ApiOperation,
  OpenApi,
  OperationDescriber,
  OperationDescription,
  ProblemResponse,
  ResponseHeader,
} from './openapi-operations.js';
export {
  type FieldError,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  ProblemError,
  type ProblemInit,
  problem,
} from './problem-details.js';
export { REQUEST_ID_HEADER } from './request-id.js';
